"""Test-session Airflow: a fresh AIRFLOW_HOME and SQLite database, set before Airflow is imported."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent

_airflow_home = Path(tempfile.mkdtemp(prefix="telnyx-fax-tests-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_airflow_home)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(TESTS_DIR / "dags")
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    return _airflow_home


@pytest.fixture(scope="session")
def airflow_db(airflow_home: Path) -> Path:
    """Migrate the session's SQLite metadata database once (about 7 s)."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())
    return airflow_home / "airflow.db"


def make_pdf(path: Path, pages: int) -> Path:
    from telnyx_fax_emulator.documents import blank_pdf

    path.write_bytes(blank_pdf(pages))
    return path


@pytest.fixture
def sample_pdf(tmp_path: Path) -> Path:
    """A real three-page PDF."""
    return make_pdf(tmp_path / "report.pdf", pages=3)
