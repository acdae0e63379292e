"""Send keys: a stable digest per task instance, destination and document, carried in client_state."""

from __future__ import annotations

import base64
import dataclasses
import json
from types import SimpleNamespace

import pytest

from airflow_provider_telnyx_fax.idempotency import (
    FORMAT_VERSION,
    SendKey,
    decode_client_state,
    document_identity,
    find_sent_faxes,
    user_client_state,
)

KEY = SendKey(
    dag_id="daily_report",
    task_id="send",
    run_id="scheduled__2026-01-05T00:00:00+00:00",
    map_index=-1,
    to="+13125550123",
    document="https://example.com/report.pdf",
)
USER_STATE = base64.b64encode(b"order-42").decode()


def encoded(state: object) -> str:
    return base64.b64encode(json.dumps(state).encode()).decode()


def test_the_digest_is_stable_across_releases():
    # A changed digest would make every retry after an upgrade miss the fax it already sent.
    assert KEY.digest == "131f2ea3db6562e4e05f0724"
    assert KEY.digest == SendKey(**dataclasses.asdict(KEY)).digest


@pytest.mark.parametrize("field", ["dag_id", "task_id", "run_id", "map_index", "to", "document"])
def test_each_part_of_the_identity_changes_the_digest(field):
    changed = dataclasses.replace(KEY, **{field: 3 if field == "map_index" else "other"})

    assert changed.digest != KEY.digest


def test_fields_cannot_run_into_each_other():
    left = dataclasses.replace(KEY, dag_id="a_b", task_id="c")
    right = dataclasses.replace(KEY, dag_id="a", task_id="b_c")

    assert left.digest != right.digest


def test_client_state_round_trips_the_key_the_task_instance_and_the_users_state():
    state = decode_client_state(KEY.client_state(USER_STATE, batch="b1", row="7"))

    assert state == {
        "afx": FORMAT_VERSION,
        "key": KEY.digest,
        "dag": "daily_report",
        "task": "send",
        "run": "scheduled__2026-01-05T00:00:00+00:00",
        "map": -1,
        "user": USER_STATE,
        "batch": "b1",
        "row": "7",
    }
    assert user_client_state(KEY.client_state(USER_STATE)) == USER_STATE


def test_labels_cannot_overwrite_the_key():
    state = decode_client_state(KEY.client_state(key="forged", afx=9))

    assert state is not None
    assert (state["key"], state["afx"]) == (KEY.digest, FORMAT_VERSION)


def test_client_state_is_base64_json_and_the_same_for_the_same_key():
    first, second = KEY.client_state(USER_STATE), dataclasses.replace(KEY).client_state(USER_STATE)

    assert first == second
    assert json.loads(base64.b64decode(first))["key"] == KEY.digest


def test_without_a_users_state_there_is_none_to_give_back():
    assert "user" not in decode_client_state(KEY.client_state())  # type: ignore[operator]
    assert user_client_state(KEY.client_state()) is None


@pytest.mark.parametrize(
    "foreign",
    [None, "", "not base64!", USER_STATE, encoded([1, 2]), encoded({"afx": 2, "key": "k"}), encoded({"afx": 1})],
)
def test_a_client_state_this_provider_did_not_write_is_not_a_send_key(foreign):
    assert decode_client_state(foreign) is None
    assert user_client_state(foreign) == foreign


def test_find_sent_faxes_returns_the_faxes_with_this_key_newest_first():
    other = dataclasses.replace(KEY, to="+13125550199")
    faxes = [
        {"id": "old", "created_at": "2026-01-05T10:00:00Z", "client_state": KEY.client_state()},
        {"id": "other-row", "created_at": "2026-01-05T10:01:00Z", "client_state": other.client_state()},
        {"id": "foreign", "created_at": "2026-01-05T10:02:00Z", "client_state": USER_STATE},
        {"id": "none", "created_at": "2026-01-05T10:03:00Z"},
        {"id": "new", "created_at": "2026-01-05T10:04:00Z", "client_state": KEY.client_state(USER_STATE)},
    ]

    assert [fax["id"] for fax in find_sent_faxes(faxes, KEY)] == ["new", "old"]


def test_the_document_identity_is_the_bytes_of_a_local_document_else_its_url_or_name():
    local = SimpleNamespace(sha256="ab12")

    assert document_identity(local, None, "media-ab12") == "sha256:ab12"
    assert document_identity(None, "https://example.com/a.pdf", None) == "https://example.com/a.pdf"
    assert document_identity(None, None, "statement") == "media:statement"
