"""One scaled-out deployment for the module: PostgreSQL, Redis, the emulator and every Airflow component.

Started once (about a minute) and shared by the tests in file order: the examples first, then the faults,
then the checks over everything the run left behind. The figures the tests measure are written to
``.artifacts/scale-out/figures.json`` (and a Markdown table next to it) for ``docs/scale.md``.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.airflow_processes import REPO_ROOT
from tests.support.celery_deployment import running_deployment
from tests.support.services import running_postgres, running_redis

if TYPE_CHECKING:
    from collections.abc import Iterator

    from telnyx_fax_emulator.launcher import EmulatorProcess
    from tests.support.celery_deployment import CeleryDeployment
    from tests.support.services import Postgres

DAG_IDS = ("example_fax_daily_report", "example_fax_batch_large", "example_fax_batch")
FIGURES_DIR = REPO_ROOT / ".artifacts" / "scale-out"


@pytest.fixture(scope="module")
def api_key() -> str:
    """A key no other test uses, so finding it anywhere can only mean this deployment leaked it."""
    return f"KEYscaleOut{secrets.token_hex(16)}"


@pytest.fixture(scope="module")
def emulator(api_key: str) -> Iterator[EmulatorProcess]:
    from telnyx_fax_emulator.launcher import start_emulator

    # No channel limit: this run is about scaling Airflow out (batches on real channels have their own
    # tests), and 300 rows at 10 channels would spend most of it waiting for lines.
    handle = start_emulator(api_key=api_key, channel_limit=0)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def figures() -> Iterator[dict[str, Any]]:
    """What the run measured, by scenario; written out when the module ends."""
    started = time.monotonic()
    measured: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
    }
    yield measured
    measured["module_wall_seconds"] = round(time.monotonic() - started)
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    (FIGURES_DIR / "figures.json").write_text(json.dumps(measured, indent=2, sort_keys=True) + "\n")
    (FIGURES_DIR / "figures.md").write_text(figures_table(measured))


def figures_table(measured: dict[str, Any]) -> str:
    """The figures as the Markdown table in docs/scale.md (paste it there after a run on new hardware)."""
    lines = [
        f"Measured {measured['date']} on {measured['machine']};"
        f" deployment start-up {measured.get('startup_seconds')} s, whole module {measured['module_wall_seconds']} s.",
        "",
        "| scenario | wall time | faxes | detail |",
        "| --- | --- | --- | --- |",
    ]
    for scenario, values in measured.items():
        if isinstance(values, dict) and "wall_seconds" in values:
            detail = "; ".join(
                f"{key.replace('_', ' ')}: {value}"
                for key, value in values.items()
                if key not in ("wall_seconds", "faxes")
            )
            lines.append(
                f"| {scenario.replace('_', ' ')} | {values['wall_seconds']} s | {values['faxes']} | {detail} |"
            )
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, postgres: Postgres, emulator: EmulatorProcess, figures: dict[str, Any]
) -> Iterator[CeleryDeployment]:
    root = tmp_path_factory.mktemp("scale-out")
    started = time.monotonic()
    with (
        running_redis(root) as redis,
        running_deployment(
            root / "airflow-home",
            postgres,
            redis,
            emulator.airflow_conn_json,
            DAG_IDS,
            # The batch example sends at 40 a second (300 rows in about 8 s) and retries a killed try at once.
            EXAMPLE_FAX_BATCH_SENDS_PER_SECOND="40",
            EXAMPLE_FAX_BATCH_RETRY_DELAY="1",
        ) as running,
    ):
        figures["startup_seconds"] = round(time.monotonic() - started)
        figures["private_worker_tmp"] = running.private_tmp
        yield running
