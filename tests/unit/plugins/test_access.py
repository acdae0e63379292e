"""Who sees which fax: the configured auth manager's answers, for DAGs known here or not, and faxes of no DAG."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_telnyx_fax.plugins.access import Visibility, may_read_connection, readable_dag_ids, visibility_for
from airflow_provider_telnyx_fax.plugins.fax_rows import fax_row
from tests.support.api import fax_record
from tests.support.faxes_page import ADMIN, RESTRICTED, auth_settings


@pytest.fixture
def users(airflow_db: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The test auth manager: an admin, a viewer limited to ``reports``, and an unlimited viewer."""
    from airflow.api_fastapi import app as api_app
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    for name, value in auth_settings(["reports"]).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(api_app._AuthManagerState, "instance", None)
    api_app.create_auth_manager()
    return {
        ADMIN: SimpleAuthManagerUser(username=ADMIN, role="admin"),
        RESTRICTED: SimpleAuthManagerUser(username=RESTRICTED, role="viewer"),
        "viewer": SimpleAuthManagerUser(username="viewer", role="viewer"),
    }


def test_a_restricted_user_reads_only_their_dags_known_here_or_not(users):
    asked = {"reports", "billing", "a_dag_deleted_long_ago", ""}

    assert readable_dag_ids(users[RESTRICTED], asked) == {"reports"}
    assert readable_dag_ids(users["viewer"], asked) == {"reports", "billing", "a_dag_deleted_long_ago"}
    assert readable_dag_ids(users[ADMIN], []) == frozenset()


def test_faxes_of_no_dag_need_read_access_to_the_connection(users):
    assert may_read_connection(users[ADMIN], "telnyx_fax_default") is True
    # SimpleAuthManager's viewers may not read connections (ops and admins may).
    assert may_read_connection(users["viewer"], "telnyx_fax_default") is False


def test_visibility_of_rows(users):
    from airflow_provider_telnyx_fax.idempotency import SendKey

    def row(dag_id: str | None) -> Any:
        state = SendKey(dag_id, "t", "r", -1, "+1", "d").client_state() if dag_id else None
        return fax_row(fax_record(client_state=state), mask=True)

    rows = [row("reports"), row("billing"), row(None)]

    viewer = visibility_for(users[RESTRICTED], "telnyx_fax_default", rows)
    admin = visibility_for(users[ADMIN], "telnyx_fax_default", rows)

    assert [viewer.allows(item) for item in rows] == [True, False, False]
    assert [admin.allows(item) for item in rows] == [True, True, True]
    assert Visibility(frozenset(), unattributed=True).allows(rows[0]) is False
