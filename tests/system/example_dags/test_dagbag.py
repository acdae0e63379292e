"""Every example DAG imports cleanly: no import errors and no warnings from our package or the examples."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_DAGS = REPO_ROOT / "example_dags"
PACKAGE = REPO_ROOT / "airflow_provider_telnyx_fax"
EXPECTED_DAG_IDS = {
    "example_fax_daily_report",
    "example_fax_batch",
    "example_fax_resend_failed",
    "example_fax_cancel",
    "example_fax_documents",
}
# What an example may import from the provider: the public hooks, operators, sensors and triggers (an
# asset watcher takes a trigger), and the status and send-key helpers. Never the emulator or internals.
PUBLIC_PACKAGES = ("hooks", "operators", "sensors", "triggers")
PUBLIC_MODULES = {
    "airflow_provider_telnyx_fax.models",
    "airflow_provider_telnyx_fax.idempotency",
    "airflow_provider_telnyx_fax.assets",
}


def is_public(module: str) -> bool:
    parts = module.split(".")
    if module in PUBLIC_MODULES:
        return True
    return len(parts) == 3 and parts[1] in PUBLIC_PACKAGES and not parts[2].startswith("_")


def ours(path: str | None) -> bool:
    if not path:
        return False
    resolved = Path(path).resolve()
    return resolved.is_relative_to(EXAMPLE_DAGS) or resolved.is_relative_to(PACKAGE)


@pytest.fixture(scope="module")
def filled_dagbag():
    from airflow.dag_processing.dagbag import DagBag

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dagbag = DagBag(dag_folder=str(EXAMPLE_DAGS), safe_mode=False)
    return dagbag, caught


def test_every_example_dag_loads_without_import_errors(filled_dagbag):
    dagbag, _ = filled_dagbag
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) >= EXPECTED_DAG_IDS


def test_no_warnings_from_our_code_while_parsing(filled_dagbag):
    dagbag, caught = filled_dagbag
    ours_caught = [f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}" for w in caught if ours(w.filename)]
    assert ours_caught == []
    # DagBag also records the warnings each file raised while being parsed.
    per_file = {path: found for path, found in getattr(dagbag, "captured_warnings", {}).items() if ours(path)}
    assert per_file == {}


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAG_IDS))
def test_each_dag_is_documented_and_uses_the_default_connection(filled_dagbag, dag_id):
    dagbag, _ = filled_dagbag
    dag = dagbag.dags[dag_id]
    module = ast.parse(Path(dag.fileloc).read_text())
    assert len(ast.get_docstring(module) or "") > 200, f"{dag.fileloc} needs a module docstring saying what it shows"
    for task in dag.tasks:
        conn_id = getattr(task, "telnyx_conn_id", None) or getattr(task, "partial_kwargs", {}).get("telnyx_conn_id")
        assert conn_id in (None, "telnyx_fax_default"), task.task_id


@pytest.mark.parametrize("path", sorted(EXAMPLE_DAGS.glob("example_fax_*.py")), ids=lambda path: path.name)
def test_examples_import_only_public_provider_modules(path):
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("airflow_provider_telnyx_fax"):
            imported.add(node.module)
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names if alias.name.startswith("airflow_provider_telnyx_fax")}
    assert [module for module in sorted(imported) if not is_public(module)] == []
