"""
A real Airflow deployment for a benchmark: api-server, dag-processor, scheduler (LocalExecutor) and triggerer.

Each component is started in its own session (``start_new_session``), so every process it starts
(executor workers, task processes, DAG parsers, api-server workers) shares its session id, and is
stopped by process group. CPU is counted over the whole process tree: the benchmark process makes
itself a child subreaper (``PR_SET_CHILD_SUBREAPER``), so even an orphaned task process is reaped
here, and ``cpu_seconds()`` adds the CPU of every reaped descendant (``RUSAGE_CHILDREN``) to what the
live processes of the components' sessions have used so far (``/proc/<pid>/stat``: utime, stime and
the children they reaped). The emulator, a child too, is left out: it is still running (so not in
``RUSAGE_CHILDREN``) and it is not in the components' sessions.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

COMPONENTS = ("api-server", "dag-processor", "scheduler", "triggerer")
PR_SET_CHILD_SUBREAPER = 36
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stat_fields(pid: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    return text[text.rindex(")") + 2 :].split()


class Deployment:
    """One Airflow home with its four components running; ``stop()`` ends them by process group."""

    def __init__(self, home: Path, dags_folder: Path, extra_env: dict[str, str]) -> None:
        from cryptography.fernet import Fernet

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
        self.home = home
        self.logs = home / "component-logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW__")}
        env.update(extra_env)
        env.update(
            {
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "8",
                "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
            }
        )
        self.env = env
        # CPU of the `airflow` CLI calls (db migrate, unpause, trigger): left out of every figure.
        self.cli_cpu = 0.0
        done = self.cli("db", "migrate", timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        for name in COMPONENTS:
            with (self.logs / f"{name}.log").open("wb") as log:
                self.processes[name] = subprocess.Popen(
                    [AIRFLOW, name],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
        self.sessions = {process.pid for process in self.processes.values()}

    # -- CPU -----------------------------------------------------------------------------------

    def live_pids(self) -> list[str]:
        pids = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                fields = _stat_fields(pid)
                if fields is not None and int(fields[3]) in self.sessions:  # field 6: session id
                    pids.append(pid)
        return pids

    def cpu_seconds(self) -> float:
        """CPU used so far by every process of the deployment, live or gone (user + system)."""
        self.reap()
        usage = os.times()
        total = usage.children_user + usage.children_system
        for pid in self.live_pids():
            fields = _stat_fields(pid)
            if fields is not None:  # fields 14-17: utime, stime, cutime, cstime
                total += sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
        return total - self.cli_cpu

    def reap(self) -> None:
        """Collect every exited descendant orphaned to us (their CPU then shows in RUSAGE_CHILDREN)."""
        ours = {process.pid for process in self.processes.values()}
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for process in self.processes.values():
                if process.pid == pid and pid in ours:
                    process.returncode = os.waitstatus_to_exitcode(status)

    # -- driving -------------------------------------------------------------------------------

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        before = os.times()
        done = subprocess.run(
            [AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        after = os.times()
        self.cli_cpu += (after.children_user + after.children_system) - (before.children_user + before.children_system)
        return done

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        try:
            connection = sqlite3.connect(f"file:{self.home / 'airflow.db'}?mode=ro", uri=True, timeout=30)
        except sqlite3.Error:
            return []
        try:
            return connection.execute(sql, params).fetchall()
        except sqlite3.Error:
            return []
        finally:
            connection.close()

    def wait_until_ready(self, dag_ids: list[str], timeout: float = 300) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                healthy = requests.get(f"{self.base_url}/api/v2/monitor/health", timeout=2).status_code == 200
                parsed = {row[0] for row in self.query("SELECT dag_id FROM serialized_dag")}
                if healthy and set(dag_ids) <= parsed:
                    return
            time.sleep(1)
        raise RuntimeError(f"Airflow was not ready within {timeout} s:\n{self.log_tails()}")

    def run_dag(self, dag_id: str, conf: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Unpause, trigger and wait for one run; returns its state, wall time and CPU (all processes)."""
        unpaused = self.cli("dags", "unpause", dag_id)
        if unpaused.returncode != 0:
            raise RuntimeError(unpaused.stdout + unpaused.stderr)
        cpu_before, started = self.cpu_seconds(), time.monotonic()
        triggered = self.cli("dags", "trigger", dag_id, "--conf", json.dumps(conf))
        if triggered.returncode != 0:
            raise RuntimeError(triggered.stdout + triggered.stderr)
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            rows = self.query("SELECT state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", dag_id)
            state = rows[0][0] if rows else None
            if state in ("success", "failed"):
                break
            time.sleep(1)
        # The run is over once its last task reports; the CPU of what is left to wind down counts too.
        time.sleep(2)
        wall, cpu = time.monotonic() - started, self.cpu_seconds() - cpu_before
        task_states = self.query(
            "SELECT task_id, state, count(*) FROM task_instance WHERE dag_id = ? GROUP BY task_id, state", dag_id
        )
        return {"state": state, "wall_s": wall, "cpu_s": cpu, "tasks": [list(row) for row in task_states]}

    def log_tails(self) -> str:
        return "\n".join(
            f"--- {log.name} ---\n{log.read_text(errors='replace')[-2000:]}" for log in sorted(self.logs.glob("*.log"))
        )

    def stop(self, grace: float = 30.0) -> float:
        """SIGTERM each component's group, SIGKILL what is left, reap everything; returns the total CPU."""
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.live_pids() and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.2)
        for pid in self.live_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.live_pids() and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.1)
        return self.cpu_seconds()
