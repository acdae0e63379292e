"""For the Faxes page tests: faxes carrying a task instance's send key, users and their tokens."""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_telnyx_fax.idempotency import SendKey
from tests.support.restricted_auth_manager import READABLE_DAGS_VARIABLE

AUTH_MANAGER = "tests.support.restricted_auth_manager.RestrictedAuthManager"
ADMIN = "admin"
# A viewer who may read only the DAGs given to restricted_users().
RESTRICTED = "batch_viewer"
PASSWORDS = {ADMIN: "admin-password-for-tests", RESTRICTED: "viewer-password-for-tests"}
MEDIA_NAME = "faxes-page-test-document"


def auth_settings(readable: list[str]) -> dict[str, str]:
    """Environment for the restricted auth manager: an admin, and a viewer who reads only ``readable``."""
    return {
        "AIRFLOW__CORE__AUTH_MANAGER": AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin,{RESTRICTED}:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        READABLE_DAGS_VARIABLE: json.dumps({RESTRICTED: readable}),
    }


def send_keyed_fax(
    hook: Any, to: str, *, dag_id: str, task_id: str, run_id: str, map_index: int = -1, user_state: str | None = None
) -> dict[str, Any]:
    """Send a one-page fax whose ``client_state`` carries the send key of that task instance, as the operator does."""
    from telnyx_fax_emulator.documents import blank_pdf

    if not hook.media_exists(MEDIA_NAME):
        hook.upload_media(blank_pdf(1), media_name=MEDIA_NAME)
    key = SendKey(dag_id=dag_id, task_id=task_id, run_id=run_id, map_index=map_index, to=to, document=MEDIA_NAME)
    return dict(hook.send_fax(to, media_name=MEDIA_NAME, client_state=key.client_state(user_state)))
