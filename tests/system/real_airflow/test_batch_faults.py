"""
The large-batch example under a real scheduler, LocalExecutor and triggerer, with its processes killed.

* The task process is SIGKILLed in the middle of its first wave: the retry lists the run's window,
  adopts every fax already sent and sends the rest, so each row ends with exactly one fax.
* The triggerer is SIGKILLed while the batch waits deferred, and a new one started: it rebuilds the
  trigger from its kwargs and the run still succeeds, one fax per row.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Any

import pytest

from benchmarks.emulator_checks import faxes_by_row, outbound
from tests.support.airflow_processes import processes_of, run_cli, wait_until

if TYPE_CHECKING:
    from tests.system.real_airflow.conftest import RealAirflow

DAG_ID = "example_fax_batch_large"
TASK = "send_batch"
RUN_TIMEOUT = 300


def start_batch(airflow: RealAirflow, size: int) -> None:
    airflow.wait_until_ready_for(DAG_ID)
    assert run_cli(airflow.env, "dags", "unpause", DAG_ID, timeout=90).returncode == 0
    conf = f'{{"size": {size}, "storage_root": "{(airflow.home / "storage").as_uri()}", "poll_interval": 1}}'
    triggered = run_cli(airflow.env, "dags", "trigger", DAG_ID, "--conf", conf, timeout=90)
    assert triggered.returncode == 0, triggered.stdout


def finished_run(db: Any) -> Any:
    runs = db.runs(DAG_ID)
    return runs[-1] if runs and runs[-1].state in ("success", "failed") else None


def assert_one_fax_per_row(emulator: Any, size: int) -> None:
    by_row = faxes_by_row(outbound(emulator))
    assert sorted(by_row) == sorted(f"customer-{index:05d}" for index in range(size))
    assert {row: len(faxes) for row, faxes in by_row.items() if len(faxes) != 1} == {}


@pytest.mark.timeout(600)
def test_a_worker_killed_mid_wave_leaves_exactly_one_fax_per_row(real_airflow: RealAirflow, telnyx_fax_emulator):
    home, db = real_airflow.home, real_airflow.db
    size = 120  # at 15 sends a second the first wave takes about 8 s
    start_batch(real_airflow, size)

    sent = wait_until(
        lambda: (count := telnyx_fax_emulator.request_count("POST", "/v2/faxes")) >= 30 and count,
        RUN_TIMEOUT,
        "the first wave to be under way",
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


@pytest.mark.timeout(600)
def test_a_triggerer_killed_while_the_batch_waits_does_not_stop_the_run(real_airflow: RealAirflow, telnyx_fax_emulator):
    db = real_airflow.db
    telnyx_fax_emulator.set_speed(2)  # each fax takes about 18 s: the batch waits deferred a while
    size = 20
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
