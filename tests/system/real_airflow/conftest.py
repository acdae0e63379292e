"""A real Airflow on this machine: scheduler, dag-processor, triggerer and api-server as separate processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.airflow_processes import AirflowDB, migrate, real_airflow_env, running_components

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from telnyx_fax_emulator.launcher import EmulatorProcess


@pytest.fixture
def real_airflow(
    telnyx_fax_emulator: EmulatorProcess, tmp_path: Path
) -> Iterator[tuple[dict[str, str], Path, AirflowDB]]:
    """Every component on a fresh home (logs in ``component-logs``); every process stopped afterwards."""
    home = tmp_path / "airflow-home"
    env = real_airflow_env(home, telnyx_fax_emulator.airflow_conn_json)
    migrate(env)
    with running_components(env, home / "component-logs"):
        yield env, home, AirflowDB(home / "airflow.db")
