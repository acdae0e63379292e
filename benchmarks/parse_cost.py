"""Benchmark 4: what DAG parsing pays for this provider, each figure the median of fresh interpreters.

* import time of the operator and sensor modules in an interpreter that already imported ``airflow.sdk``
  (what a DAG file adds), against ``import telnyx`` (the official SDK) in the same situation, and the
  heavy modules the provider import drags in (a ``sys.modules`` diff);
* the parse time of each example DAG file: ``DagBag(dag_folder=file)`` in a fresh interpreter that already
  imported ``airflow.sdk`` and ``DagBag`` (so it counts the file's own imports and DAG construction).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks._common import REPO_ROOT, median

PROVIDER_MODULES = ("airflow_provider_telnyx_fax.operators.fax", "airflow_provider_telnyx_fax.sensors.fax")
# Modules DAG parsing should never need: document tooling, the emulator and its web stack, async HTTP.
HEAVY_PREFIXES = (
    "pypdf",
    "telnyx_fax_emulator",
    "aiohttp",
    "fastapi",
    "starlette",
    "uvicorn",
    "telnyx",
)

_IMPORT_PROBE = """
import json, sys, time
import airflow.sdk
before = set(sys.modules)
started = time.perf_counter()
for name in {modules!r}:
    __import__(name)
elapsed = time.perf_counter() - started
print(json.dumps({{"ms": elapsed * 1000, "new": sorted(set(sys.modules) - before)}}))
"""

_DAGBAG_PROBE = """
import json, sys, time
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder={path!r})
elapsed = time.perf_counter() - started
errors = {{key: str(value)[:300] for key, value in bag.import_errors.items()}}
print(json.dumps({{"ms": elapsed * 1000, "dags": len(bag.dags), "errors": errors}}))
"""


def _probe(code: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO_ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"probe failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def import_cost(modules: tuple[str, ...], env: dict[str, str], runs: int) -> dict[str, Any]:
    samples = [_probe(_IMPORT_PROBE.format(modules=modules), env) for _ in range(runs)]
    new = samples[-1]["new"]
    heavy = sorted({name.split(".")[0] if not name.startswith("airflow_provider") else name for name in new
                    if name.startswith(HEAVY_PREFIXES)})  # fmt: skip
    top_level = sorted({name.split(".")[0] for name in new})
    return {"ms": median([s["ms"] for s in samples]), "new_modules": len(new), "heavy": heavy, "top_level": top_level}


def dag_parse_costs(env: dict[str, str], runs: int, limit: int | None = None) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for path in sorted((REPO_ROOT / "example_dags").glob("*.py"))[:limit]:
        samples = [_probe(_DAGBAG_PROBE.format(path=str(path)), env) for _ in range(runs)]
        results[Path(path).name] = {
            "ms": median([s["ms"] for s in samples]),
            "dags": samples[-1]["dags"],
            "errors": samples[-1]["errors"],
        }
    return results


def measure(env: dict[str, str], runs: int = 5, dag_limit: int | None = None, sdk: bool = True) -> dict[str, Any]:
    return {
        "provider": import_cost(PROVIDER_MODULES, env, runs),
        "telnyx_sdk": import_cost(("telnyx",), env, runs) if sdk else None,
        "dags": dag_parse_costs(env, max(1, runs // 2), dag_limit),
    }
