"""A real Airflow on this machine: scheduler, dag-processor, triggerer and api-server as separate processes."""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from tests.support.airflow_processes import (
    AirflowDB,
    api_server_healthy,
    migrate,
    real_airflow_env,
    running_components,
    start_component,
    wait_until,
)

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterator
    from pathlib import Path

    from telnyx_fax_emulator.launcher import EmulatorProcess


@dataclass
class RealAirflow:
    """The running components of one Airflow home, its settings and metadata database."""

    env: dict[str, str]
    home: Path
    db: AirflowDB
    processes: dict[str, subprocess.Popen[bytes]]

    @property
    def logs(self) -> Path:
        return self.home / "component-logs"

    def wait_until_ready_for(self, dag_id: str) -> None:
        """The api-server answers and the dag-processor has stored ``dag_id``."""
        wait_until(lambda: api_server_healthy(self.env["AIRFLOW__API__BASE_URL"]), 180, "the api-server", self.logs)
        wait_until(lambda: self.db.has_dag(dag_id), 180, f"the dag-processor to parse {dag_id}", self.logs)

    def kill_and_replace(self, name: str) -> None:
        """SIGKILL component ``name`` with its whole process group, as a crash would, and start a new one."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(30)
        replacements = len(list(self.logs.glob(f"{name}*.log")))
        self.processes[name] = start_component(self.env, [name], self.logs / f"{name}-{replacements + 1}.log")


@pytest.fixture(scope="package")
def real_airflow(
    telnyx_fax_emulator_server: EmulatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealAirflow]:
    """One deployment for every test of this folder (a start costs about half a minute); stopped at the end.

    Each test resets the emulator and triggers runs of its own. The large-batch example may send 500 faxes a
    second (the emulator's 10 channels pace it, not the rate) and retries after a second; both are read when
    the DAG is parsed.
    """
    home = tmp_path_factory.mktemp("real-airflow") / "airflow-home"
    env = real_airflow_env(
        home,
        telnyx_fax_emulator_server.airflow_conn_json,
        EXAMPLE_FAX_BATCH_SENDS_PER_SECOND="500",
        EXAMPLE_FAX_BATCH_RETRY_DELAY="1",
    )
    migrate(env)
    with running_components(env, home / "component-logs") as processes:
        yield RealAirflow(env, home, AirflowDB(home / "airflow.db"), processes)
