"""Run the Airflow CLI against a throwaway AIRFLOW_HOME and read the outcome from its SQLite database."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = REPO_ROOT / "example_dags"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


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

    def tail(self, chars: int = 6000) -> str:
        return self.output[-chars:]


class AirflowDB:
    """Read-only queries on the SQLite metadata database of an AIRFLOW_HOME."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    def has_dag(self, dag_id: str) -> bool:
        """Whether the dag-processor has stored the DAG yet (False while the database is still being set up)."""
        try:
            return bool(self._query("SELECT 1 FROM serialized_dag WHERE dag_id = ?", dag_id))
        except sqlite3.Error:
            return False

    def job_type(self, job_id: int) -> str | None:
        rows = self._query("SELECT job_type FROM job WHERE id = ?", job_id)
        return str(rows[0][0]) if rows else None

    def runs(self, dag_id: str) -> list[DagRun]:
        rows = self._query("SELECT run_id, state, logical_date FROM dag_run WHERE dag_id = ? ORDER BY id", dag_id)
        return [DagRun(dag_id, run_id, state, logical_date) for run_id, state, logical_date in rows]

    def task_states(self, dag_id: str, run_id: str) -> dict[tuple[str, int], str | None]:
        rows = self._query(
            "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = ? AND run_id = ?", dag_id, run_id
        )
        return {(task_id, map_index): state for task_id, map_index, state in rows}

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        rows = self._query(
            "SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? AND key = ? AND map_index = ?",
            dag_id,
            run_id,
            task_id,
            key,
            map_index,
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
    return DagRun(run.dag_id, run.run_id, run.state, run.logical_date, output=result.stdout)
