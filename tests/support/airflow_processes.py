"""Airflow as real processes: the CLI or the scheduler, triggerer, dag-processor and api-server against a
throwaway AIRFLOW_HOME, stopped by process group; the outcome read from its metadata database."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import requests

from tests.support.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = REPO_ROOT / "example_dags"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
COMPONENTS = ("api-server", "dag-processor", "scheduler", "triggerer")


def airflow_env(home: Path, dags_folder: Path = EXAMPLE_DAGS, **extra: str) -> dict[str, str]:
    """The environment for an Airflow process: its own home and database, our DAGs, no bundled examples."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW__")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # Our own code never needs the network beyond the emulator on loopback.
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    env.update(extra)
    return env


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 180, log: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``airflow <args>``; its combined output is returned and, with ``log``, also written there."""
    result = subprocess.run(
        [AIRFLOW, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    if log is not None:
        log.write_text(result.stdout)
    return result


def migrate(env: dict[str, str]) -> None:
    result = run_cli(env, "db", "migrate", timeout=300)
    assert result.returncode == 0, result.stdout[-4000:]


@dataclass(frozen=True)
class DagRun:
    """One DAG run as the metadata database recorded it."""

    dag_id: str
    run_id: str
    state: str
    logical_date: str | None
    output: str = ""
    returncode: int = 0

    def tail(self, chars: int = 6000) -> str:
        return self.output[-chars:]


class AirflowDB:
    """Read-only queries on a metadata database: the SQLite file of an AIRFLOW_HOME, or any SQLAlchemy URL."""

    def __init__(self, location: Path | str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        if isinstance(location, Path):
            location = f"sqlite:///file:{location}?mode=ro&uri=true"
        # No pool: nothing held open between polls (SQLite locks, PostgreSQL's connection slots).
        self.engine = create_engine(location, poolclass=NullPool)

    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Rows of ``sql``, with ``:name`` placeholders bound from ``params``."""
        from sqlalchemy import text

        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]

    def has_dag(self, dag_id: str) -> bool:
        """Whether the dag-processor has stored the DAG yet (False while the database is still being set up)."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return bool(self.query("SELECT 1 FROM serialized_dag WHERE dag_id = :dag_id", dag_id=dag_id))
        except SQLAlchemyError:
            return False

    def job_type(self, job_id: int) -> str | None:
        rows = self.query("SELECT job_type FROM job WHERE id = :job_id", job_id=job_id)
        return str(rows[0][0]) if rows else None

    def runs(self, dag_id: str) -> list[DagRun]:
        rows = self.query(
            "SELECT run_id, state, logical_date FROM dag_run WHERE dag_id = :dag_id ORDER BY id", dag_id=dag_id
        )
        # PostgreSQL gives datetimes, SQLite strings.
        return [DagRun(dag_id, run_id, state, date and str(date)) for run_id, state, date in rows]

    def task_states(self, dag_id: str, run_id: str) -> dict[tuple[str, int], str | None]:
        rows = self.query(
            "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = :dag_id AND run_id = :run_id",
            dag_id=dag_id,
            run_id=run_id,
        )
        return {(task_id, map_index): state for task_id, map_index, state in rows}

    def try_number(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> int:
        ((tries,),) = self.query(
            "SELECT try_number FROM task_instance WHERE dag_id = :dag_id AND run_id = :run_id AND task_id = :task_id"
            " AND map_index = :map_index",
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            map_index=map_index,
        )
        return int(tries)

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        rows = self.query(
            "SELECT value FROM xcom WHERE dag_id = :dag_id AND run_id = :run_id AND task_id = :task_id"
            " AND key = :key AND map_index = :map_index",
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            key=key,
            map_index=map_index,
        )
        assert rows, f"no XCom {key!r} for {dag_id}.{task_id}[{map_index}] in {run_id}"
        value = rows[0][0]
        return json.loads(value) if isinstance(value, (str, bytes)) else value


def dags_test(
    env: dict[str, str],
    db: AirflowDB,
    dag_id: str,
    logical_date: str | None = None,
    conf: dict[str, Any] | None = None,
    *,
    log_dir: Path | None = None,
    timeout: float = 180,
) -> DagRun:
    """``airflow dags test`` one DAG and return the run it created, with the command's output."""
    before = {run.run_id for run in db.runs(dag_id)}
    args = ["dags", "test", dag_id]
    if logical_date:
        args.append(logical_date)
    if conf is not None:
        args += ["-c", json.dumps(conf)]
    log = log_dir / f"{dag_id}-{len(before)}.log" if log_dir else None
    result = run_cli(env, *args, timeout=timeout, log=log)
    # `dags test` replaces an earlier run of the same logical date, so look for the newest run, not a new id.
    runs = db.runs(dag_id)
    assert runs, f"airflow dags test {dag_id} created no run (exit {result.returncode}):\n{result.stdout[-6000:]}"
    run = runs[-1]
    return DagRun(run.dag_id, run.run_id, run.state, run.logical_date, result.stdout, result.returncode)


