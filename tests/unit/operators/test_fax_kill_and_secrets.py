"""Killing a waiting send cancels its fax; the API key never reaches a task log."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator
from tests.support.task_instances import RecordingTaskInstance

NEVER_FINISHES = "+15550100011"


def test_killing_a_task_that_waits_on_the_worker_cancels_its_fax(telnyx_fax_emulator):
    operator = SendFaxOperator(
        task_id="send",
        to=NEVER_FINISHES,
        media_url="https://example.com/report.pdf",
        wait_for_completion=True,
        deferrable=False,
        poll_interval=0.1,
    )
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            operator.execute({"ti": RecordingTaskInstance()})  # type: ignore[arg-type]
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    [fax] = [telnyx_fax_emulator.wait_for_status(fax["id"], "sending") for fax in _wait_for_faxes(telnyx_fax_emulator)]

    operator.on_kill()
    worker.join(timeout=30)

    assert telnyx_fax_emulator.fax(fax["id"])["failure_reason"] == "sender_canceled"
    assert len(outcome) == 1
    assert isinstance(outcome[0], AirflowFailException)


def _wait_for_faxes(emulator, timeout: float = 10.0) -> list[dict]:
    import time

    deadline = time.monotonic() + timeout
    while not (faxes := emulator.faxes()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return faxes


@pytest.mark.parametrize("number", ["+15550100000", "+15550100010", "+15550100005"])
def test_api_key_is_absent_from_task_logs(run_dag, telnyx_fax_emulator, airflow_home: Path, capfd, number):
    telnyx_fax_emulator.add_fault("GET", "/v2/faxes", "503", count=1)

    run_dag("send_and_wait_deferred", conf={"to": number, "media_url": "https://example.com/report.pdf"})

    captured = capfd.readouterr()
    logs = "".join(path.read_text(errors="replace") for path in airflow_home.rglob("*.log"))
    assert telnyx_fax_emulator.api_key not in captured.out + captured.err
    assert telnyx_fax_emulator.api_key not in logs
    assert "fax" in (captured.out + captured.err).lower()


def test_waiting_on_the_worker_past_wait_timeout_fails_the_try(telnyx_fax_emulator):
    from airflow_provider_telnyx_fax.outcomes import FaxTimeoutError

    operator = SendFaxOperator(
        task_id="send",
        to=NEVER_FINISHES,
        media_url="https://example.com/report.pdf",
        wait_for_completion=True,
        deferrable=False,
        poll_interval=0.1,
        wait_timeout=0.5,
    )

    with pytest.raises(FaxTimeoutError, match=r"still sending after 0\.5s"):
        operator.execute({"ti": RecordingTaskInstance()})  # type: ignore[arg-type]
