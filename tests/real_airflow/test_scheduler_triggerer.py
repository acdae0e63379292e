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

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from tests.example_dags.airflow_runs import AIRFLOW, EXAMPLE_DAGS, AirflowDB, airflow_env, migrate, run_cli

if TYPE_CHECKING:
    from collections.abc import Iterator

    from telnyx_fax_emulator.launcher import EmulatorProcess

DAG_ID = "example_fax_daily_report"
SENSOR = "wait_for_delivery"
COMPONENTS = ("api-server", "dag-processor", "scheduler", "triggerer")
RUN_TIMEOUT = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_groups(processes: list[subprocess.Popen[bytes]], grace: float = 20.0) -> None:
    """SIGTERM each process group we started (a component and its workers), then SIGKILL what is left."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(max(0.1, deadline - time.monotonic()))
    # Workers of a component may outlive it; the group id is still the component's pid.
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)


def wait_until(condition, timeout: float, what: str, logs: Path, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    tails = "\n".join(
        f"--- {log.name} ---\n{log.read_text(errors='replace')[-3000:]}" for log in sorted(logs.glob("*.log"))
    )
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{tails}")


@pytest.fixture
def real_airflow(
    telnyx_fax_emulator: EmulatorProcess, tmp_path: Path
) -> Iterator[tuple[dict[str, str], Path, AirflowDB]]:
    """Scheduler, dag-processor, triggerer and api-server on a fresh home; every process stopped afterwards."""
    from cryptography.fernet import Fernet

    home = tmp_path / "airflow-home"
    home.mkdir()
    logs = home / "component-logs"
    logs.mkdir()
    (home / "tmp").mkdir()
    port = free_port()
    env = airflow_env(
        home,
        EXAMPLE_DAGS,
        AIRFLOW_CONN_TELNYX_FAX_DEFAULT=telnyx_fax_emulator.airflow_conn_json,
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__CORE__FERNET_KEY=Fernet.generate_key().decode(),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}",
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__WORKERS="1",
        AIRFLOW__API__SECRET_KEY=secrets.token_urlsafe(32),
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(32),
        # Only the run this test triggers: unpausing a @daily DAG would otherwise also schedule yesterday.
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME="0.5",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="5",
        AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES="1",
        # The report DAG's default storage root lives under the temp dir: keep it inside this home.
        TMPDIR=str(home / "tmp"),
    )
    migrate(env)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in COMPONENTS:
            with (logs / f"{name}.log").open("wb") as log:
                processes[name] = subprocess.Popen(
                    [AIRFLOW, name],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
        yield env, home, AirflowDB(home / "airflow.db")
    finally:
        stop_groups(list(processes.values()))
        still_running = [name for name, process in processes.items() if process.poll() is None]
        assert still_running == [], f"could not stop {still_running}"


def api_server_healthy(base_url: str) -> bool:
    try:
        return requests.get(f"{base_url}/api/v2/monitor/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_report_dag_waits_in_the_triggerer(real_airflow, telnyx_fax_emulator: EmulatorProcess):
    env, home, db = real_airflow
    logs = home / "component-logs"
    telnyx_fax_emulator.set_speed(6)

    wait_until(lambda: api_server_healthy(env["AIRFLOW__API__BASE_URL"]), 90, "the api-server", logs)
    wait_until(lambda: db.has_dag(DAG_ID), 90, f"the dag-processor to parse {DAG_ID}", logs)
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
