"""Test-session Airflow: a fresh AIRFLOW_HOME and SQLite database, set before Airflow is imported."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.airflow_compat import mend_dag_test_on_airflow_3_2
from tests.support.dag_runs import DAGS_FOLDER
from tests.support.documents import make_pdf
from tests.support.inbound import receive_faxes

if TYPE_CHECKING:
    from collections.abc import Callable

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent

_airflow_home = Path(tempfile.mkdtemp(prefix="telnyx-fax-tests-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_airflow_home)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")


SYSTEM_TESTS = TESTS_DIR / "system"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own, which turns the marker into the test's group
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``), every real-Airflow suite runs on one worker, one after another.

    Each starts a deployment of several Airflow processes; two at once on a 2-core machine would starve each
    other's heartbeats. The unit tests spread over the other worker meanwhile.
    """
    for item in items:
        if item.path.is_relative_to(SYSTEM_TESTS):
            item.add_marker(pytest.mark.xdist_group("real-airflow"))


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    return _airflow_home


@pytest.fixture(scope="session")
def airflow_db(airflow_home: Path) -> Path:
    """Migrate the session's SQLite metadata database once (about 7 s)."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())
    return airflow_home / "airflow.db"


@pytest.fixture(scope="session", autouse=True)
def _dag_test_runs_on_airflow_3_2() -> None:
    """Let ``dag.test()`` run tasks on Airflow 3.2.2, the declared minimum (see tests/support/airflow_compat.py)."""
    mend_dag_test_on_airflow_3_2()


@pytest.fixture
def sample_pdf(tmp_path: Path) -> Path:
    """A real three-page PDF."""
    return make_pdf(tmp_path / "report.pdf", pages=3)


@pytest.fixture
def emulator(telnyx_fax_emulator: Any) -> Any:
    """The emulator, a thousand times faster than a fax line: a one-page fax arrives in about 35 ms."""
    telnyx_fax_emulator.set_speed(1000)
    return telnyx_fax_emulator


@pytest.fixture
def receive(emulator: Any) -> Callable[..., list[dict[str, Any]]]:
    """Simulate ``count`` faxes arriving and wait until each is ``received``; returns their control views."""

    def receive(count: int = 1, **kwargs: Any) -> list[dict[str, Any]]:
        return receive_faxes(emulator, count, **kwargs)

    return receive
