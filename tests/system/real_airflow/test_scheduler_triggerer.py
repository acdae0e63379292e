"""
A real Airflow on this machine runs the daily report DAG, and the sensor's wait happens in the triggerer.

The test starts the scheduler (LocalExecutor), dag-processor, triggerer and api-server as separate
processes with a fresh AIRFLOW_HOME and SQLite database, triggers ``example_fax_daily_report`` through
the CLI, and watches the metadata database while the run goes on. It checks that the sensor task was
seen ``deferred``, that the triggerer's own log shows our ``FaxStatusTrigger``, and that the emulator
saw the trigger's status polls while the task was off the worker.

The emulator runs slower than usual (speed 6: the four-page report takes about 20 seconds on the line)
and the sensor polls every second, so the wait spans several polls even on a busy machine where each
task takes seconds to start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.airflow_processes import run_cli, wait_until

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess
    from tests.system.real_airflow.conftest import RealAirflow

DAG_ID = "example_fax_daily_report"
SENSOR = "wait_for_delivery"
RUN_TIMEOUT = 240


def test_report_dag_waits_in_the_triggerer(real_airflow: RealAirflow, telnyx_fax_emulator: EmulatorProcess):
    env, home, db, logs = real_airflow.env, real_airflow.home, real_airflow.db, real_airflow.logs
    telnyx_fax_emulator.set_speed(6)

    real_airflow.wait_until_ready_for(DAG_ID)
    unpaused = run_cli(env, "dags", "unpause", DAG_ID, timeout=90)
    assert unpaused.returncode == 0, unpaused.stdout
    storage = Path(env["TMPDIR"]) / "reports"
    conf = f'{{"to": "+15550100000", "rows": 70, "poll_interval": 1, "storage_root": "{storage}"}}'
    triggered = run_cli(env, "dags", "trigger", DAG_ID, "--conf", conf, timeout=90)
    assert triggered.returncode == 0, triggered.stdout

    sensor_states: list[str] = []

    def run_finished() -> str | None:
        runs = db.runs(DAG_ID)
        if not runs:
            return None
        state = db.task_states(DAG_ID, runs[-1].run_id).get((SENSOR, -1))
        if state and (not sensor_states or sensor_states[-1] != state):
            sensor_states.append(state)
        return runs[-1].state if runs[-1].state in ("success", "failed") else None

    final = wait_until(run_finished, RUN_TIMEOUT, "the DAG run to finish", logs, interval=0.2)
    (run,) = db.runs(DAG_ID)
    states = db.task_states(DAG_ID, run.run_id)
    assert final == "success", f"{states}\n" + (logs / "scheduler.log").read_text(errors="replace")[-4000:]
    assert set(states.values()) == {"success"}

    # The sensor left the worker: its task instance was deferred while the trigger polled.
    assert "deferred" in sensor_states, sensor_states
    assert sensor_states[-1] == "success"
    # The triggerer writes what a trigger logs next to the task's log, named after its job id.
    task_logs = home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run.run_id}" / f"task_id={SENSOR}"
    (trigger_log,) = task_logs.glob("attempt=1.log.trigger.*.log")
    triggerer_job_id = int(trigger_log.name.rsplit(".", 2)[-2])
    assert db.job_type(triggerer_job_id) == "TriggererJob"
    trigger_lines = trigger_log.read_text(errors="replace")
    assert '"logger":"airflow_provider_telnyx_fax.triggers.fax.FaxStatusTrigger"' in trigger_lines
    assert trigger_lines.count(" is sending") >= 3, trigger_lines
    assert "Trigger fired event" in trigger_lines
    assert "'status': 'delivered'" in trigger_lines

    (fax,) = [fax for fax in telnyx_fax_emulator.faxes() if fax["direction"] == "outbound"]
    assert fax["status"] == "delivered"
    report = db.xcom(DAG_ID, run.run_id, "record_outcome")
    assert report["fax_id"] == fax["id"]
    assert report["status"] == "delivered"
    assert report["pages"] == telnyx_fax_emulator.fax(fax["id"])["page_count"] >= 3
    # The fax took several seconds and the trigger checked about once a second: several polls.
    polls = telnyx_fax_emulator.request_count("GET", f"/v2/faxes/{fax['id']}")
    assert polls >= 4, polls
