"""A scaled-out Airflow on one machine: CeleryExecutor on PostgreSQL and Redis, two workers, two triggerers.

Every component is a real process in its own process group, named (``[core] hostname_callable``, see
:mod:`tests.support.worker_names`) so the metadata database says which worker ran a task and which triggerer
held a trigger. Each worker has its own working directory and temp dir; where the kernel lets us (a mount
namespace, as root), each worker also sees every worker's temp dir as its own empty tmpfs, so a task that reads
a file another task left on a worker's local disk fails here as it would on two machines.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from tests.support.airflow_processes import (
    REPO_ROOT,
    AirflowDB,
    api_server_healthy,
    migrate,
    real_airflow_env,
    run_cli,
    start_component,
    stop_groups,
    wait_until,
)
from tests.support.worker_names import NAME_VARIABLE

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from tests.support.services import Postgres, Redis

WORKERS = ("worker-1", "worker-2")
TRIGGERERS = ("triggerer-1", "triggerer-2")
# Mount a tmpfs on each directory given, then run the command: the same process, in its own mount namespace.
PRIVATE_MOUNTS = (
    'n=$1; shift; while [ "$n" -gt 0 ]; do mount -t tmpfs tmpfs "$1" || exit 97; shift; n=$((n-1)); done; exec "$@"'
)


def private_tmp_wrapper(directories: Iterable[Path]) -> list[str]:
    """The command prefix that gives a worker empty private views of ``directories`` (requires ``unshare``)."""
    paths = [str(path) for path in directories]
    namespace = ["unshare", "--mount", "--propagation", "private", "--"]
    return [*namespace, "sh", "-c", PRIVATE_MOUNTS, "sh", str(len(paths)), *paths]


def private_tmp_supported() -> bool:
    """Whether this machine lets us mount a tmpfs in a new mount namespace (root, not a locked-down container)."""
    with tempfile.TemporaryDirectory() as probe:
        try:
            result = subprocess.run(
                [*private_tmp_wrapper([Path(probe)]), "true"], capture_output=True, timeout=30, check=False
            )
        except OSError:
            return False
        return result.returncode == 0


@dataclass
class CeleryDeployment:
    """The running deployment: its environment, logs, metadata database and processes by name."""

    env: dict[str, str]
    home: Path
    db: AirflowDB
    postgres: Postgres
    storage: Path
    private_tmp: bool
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        return self.home / "component-logs"

    def worker_dir(self, name: str) -> Path:
        return self.home / "workers" / name

    def start(self, name: str) -> subprocess.Popen[bytes]:
        """Start the component ``name`` (``scheduler``, ``worker-1``, ``triggerer-2``, ...) with its own log."""
        env = {**self.env, NAME_VARIABLE: f"{name}@scale-out"}
        log = self.logs / f"{name}.log"
        cwd, wrapper = None, []
        if name in WORKERS:
            cwd = self.worker_dir(name)
            env["TMPDIR"] = str(cwd / "tmp")
            args = ["celery", "worker", "--celery-hostname", f"{name}@scale-out", "--pid", str(cwd / "worker.pid")]
            # Two workers on one host: the log server's port would clash, and the logs are on a shared disk.
            args += ["--concurrency", env["AIRFLOW__CELERY__WORKER_CONCURRENCY"], "--skip-serve-logs"]
            if self.private_tmp:
                wrapper = private_tmp_wrapper(self.worker_dir(worker) / "tmp" for worker in WORKERS)
        elif name in TRIGGERERS:
            args = ["triggerer", "--skip-serve-logs", "--pid", str(self.home / f"{name}.pid")]
        else:
            args = [name]
        if log.exists():  # a replacement keeps the killed one's log
            log = log.with_name(f"{name}-{time.monotonic_ns()}.log")
        self.processes[name] = start_component(env, args, log, cwd=cwd, wrapper=wrapper)
        return self.processes[name]

    def kill(self, name: str) -> float:
        """SIGKILL the component and every process under it, as if its machine were lost; returns when.

        Its whole process group, and the descendants in groups of their own (Airflow's supervisor gives each
        task process, and the triggerer its runner, a new process group).
        """
        process = self.processes.pop(name)
        descendants = psutil.Process(process.pid).children(recursive=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        for descendant in descendants:
            with contextlib.suppress(psutil.NoSuchProcess):
                descendant.kill()
        killed_at = time.monotonic()
        process.wait(30)
        psutil.wait_procs(descendants, timeout=30)
        return killed_at

    def wait(self, condition: Any, what: str, timeout: float = 300, interval: float = 0.5) -> Any:
        return wait_until(condition, timeout, what, self.logs, interval=interval)

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any]) -> None:
        result = run_cli(self.env, "dags", "trigger", dag_id, "--run-id", run_id, "--conf", json.dumps(conf))
        assert result.returncode == 0, result.stdout[-4000:]

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        states = [run.state for run in self.db.runs(dag_id) if run.run_id == run_id]
        return states[0] if states else None

    def wait_for_runs(self, runs: Iterable[tuple[str, str]], timeout: float = 420) -> dict[tuple[str, str], str]:
        """Wait until every (dag_id, run_id) has finished; returns their states."""
        wanted = list(runs)

        def finished() -> dict[tuple[str, str], str] | None:
            states = {run: self.run_state(*run) for run in wanted}
            done = all(state in ("success", "failed") for state in states.values())
            return {run: str(state) for run, state in states.items()} if done else None

        result: dict[tuple[str, str], str] = self.wait(finished, f"the runs {wanted} to finish", timeout, interval=1)
        return result

    def task_hosts(self, dag_id: str, run_id: str) -> dict[tuple[str, int], str | None]:
        """Which worker ran (or runs) each task instance of a run: the name it recorded as its hostname."""
        rows = self.db.query(
            "SELECT task_id, map_index, hostname FROM task_instance WHERE dag_id = :dag_id AND run_id = :run_id",
            dag_id=dag_id,
            run_id=run_id,
        )
        return {(task_id, map_index): hostname or None for task_id, map_index, hostname in rows}

    def triggerer_names(self) -> dict[int, str]:
        """Triggerer job id → the triggerer's name, for every triggerer this deployment has run."""
        rows = self.db.query("SELECT id, hostname FROM job WHERE job_type = 'TriggererJob'")
        return {int(job_id): str(hostname).split("@")[0] for job_id, hostname in rows}

    def live_triggerers(self, threshold: float = 10) -> list[str]:
        """The triggerers whose job heartbeat is recent (what Airflow asks before handing them triggers)."""
        rows = self.db.query(
            "SELECT hostname FROM job WHERE job_type = 'TriggererJob' AND state = 'running'"
            " AND latest_heartbeat > CURRENT_TIMESTAMP - make_interval(secs => :threshold)",
            threshold=threshold,
        )
        return sorted(str(hostname).split("@")[0] for (hostname,) in rows)

    def triggers(self) -> list[tuple[int, str, str | None]]:
        """Every trigger in the table: id, class path and the name of the triggerer holding it (None: nobody)."""
        names = self.triggerer_names()
        rows = self.db.query("SELECT id, classpath, triggerer_id FROM trigger ORDER BY id")
        return [
            (int(trigger_id), str(path), names.get(holder) if holder else None) for trigger_id, path, holder in rows
        ]


