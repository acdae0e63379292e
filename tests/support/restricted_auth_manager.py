"""
A test-only auth manager: Airflow's SimpleAuthManager, with some users limited to some DAGs.

SimpleAuthManager lets every viewer read every DAG, so "a user without access to a DAG" needs this.
``TELNYX_FAX_TEST_READABLE_DAGS`` is JSON ``{"username": ["dag_id", ...]}``: a user named there may
read only those DAGs; everyone else keeps SimpleAuthManager's rules. Configure it with
``[core] auth_manager = tests.support.restricted_auth_manager.RestrictedAuthManager`` (the repository
root on ``PYTHONPATH``).
"""

from __future__ import annotations

import json
import os
from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

READABLE_DAGS_VARIABLE = "TELNYX_FAX_TEST_READABLE_DAGS"


def readable_dags() -> dict[str, list[str]]:
    return dict(json.loads(os.environ.get(READABLE_DAGS_VARIABLE) or "{}"))


class RestrictedAuthManager(SimpleAuthManager):
    """SimpleAuthManager whose users listed in ``TELNYX_FAX_TEST_READABLE_DAGS`` read only their DAGs."""

    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        allowed = readable_dags().get(user.get_name())
        if allowed is not None and (details is None or details.id not in allowed):
            return False
        return bool(super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details))
