"""
Each example DAG end to end under ``airflow dags test`` against the emulator.

Every test runs the real CLI in a subprocess (its own AIRFLOW_HOME and SQLite database, DAGs folder
``example_dags/``), then checks what a user would look at: the run's task states in the metadata
database, the XCom results, and what the fax service (the emulator) actually received.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from pypdf import PdfReader

from airflow_provider_telnyx_fax.idempotency import decode_client_state, user_client_state

if TYPE_CHECKING:
    from pathlib import Path

    from tests.system.example_dags.conftest import ExampleAirflow

DELIVERS = "+15550100000"
BUSY = "+15550100001"  # user_busy: retryable
INVALID = "+15550100005"  # destination_invalid: permanent
CARRIER_LOST = "+15550100004"  # carrier_lost: retryable
NEVER_FINISHES = "+15550100011"


def sent_faxes(airflow: ExampleAirflow) -> list[dict]:
    return [fax for fax in airflow.emulator.faxes() if fax["direction"] == "outbound"]


def test_daily_report_faxes_the_real_pdf_and_waits_in_a_trigger(example_airflow: ExampleAirflow, tmp_path: Path):
    storage = tmp_path / "reports"
    # The report's three pages or more take over 20 s on the line at speed 5, longer than the sensor's 10 s
    # watch on the worker, so the wait is handed to a trigger.
    example_airflow.emulator.set_speed(5)
    run = example_airflow.dags_test(
        "example_fax_daily_report",
        "2026-01-05",
        {"to": DELIVERS, "storage_root": str(storage), "rows": 120, "poll_interval": 1},
    )

    assert run.state == "success", run.tail()
    states = example_airflow.db.task_states(run.dag_id, run.run_id)
    assert states == {
        ("build_report", -1): "success",
        ("send_report", -1): "success",
        ("wait_for_delivery", -1): "success",
        ("record_outcome", -1): "success",
    }
    # The sensor handed its wait to a trigger (dags test runs triggers in line) rather than poking.
    assert "Pausing task as DEFERRED" in run.output
    assert "[DAG TEST] running trigger in line" in run.output

    pdf = storage / "daily-report" / "2026-01-05.pdf"
    pages = len(PdfReader(pdf).pages)
    assert pages >= 3, "a title page and a table over at least two pages"

    faxes = sent_faxes(example_airflow)
    assert len(faxes) == 1
    fax = example_airflow.emulator.fax(faxes[0]["id"])
    assert fax["to"] == DELIVERS
    assert fax["status"] == "delivered"
    assert fax["page_count"] == pages
    assert example_airflow.emulator.request_count("POST", "/v2/media") == 1

    outcome = example_airflow.db.xcom(run.dag_id, run.run_id, "record_outcome")
    assert outcome == {
        "fax_id": fax["id"],
        "to": DELIVERS,
        "status": "delivered",
        "failure_reason": None,
        "pages": pages,
        "day": "2026-01-05",
    }
    assert f"Report 2026-01-05: fax {fax['id']} to {DELIVERS} is delivered, {pages} pages." in run.output


def test_batch_sends_one_fax_per_recipient_and_counts_the_failures(example_airflow: ExampleAirflow, tmp_path: Path):
    recipients = [DELIVERS, BUSY, "+15550100020", DELIVERS]  # the duplicate must not get a second fax
    run = example_airflow.dags_test(
        "example_fax_batch",
        conf={"recipients": recipients, "storage_root": str(tmp_path), "poll_interval": 1},
    )

    # One recipient's fax failed, so the summary (fail_if_any_failed) fails the run after counting.
    assert run.state == "failed", run.tail()
    states = example_airflow.db.task_states(run.dag_id, run.run_id)
    assert {key: state for key, state in states.items() if key[0] == "send"} == {
        ("send", 0): "success",
        ("send", 1): "success",
        ("send", 2): "success",
    }
    fax_ids = [example_airflow.db.xcom(run.dag_id, run.run_id, "send", "fax_id", index) for index in range(3)]
    busy_index = [example_airflow.emulator.fax(fax_id)["to"] for fax_id in fax_ids].index(BUSY)
    assert {key: state for key, state in states.items() if key[0] == "wait"} == {
        ("wait", index): "failed" if index == busy_index else "success" for index in range(3)
    }
    assert states[("summarize", -1)] == "failed"

    faxes = sent_faxes(example_airflow)
    assert sorted(fax["to"] for fax in faxes) == sorted({DELIVERS, BUSY, "+15550100020"})
    assert {fax["to"]: (fax["status"], fax["failure_reason"]) for fax in faxes} == {
        DELIVERS: ("delivered", None),
        "+15550100020": ("delivered", None),
        BUSY: ("failed", "user_busy"),
    }
    # The generated notice was uploaded once and shared by every recipient.
    assert example_airflow.emulator.request_count("POST", "/v2/media") == 1
    assert len({fax["media_name"] for fax in faxes}) == 1

    summary = example_airflow.db.xcom(run.dag_id, run.run_id, "summarize", "summary")
    assert summary == {
        "recipients": 3,
        "sent": 3,
        "delivered": 2,
        "failed": 1,
        "in_flight": 0,
        "failures": {BUSY: "user_busy"},
        "not_sent": [],
    }


def test_resend_failed_sends_each_retryable_failure_once(example_airflow: ExampleAirflow):
    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

    emulator = example_airflow.emulator
    hook = TelnyxFaxHook()
    document = "https://example.com/statements/march.pdf"
    busy = hook.send_fax(BUSY, media_url=document)
    invalid = hook.send_fax(INVALID, media_url=document)
    dropped = hook.send_fax(CARRIER_LOST, media_url=document)
    for fax in (busy, invalid, dropped):
        emulator.wait_for_status(fax["id"], "failed")
    # Someone already redialled the carrier_lost fax successfully: that one needs no resend.
    emulator.set_outcome(CARRIER_LOST, "delivered")
    redialled = hook.send_fax(CARRIER_LOST, media_url=document)
    emulator.wait_for_status(redialled["id"], "delivered")
    # The busy line is free now, so the resend goes through.
    emulator.set_outcome(BUSY, "delivered")
    day = datetime.fromisoformat(busy["created_at"].replace("Z", "+00:00")).astimezone(timezone.utc).date()
    sends_before = emulator.request_count("POST", "/v2/faxes")

    first = example_airflow.dags_test("example_fax_resend_failed", day.isoformat(), {"poll_interval": 1})

    assert first.state == "success", first.tail()
    states = example_airflow.db.task_states(first.dag_id, first.run_id)
    assert states == {("find_failed_faxes", -1): "success", ("resend", 0): "success"}
    assert emulator.request_count("POST", "/v2/faxes") == sends_before + 1
    resends = [fax for fax in sent_faxes(example_airflow) if fax["id"] not in {busy["id"], invalid["id"]}]
    resends = [fax for fax in resends if fax["id"] not in {dropped["id"], redialled["id"]}]
    assert len(resends) == 1
    resend = resends[0]
    assert (resend["to"], resend["media_url"], resend["status"]) == (BUSY, document, "delivered")
    assert decode_client_state(resend["client_state"])["dag"] == "example_fax_resend_failed"
    assert json.loads(base64.b64decode(user_client_state(resend["client_state"]))) == {"resend_of": busy["id"]}

    second = example_airflow.dags_test("example_fax_resend_failed", day.isoformat(), {"poll_interval": 1})

    assert second.state == "success", second.tail()
    assert emulator.request_count("POST", "/v2/faxes") == sends_before + 1, "a second run must not send again"
    states = example_airflow.db.task_states(second.dag_id, second.run_id)
    assert states[("find_failed_faxes", -1)] == "success"
    assert f"already resent as fax {resend['id']} (delivered)" in second.output
    # Nothing left to resend: the mapped task expands to nothing.
    assert {state for (task_id, _), state in states.items() if task_id == "resend"} == {"skipped"}


def test_cancel_ends_with_a_cancelled_fax(example_airflow: ExampleAirflow):
    run = example_airflow.dags_test("example_fax_cancel", conf={"to": NEVER_FINISHES})

    assert run.state == "success", run.tail()
    states = example_airflow.db.task_states(run.dag_id, run.run_id)
    assert states == {("send", -1): "success", ("cancel", -1): "success", ("show_status", -1): "success"}
    (fax,) = sent_faxes(example_airflow)
    assert (fax["to"], fax["status"], fax["failure_reason"]) == (NEVER_FINISHES, "failed", "sender_canceled")
    assert example_airflow.emulator.request_count("POST", "/v2/faxes/*/actions/cancel") == 1
    assert example_airflow.db.xcom(run.dag_id, run.run_id, "show_status") == {
        "fax_id": fax["id"],
        "to": NEVER_FINISHES,
        "status": "failed",
        "failure_reason": "sender_canceled",
    }
