"""
The large-batch example under a real scheduler, LocalExecutor and triggerer, with its processes killed.

* The task process is SIGKILLed in the middle of the batch, on the emulator's 10 channels: the retry lists
  the run's window, adopts every fax already sent and sends the rest, so each row ends with exactly one
  fax, and no more calls were ever up than the channels.
* The triggerer is SIGKILLed while the batch waits deferred, and a new one started: it rebuilds the
  trigger from its kwargs and the run still succeeds, one fax per row.
* Three 3,000-row deferrable batches with busy lines run at once: the scheduler fails none of their tasks
  (apache/airflow#72716 fails a task whose trigger fires within seconds of its deferral; none of ours does).
"""

from __future__ import annotations

import signal
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_telnyx_fax.idempotency import decode_client_state
from airflow_provider_telnyx_fax.models import was_not_dialled
from benchmarks.emulator_checks import faxes_by_row, outbound
from tests.support.airflow_processes import processes_of, run_cli, wait_until

if TYPE_CHECKING:
    from tests.system.real_airflow.conftest import RealAirflow

DAG_ID = "example_fax_batch_large"
TASK = "send_batch"
RUN_TIMEOUT = 300


def start_batch(airflow: RealAirflow, size: int, busy: int = 0, run_id: str | None = None) -> None:
    airflow.wait_until_ready_for(DAG_ID)
    assert run_cli(airflow.env, "dags", "unpause", DAG_ID, timeout=90).returncode == 0
    storage = (airflow.home / "storage").as_uri()
    conf = f'{{"size": {size}, "busy": {busy}, "storage_root": "{storage}", "poll_interval": 1}}'
    named = ["--run-id", run_id] if run_id else []
    triggered = run_cli(airflow.env, "dags", "trigger", DAG_ID, "--conf", conf, *named, timeout=90)
    assert triggered.returncode == 0, triggered.stdout


def finished_run(db: Any) -> Any:
    runs = db.runs(DAG_ID)
    return runs[-1] if runs and runs[-1].state in ("success", "failed") else None


def assert_one_fax_per_row(emulator: Any, size: int) -> None:
    """One fax per row that reached its recipient: dials Telnyx refused for want of a channel reached nobody."""
    by_row = faxes_by_row([fax for fax in outbound(emulator) if not was_not_dialled(fax)])
    assert sorted(by_row) == sorted(f"customer-{index:05d}" for index in range(size))
    assert {row: len(faxes) for row, faxes in by_row.items() if len(faxes) != 1} == {}


@pytest.mark.timeout(600)
def test_a_worker_killed_mid_wave_leaves_exactly_one_fax_per_row(real_airflow: RealAirflow, telnyx_fax_emulator):
    home, db = real_airflow.home, real_airflow.db
    size = 120  # 12 rounds of 10 calls: the batch takes several seconds, whatever the send rate
    start_batch(real_airflow, size)

    sent = wait_until(
        lambda: (count := telnyx_fax_emulator.request_count("POST", "/v2/faxes")) >= 30 and count,
        RUN_TIMEOUT,
        "the batch to be under way",
        real_airflow.logs,
        interval=0.1,
    )
    # The task process is titled after its task instance id; the executor's own workers say LocalExecutor.
    workers = processes_of(home, "airflow worker -- ")
    (task_process,) = [worker for worker in workers if "LocalExecutor" not in " ".join(worker.cmdline())]
    task_process.send_signal(signal.SIGKILL)

    run = wait_until(lambda: finished_run(db), RUN_TIMEOUT, "the run to finish", real_airflow.logs)
    assert run.state == "success", db.task_states(DAG_ID, run.run_id)
    assert sent < size, "the task was killed before its wave was done"
    # The kill cost the try; a later try may also have redialled a retryable failure.
    assert db.try_number(DAG_ID, run.run_id, TASK) >= 2
    assert_one_fax_per_row(telnyx_fax_emulator, size)
    assert telnyx_fax_emulator.channels()["peak"] <= telnyx_fax_emulator.limits()["channel_limit"] == 10