def scale_out_env(home: Path, postgres: Postgres, redis: Redis, **extra: str) -> dict[str, str]:
    """The settings every component shares: CeleryExecutor, PostgreSQL, Redis, quick failure detection."""
    return real_airflow_env(
        home,
        None,  # the connection lives in the metadata database, as in a real deployment
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        AIRFLOW__CORE__PARALLELISM="16",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__CORE__HOSTNAME_CALLABLE="tests.support.worker_names.component_hostname",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgres.url(),
        AIRFLOW__CELERY__BROKER_URL=redis.url(),
        AIRFLOW__CELERY__RESULT_BACKEND="db+" + postgres.url(),
        AIRFLOW__CELERY__WORKER_CONCURRENCY="4",
        # Five triggers each: the examples' waits are split over both triggerers, not all taken by the first.
        AIRFLOW__TRIGGERER__CAPACITY="5",
        # A triggerer that stops heartbeating loses its triggers to a live one after this long.
        AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC="2",
        AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD="15",
        # A task whose worker vanished is failed (and retried) after this long without a heartbeat.
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT="40",
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL="3",
        # ``tests.support.worker_names`` for the hostname callable; the DAGs and provider are installed.
        PYTHONPATH=str(REPO_ROOT),
        # Celery refuses root only with pickle; Airflow's messages are JSON. CI runs as root.
        C_FORCE_ROOT="true",
        **extra,
    )


@contextlib.contextmanager
def running_deployment(
    home: Path, postgres: Postgres, redis: Redis, conn_json: str, dag_ids: Iterable[str], **extra: str
) -> Iterator[CeleryDeployment]:
    """Migrate, store the Telnyx connection, start every component, wait until all are ready; stop them after."""
    env = scale_out_env(home, postgres, redis, **extra)
    storage = home / "shared-storage"  # stands in for object storage every worker reaches (s3://, gs://)
    storage.mkdir()
    for worker in WORKERS:
        (home / "workers" / worker / "tmp").mkdir(parents=True)
    migrate(env)
    added = run_cli(env, "connections", "add", "telnyx_fax_default", "--conn-json", conn_json, timeout=120)
    assert added.returncode == 0, added.stdout[-3000:]
    deployment = CeleryDeployment(
        env, home, AirflowDB(postgres.url()), postgres, storage, private_tmp=private_tmp_supported()
    )
    try:
        for name in ("scheduler", "dag-processor", "api-server", *TRIGGERERS, *WORKERS):
            deployment.start(name)
        deployment.wait(lambda: api_server_healthy(env["AIRFLOW__API__BASE_URL"]), "the api-server", 180)
        for dag_id in dag_ids:
            deployment.wait(lambda dag_id=dag_id: deployment.db.has_dag(dag_id), f"{dag_id} to be parsed", 180)
        deployment.wait(lambda: deployment.live_triggerers() == sorted(TRIGGERERS), "both triggerers", 180)
        for worker in WORKERS:
            log = deployment.logs / f"{worker}.log"
            deployment.wait(lambda log=log: " ready." in log.read_text(errors="replace"), f"{worker} to be ready", 180)
        yield deployment
    finally:
        stop_groups(list(deployment.processes.values()))
