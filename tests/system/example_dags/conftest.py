"""Fixtures for running the example DAGs under the real Airflow CLI against the emulator."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.airflow_processes import AirflowDB, DagRun, airflow_env, dags_test, migrate

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess


@pytest.fixture(scope="session")
def example_airflow_home() -> Path:
    """A fresh AIRFLOW_HOME with its own SQLite database, migrated once for the session."""
    home = Path(tempfile.mkdtemp(prefix="telnyx-fax-example-dags-"))
    migrate(airflow_env(home))
    return home


@dataclass
class ExampleAirflow:
    home: Path
    emulator: EmulatorProcess
    work: Path

    @property
    def db(self) -> AirflowDB:
        return AirflowDB(self.home / "airflow.db")

    def dags_test(
        self, dag_id: str, logical_date: str | None = None, conf: dict[str, Any] | None = None, *, timeout: float = 180
    ) -> DagRun:
        env = airflow_env(self.home, AIRFLOW_CONN_TELNYX_FAX_DEFAULT=self.emulator.airflow_conn_json)
        return dags_test(env, self.db, dag_id, logical_date, conf, log_dir=self.work, timeout=timeout)


@pytest.fixture
def example_airflow(example_airflow_home: Path, telnyx_fax_emulator: EmulatorProcess, tmp_path: Path) -> ExampleAirflow:
    """The session's Airflow home plus a freshly reset emulator; each `dags_test` log lands in tmp_path."""
    return ExampleAirflow(example_airflow_home, telnyx_fax_emulator, tmp_path)