@pytest.mark.timeout(600)
def test_a_triggerer_killed_while_the_batch_waits_does_not_stop_the_run(real_airflow: RealAirflow, telnyx_fax_emulator):
    db = real_airflow.db
    telnyx_fax_emulator.set_speed(3)  # each fax takes about 18 s: the batch waits deferred a while
    size = 10  # one round of the emulator's 10 channels
    start_batch(real_airflow, size)

    def deferred_in_the_triggerer() -> bool:
        runs = db.runs(DAG_ID)
        return bool(runs) and db.task_states(DAG_ID, runs[-1].run_id).get((TASK, -1)) == "deferred"

    wait_until(deferred_in_the_triggerer, RUN_TIMEOUT, "the batch to defer", real_airflow.logs, interval=0.2)
    real_airflow.kill_and_replace("triggerer")

    run = wait_until(lambda: finished_run(db), RUN_TIMEOUT, "the run to finish", real_airflow.logs)
    assert run.state == "success", db.task_states(DAG_ID, run.run_id)
    assert db.try_number(DAG_ID, run.run_id, TASK) == 1
    assert_one_fax_per_row(telnyx_fax_emulator, size)
    assert telnyx_fax_emulator.channels()["peak"] <= 10


@pytest.mark.timeout(900)
def test_three_deferrable_batches_of_3000_rows_are_never_failed_by_the_scheduler(
    real_airflow: RealAirflow, telnyx_fax_emulator
):
    """
    Each batch's last fax stays on the line, so its try defers for it; the faxes then end at once, the
    worst case of apache/airflow#72716 (an event ready seconds after the deferral). The trigger holds it
    until 30 s after the deferral, and the scheduler fails no task.
    """
    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

    db, size, busy = real_airflow.db, 3000, 1
    last_number = f"+1312{5550000 + size - 1:07d}"  # the example's number for the last row
    telnyx_fax_emulator.set_speed(1000)
    # Unlimited channels keep the run short (channels have their own tests); the three last rows share a number.
    telnyx_fax_emulator.set_limits(channel_limit=0, busy_lines=False)
    telnyx_fax_emulator.set_outcome(last_number, "stays_sending")
    run_ids = [f"three_batches_{index}" for index in range(3)]
    for run_id in run_ids:
        start_batch(real_airflow, size, busy=busy, run_id=run_id)

    def all_deferred() -> bool:
        return all(db.task_states(DAG_ID, run_id).get((TASK, -1)) == "deferred" for run_id in run_ids)

    wait_until(all_deferred, 600, "the three batches to wait for their last fax", real_airflow.logs)
    hook = TelnyxFaxHook()
    for fax in outbound(telnyx_fax_emulator):
        if fax["to"] == last_number:
            hook.cancel_fax(fax["id"])

    def all_finished() -> bool:
        states = {run.run_id: run.state for run in db.runs(DAG_ID)}
        return all(states.get(run_id) in ("success", "failed") for run_id in run_ids)

    wait_until(all_finished, 600, "the three runs to finish", real_airflow.logs)

    scheduler_log = "\n".join(path.read_text(errors="replace") for path in real_airflow.logs.glob("scheduler*.log"))
    failed_by_the_scheduler = [
        line for line in scheduler_log.splitlines() if "state attribute is" in line and "three_batches_" in line
    ]
    assert failed_by_the_scheduler == []
    for run_id in run_ids:
        # The rows failed the task, not the scheduler: the busy row each try, the cancelled one for good.
        assert db.try_number(DAG_ID, run_id, TASK) == 3
        summary = db.xcom(DAG_ID, run_id, "summarize")
        assert summary["delivered"] == size - busy - 1, summary
        assert summary["failed"] == {"retryable": busy, "permanent": 1}
    delivered = Counter(
        (state["batch"], state["row"])
        for fax in outbound(telnyx_fax_emulator)
        if fax["status"] == "delivered" and (state := decode_client_state(fax.get("client_state")))
    )
    assert len(delivered) == 3 * (size - busy - 1)
    assert set(delivered.values()) == {1}
