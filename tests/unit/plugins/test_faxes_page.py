"""The Faxes page app in process (FastAPI's TestClient) against the emulator, with Airflow's auth manager."""

from __future__ import annotations

import csv
import io
import json
import secrets
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
from airflow_provider_telnyx_fax.plugins.fax_listing import forget_shared_listings
from airflow_provider_telnyx_fax.plugins.fax_rows import CSV_COLUMNS
from airflow_provider_telnyx_fax.plugins.telnyx_fax import PAGE_URL_PREFIX, LazyFaxesPageApp
from tests.support.faxes_page import ADMIN, RESTRICTED, auth_settings, send_keyed_fax

DELIVERS = "+15550100000"
BUSY = "+15550100001"
INVALID = "+15550100005"
# Another line: a second fax to DELIVERS while the first is on it would find the line busy.
ALSO_DELIVERS = "+15550100020"
SHOWN_DAG = "faxes_page_shown"
HIDDEN_DAG = "faxes_page_hidden"
JWT_SECRET = secrets.token_urlsafe(64)
ROUTES = ("/faxes", "/faxes.json", "/faxes.csv", "/static/faxes.js")


@pytest.fixture
def tokens(airflow_db: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Bearer tokens of the admin and of a viewer who may read only ``SHOWN_DAG``, signed by the auth manager."""
    from airflow.api_fastapi import app as api_app
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    for name, value in auth_settings([SHOWN_DAG]).items():
        monkeypatch.setenv(name, value)
    # One secret for the session: the auth manager class caches its token signer and validator.
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", JWT_SECRET)
    monkeypatch.setattr(api_app._AuthManagerState, "instance", None)
    manager = api_app.create_auth_manager()
    return {
        ADMIN: manager.generate_jwt(SimpleAuthManagerUser(username=ADMIN, role="admin")),
        RESTRICTED: manager.generate_jwt(SimpleAuthManagerUser(username=RESTRICTED, role="viewer")),
    }


@pytest.fixture
def client(emulator: Any) -> TestClient:
    """The page's app mounted the way the api-server mounts it, behind the lazy ASGI wrapper."""
    # The emulator was reset: what an earlier test listed is gone.
    forget_shared_listings()
    root = FastAPI()
    root.mount(PAGE_URL_PREFIX, LazyFaxesPageApp())
    return TestClient(root)


@pytest.fixture
def faxes(emulator: Any) -> dict[str, dict[str, Any]]:
    """Three faxes of SHOWN_DAG's run (one mapped task, one busy line), one of HIDDEN_DAG, one received."""
    hook = TelnyxFaxHook()
    sent = {
        "delivered": send_keyed_fax(hook, DELIVERS, dag_id=SHOWN_DAG, task_id="send", run_id="manual__1", map_index=0),
        "busy": send_keyed_fax(hook, BUSY, dag_id=SHOWN_DAG, task_id="send", run_id="manual__1", map_index=1),
        "invalid": send_keyed_fax(hook, INVALID, dag_id=SHOWN_DAG, task_id="other", run_id="manual__2"),
        "hidden": send_keyed_fax(hook, ALSO_DELIVERS, dag_id=HIDDEN_DAG, task_id="send", run_id="manual__1"),
    }
    sent["received"] = emulator.simulate_inbound("+15550177000", to="+15550142000")
    for fax in sent.values():
        emulator.wait_for_status(fax["id"], ("delivered", "failed", "received"), timeout=30)
    return sent


def get(client: TestClient, route: str, token: str | None = None, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(PAGE_URL_PREFIX + route, params=params, headers=headers)


class TestAccess:
    @pytest.mark.parametrize("route", ROUTES)
    def test_an_anonymous_request_is_refused_with_401_on_every_route(self, client, tokens, route):
        answer = get(client, route)

        assert answer.status_code == 401, answer.text

    def test_a_forged_token_is_refused(self, client, tokens):
        assert get(client, "/faxes.json", "not-a-jwt").status_code == 403

    def test_the_session_cookie_of_the_ui_is_accepted(self, client, tokens, faxes):
        client.cookies.set("_token", tokens[ADMIN])

        answer = client.get(PAGE_URL_PREFIX + "/faxes.json")

        assert answer.status_code == 200, answer.text

    def test_a_user_sees_only_faxes_of_dags_they_may_read_and_none_of_no_dag(self, client, tokens, faxes):
        admin = get(client, "/faxes.json", tokens[ADMIN]).json()
        viewer = get(client, "/faxes.json", tokens[RESTRICTED]).json()

        assert {row["fax_id"] for row in admin["rows"]} == {fax["id"] for fax in faxes.values()}
        readable = {faxes[name]["id"] for name in ("delivered", "busy", "invalid")}
        assert {row["fax_id"] for row in viewer["rows"]} == readable
        # Not even how many faxes the other DAGs sent.
        assert viewer["listed"] == 3
        assert viewer["dag_ids"] == [SHOWN_DAG]
        assert {line["dag_id"] for line in viewer["rollup"]} == {SHOWN_DAG}
        assert HIDDEN_DAG not in get(client, "/faxes.csv", tokens[RESTRICTED]).text


class TestWhatThePageShows:
    def test_rows_name_the_task_instance_mask_numbers_and_leave_documents_out(self, client, tokens, faxes):
        view = get(client, "/faxes.json", tokens[ADMIN]).json()
        rows = {row["fax_id"]: row for row in view["rows"]}

        busy = rows[faxes["busy"]["id"]]
        sender = (busy["dag_id"], busy["task_id"], busy["run_id"], busy["map_index"])
        assert sender == (SHOWN_DAG, "send", "manual__1", 1)
        assert busy["task_instance_url"] == f"/dags/{SHOWN_DAG}/runs/manual__1/tasks/send/mapped/1"
        assert (busy["status"], busy["failure_reason"], busy["outcome"]) == ("failed", "user_busy", "failed")
        assert busy["to_number"] == "+1•••••0001"
        assert rows[faxes["invalid"]["id"]]["task_instance_url"] == f"/dags/{SHOWN_DAG}/runs/manual__2/tasks/other"
        received = rows[faxes["received"]["id"]]
        assert (received["direction"], received["dag_id"], received["task_instance_url"]) == ("inbound", "", "")
        text = json.dumps(view)
        for secret in (DELIVERS, BUSY, "faxes-page-test-document", "media_url", "client_state"):
            assert secret not in text
        assert view["masked"] is True

    def test_the_rollup_counts_per_dag_and_per_run(self, client, tokens, faxes):
        lines = get(client, "/faxes.json", tokens[ADMIN]).json()["rollup"]
        counts = {
            (line["dag_id"], line["run_id"]): (line["total"], line["delivered"], line["failed"], line["pending"])
            for line in lines
        }

        assert counts == {
            (SHOWN_DAG, ""): (3, 1, 2, 0),
            (SHOWN_DAG, "manual__1"): (2, 1, 1, 0),
            (SHOWN_DAG, "manual__2"): (1, 0, 1, 0),
            (HIDDEN_DAG, ""): (1, 1, 0, 0),
            (HIDDEN_DAG, "manual__1"): (1, 1, 0, 0),
            ("", ""): (1, 1, 0, 0),
        }
        shown = next(line for line in lines if (line["dag_id"], line["run_id"]) == (SHOWN_DAG, ""))
        assert shown["failed_by_reason"] == [
            {"reason": "destination_invalid", "count": 1},
            {"reason": "user_busy", "count": 1},
        ]

    def test_filters_narrow_the_rows(self, client, tokens, faxes):
        def shown(**filters: str) -> set[str]:
            return {row["fax_id"] for row in get(client, "/faxes.json", tokens[ADMIN], **filters).json()["rows"]}

        assert shown(status="failed") == {faxes["busy"]["id"], faxes["invalid"]["id"]}
        assert shown(direction="inbound") == {faxes["received"]["id"]}
        assert shown(dag_id=HIDDEN_DAG) == {faxes["hidden"]["id"]}
        assert shown(dag_id=SHOWN_DAG, run_id="manual__1") == {faxes["delivered"]["id"], faxes["busy"]["id"]}

    def test_a_filter_the_page_does_not_offer_is_refused_by_name(self, client, tokens):
        answer = get(client, "/faxes.json", tokens[ADMIN], status="sending")

        assert answer.status_code == 400
        assert "'status' must be one of delivered, failed, pending" in answer.json()["detail"]

    def test_only_telnyx_fax_connections_can_be_chosen(self, client, tokens, monkeypatch):
        monkeypatch.setenv("AIRFLOW_CONN_SOME_HTTP", json.dumps({"conn_type": "http", "host": "example.com"}))

        assert get(client, "/faxes.json", tokens[ADMIN]).json()["connections"] == ["telnyx_fax_default"]
        assert get(client, "/faxes.json", tokens[ADMIN], conn_id="some_http").status_code == 404

    def test_the_csv_holds_the_rows_shown_in_their_order(self, client, tokens, faxes):
        rows = get(client, "/faxes.json", tokens[ADMIN], status="failed").json()["rows"]
        answer = get(client, "/faxes.csv", tokens[ADMIN], status="failed")

        assert answer.headers["content-type"].startswith("text/csv")
        table = list(csv.reader(io.StringIO(answer.text)))
        assert table[0] == list(CSV_COLUMNS)
        assert [line[0] for line in table[1:]] == [row["fax_id"] for row in rows]
        # A number starting with + is kept from being read as a spreadsheet formula.
        assert {line[CSV_COLUMNS.index("to_number")] for line in table[1:]} == {"'+1•••••0001", "'+1•••••0005"}


class TestThePageItself:
    def test_without_a_telnyx_fax_connection_the_page_opens_and_says_what_to_add(self, tokens, monkeypatch):
        monkeypatch.delenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", raising=False)
        root = FastAPI()
        root.mount(PAGE_URL_PREFIX, LazyFaxesPageApp())
        client = TestClient(root)

        page = get(client, "/faxes", tokens[ADMIN])
        data = get(client, "/faxes.json", tokens[ADMIN])

        assert page.status_code == 200
        assert data.status_code == 404
        assert data.json()["detail"].startswith("There is no telnyx_fax connection: add one")

    def test_it_sets_a_csp_and_escapes_what_it_echoes(self, client, tokens, emulator):
        answer = get(client, "/faxes", tokens[ADMIN], dag_id="<script>alert(1)</script>", run_id="r")

        assert answer.status_code == 200
        assert answer.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'")
        assert "frame-ancestors 'self'" in answer.headers["content-security-policy"]
        assert "<script>alert(1)</script>" not in answer.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text

    def test_its_script_and_style_are_served_to_a_signed_in_user(self, client, tokens):
        script = get(client, "/static/faxes.js", tokens[ADMIN])

        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert "innerHTML" not in script.text
        assert get(client, "/static/other.js", tokens[ADMIN]).status_code == 404