def api_server_settings(port: int) -> dict[str, str]:
    """An api-server on loopback ``port`` with secrets of its own; tasks reach its execution API there."""
    return {
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
    }


def real_airflow_env(home: Path, conn_json: str | None, **extra: str) -> dict[str, str]:
    """Scheduler (LocalExecutor), dag-processor, triggerer and api-server settings for a fresh ``home``.

    :param conn_json: the default Telnyx connection as ``AIRFLOW_CONN_TELNYX_FAX_DEFAULT``; None: none from the
        environment (the caller stores one in the metadata database).
    :param extra: settings that override these (another executor or database).
    """
    from cryptography.fernet import Fernet

    home.mkdir()
    (home / "component-logs").mkdir()
    (home / "tmp").mkdir()
    settings = dict(
        **api_server_settings(free_port()),
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__CORE__FERNET_KEY=Fernet.generate_key().decode(),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
        # Only the run this test triggers: unpausing a @daily DAG would otherwise also schedule yesterday.
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME="0.5",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="5",
        AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES="1",
        # The report DAG's default storage root lives under the temp dir: keep it inside this home.
        TMPDIR=str(home / "tmp"),
    )
    env = airflow_env(home, EXAMPLE_DAGS, **{**settings, **extra})
    if conn_json is not None:
        env["AIRFLOW_CONN_TELNYX_FAX_DEFAULT"] = conn_json
    return env


@contextlib.contextmanager
def running_components(env: dict[str, str], logs: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """Start each of ``COMPONENTS`` in its own process group (log in ``logs``); stop them all at the end."""
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in COMPONENTS:
            processes[name] = start_component(env, [name], logs / f"{name}.log")
        yield processes
    finally:
        stop_groups(list(processes.values()))
        still_running = [name for name, process in processes.items() if process.poll() is None]
        assert still_running == [], f"could not stop {still_running}"


def start_component(
    env: dict[str, str], args: Sequence[str], log: Path, *, cwd: Path | None = None, wrapper: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """``airflow <args>`` in a process group of its own, its output in ``log``.

    :param wrapper: a command that runs the component (``unshare ... --``), in the same process.
    """
    with log.open("wb") as output:
        return subprocess.Popen(
            [*wrapper, AIRFLOW, *args],
            env=env,
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


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


def wait_until(condition: Callable[[], Any], timeout: float, what: str, logs: Path, interval: float = 0.5) -> Any:
    """Call ``condition`` until it returns something truthy; on timeout fail with the tails of the logs."""
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


def api_server_healthy(base_url: str) -> bool:
    try:
        return requests.get(f"{base_url}/api/v2/monitor/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def processes_of(home: Path, marker: str) -> list[psutil.Process]:
    """Processes of this Airflow home whose command line (or process title) contains ``marker``."""

    def of_home(process: psutil.Process) -> bool:
        # setproctitle may overwrite a process's own environment block, so ask its ancestors too.
        for candidate in (process, *process.parents()):
            try:
                if candidate.environ().get("AIRFLOW_HOME") == str(home):
                    return True
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return False

    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if marker in " ".join(process.info["cmdline"] or ()) and of_home(process):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found
