"""Benchmark: one batch task sends and tracks N faxes (default 10,000) against the emulator with a rate limit.

``python -m benchmarks.batch [--rows N] [--rate-limit R]`` runs ``example_fax_batch_large`` under
``airflow dags test`` in a child process (its own AIRFLOW_HOME; triggers run in line there, so the CPU
figure covers the worker and the trigger together, plus Airflow's start-up and DAG parsing) and reports:
CPU per fax, sends and status requests per fax (from the emulator's request counts), the peak number of
faxes in processing and any overlap of two faxes to one number (from the emulator's fax timelines), and
the wall time. The mapped ``SendFaxOperator`` + ``FaxStatusSensor`` comparison is not measured here.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

from benchmarks._common import REPO_ROOT, client_env


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(rows: int, rate_limit: float, max_in_flight: int) -> dict[str, Any]:
    from telnyx_fax_emulator.launcher import start_emulator
    from tests.support.batch_checks import outbound, overlaps_per_number, peak_in_flight

    emulator = start_emulator(rate_limit=rate_limit)
    try:
        env = client_env(emulator)
        env.update(
            {
                "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "example_dags"),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{env['AIRFLOW_HOME']}/airflow.db",
                "EXAMPLE_FAX_BATCH_MAX_IN_FLIGHT": str(max_in_flight),
                "EXAMPLE_FAX_BATCH_SENDS_PER_SECOND": str(rate_limit / 2),
                "EXAMPLE_FAX_BATCH_RETRY_DELAY": "0",
            }
        )
        airflow = str(REPO_ROOT / ".venv" / "bin" / "airflow") if (REPO_ROOT / ".venv").exists() else "airflow"
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
        conf = {"size": rows, "storage_root": f"file://{env['AIRFLOW_HOME']}/storage", "poll_interval": 5}
        cpu_before, started = _cpu_of_children(), time.monotonic()
        done = subprocess.run(
            [airflow, "dags", "test", "example_fax_batch_large", "-c", json.dumps(conf)],
            env=env,
            capture_output=True,
            text=True,
        )
        wall, cpu = time.monotonic() - started, _cpu_of_children() - cpu_before
        faxes = outbound(emulator)
        counts = emulator.requests(limit=0)["counts"]
        sends = sum(count for key, count in counts.items() if key == "POST /v2/faxes")
        lists = sum(count for key, count in counts.items() if key == "GET /v2/faxes")
        gets = sum(count for key, count in counts.items() if key.startswith("GET /v2/faxes/"))
        refused = sum(1 for entry in emulator.requests(limit=50_000)["entries"] if entry["status"] == 429)
        return {
            "rows": rows,
            "faxes": len(faxes),
            "delivered": sum(fax["status"] == "delivered" for fax in faxes),
            "exit": done.returncode,
            "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1),
            "cpu_ms_per_fax": round(1000 * cpu / max(1, len(faxes)), 2),
            "sends_per_fax": round(sends / max(1, len(faxes)), 3),
            "status_requests_per_fax": round((lists + gets) / max(1, len(faxes)), 3),
            "list_pages": lists,
            "single_gets": gets,
            "rate_limited_answers": refused,
            "peak_in_flight": peak_in_flight(faxes),
            "max_in_flight": max_in_flight,
            "same_number_overlaps": len(overlaps_per_number(faxes)),
        }
    finally:
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rate-limit", type=float, default=400.0, help="emulator requests per second")
    parser.add_argument("--max-in-flight", type=int, default=500)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT))
    print(json.dumps(run(args.rows, args.rate_limit, args.max_in_flight), indent=2))


if __name__ == "__main__":
    main()
