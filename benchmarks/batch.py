"""Benchmark: one batch task for 10,000 faxes against the mapped SendFaxOperator + FaxStatusSensor pattern.

``python -m benchmarks.batch [--rows N] [--mapped M] [--speed S] [--rate-limit R] [--max-in-flight F]``
starts the emulator (busy lines on, its in-flight limit set to the batch's ``max_in_flight``, a steady
rate limit) and one real Airflow deployment (api-server, dag-processor, scheduler with LocalExecutor,
triggerer; ``benchmarks/deployment.py``), then, one after the other:

* ``example_fax_batch`` with M recipients (default 200): ``SendFaxOperator.partial(...).expand(to=...)``
  and a mapped deferrable ``FaxStatusSensor``, then its summary task;
* ``example_fax_batch_large`` with N rows (default 10,000; the rows share N/2 numbers, so each number
  gets two faxes): ``SendFaxBatchOperator`` deferring to ``FaxBatchTrigger`` between waves.

For each run: CPU per fax over every process of the deployment from the trigger to the end of the run
(task processes, executor workers, scheduler, triggerer, dag-processor, api-server; the components'
start-up is reported apart), sends and status requests per fax and the answers 429 to sends (the
emulator's request log), faxes failed ``user_busy`` (the emulator's faxes; no number is set to answer
busy, so each would be our own overlap), the peak number in processing and overlaps per number (the
emulator's fax timelines), and the wall time. Prints the figures as JSON and the table as Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._common import REPO_ROOT

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess

MAPPED_DAG = "example_fax_batch"
BATCH_DAG = "example_fax_batch_large"


def emulator_figures(emulator: EmulatorProcess) -> dict[str, Any]:
    """What the emulator saw of one run (it was reset before the run)."""
    from benchmarks.emulator_checks import (
        busy_line_failures,
        outbound,
        overlaps_per_number,
        peak_in_flight,
        refused_sends,
    )

    faxes = outbound(emulator)
    counts = emulator.requests(limit=0)["counts"]
    count = len(faxes) or 1
    sends = counts.get("POST /v2/faxes", 0)
    lists = counts.get("GET /v2/faxes", 0)
    gets = sum(n for key, n in counts.items() if key.startswith("GET /v2/faxes/"))
    return {
        "faxes": len(faxes),
        "delivered": sum(fax["status"] == "delivered" for fax in faxes),
        "sends_per_fax": sends / count,
        "status_requests_per_fax": (lists + gets) / count,
        "list_pages": lists,
        "single_gets": gets,
        "sends_refused_429": refused_sends(emulator),
        "user_busy": len(busy_line_failures(faxes)),
        "peak_in_flight": peak_in_flight(faxes),
        "same_number_overlaps": len(overlaps_per_number(faxes)),
        "numbers": len({fax["to"] for fax in faxes}),
    }


def deferred_sensors(home: Path, run_id_glob: str = "*") -> int:
    """Mapped sensors that went to the triggerer: each leaves a trigger log next to its task log."""
    logs = home / "logs" / f"dag_id={MAPPED_DAG}"
    return len(list(logs.glob(f"run_id={run_id_glob}/task_id=wait/map_index=*/attempt=*.log.trigger.*.log")))


def run(args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.deployment import Deployment
    from telnyx_fax_emulator.launcher import start_emulator

    emulator = start_emulator(
        speed=args.speed, rate_limit=args.rate_limit, max_in_flight=args.max_in_flight, channel_limit=args.channels
    )
    home = Path(tempfile.mkdtemp(prefix="telnyx-fax-bench-airflow-"))
    dags = home / "dags"
    dags.mkdir()
    for name in (MAPPED_DAG, BATCH_DAG):
        shutil.copy(REPO_ROOT / "example_dags" / f"{name}.py", dags)
    env = {
        "AIRFLOW_CONN_TELNYX_FAX_DEFAULT": emulator.airflow_conn_json,
        "EXAMPLE_FAX_BATCH_MAX_IN_FLIGHT": str(args.max_in_flight),
        "EXAMPLE_FAX_BATCH_SENDS_PER_SECOND": str(args.sends_per_second),
        "EXAMPLE_FAX_BATCH_RETRY_DELAY": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "TMPDIR": str(home / "tmp"),
    }
    (home / "tmp").mkdir()
    results: dict[str, Any] = {
        "settings": {
            "rows": args.rows,
            "mapped": args.mapped,
            "speed": args.speed,
            "rate_limit": args.rate_limit,
            "max_in_flight": args.max_in_flight,
            "emulator_max_in_flight": emulator.limits()["max_in_flight"],
            "busy_lines": emulator.limits()["busy_lines"],
            "sends_per_second": args.sends_per_second,
            "poll_interval": args.poll_interval,
        }
    }
    deployment = None
    try:
        deployment = Deployment(home / "airflow", dags, env)
        deployment.wait_until_ready([MAPPED_DAG, BATCH_DAG])
        results["startup_cpu_s"] = deployment.cpu_seconds()
        print(f"-- Airflow ready ({results['startup_cpu_s']:.1f} s CPU to start)", file=sys.stderr, flush=True)

        emulator.reset()
        numbers = [f"+1312666{index:04d}" for index in range(args.mapped)]
        media = "https://example.com/statement.pdf"
        conf = {"recipients": numbers, "media_url": media, "poll_interval": args.poll_interval}
        print(f"-- mapped pattern, {args.mapped} recipients", file=sys.stderr, flush=True)
        mapped = deployment.run_dag(MAPPED_DAG, conf, timeout=args.timeout)
        mapped.update(emulator_figures(emulator))
        mapped["deferred_sensors"] = deferred_sensors(deployment.home)
        results["mapped"] = mapped
        print(f"   {json.dumps(mapped)}", file=sys.stderr, flush=True)

        emulator.reset()
        storage = (home / "storage").as_uri()
        conf = {
            "size": args.rows,
            "numbers": args.rows // 2,
            "storage_root": storage,
            "poll_interval": args.poll_interval,
        }
        print(f"-- batch, {args.rows} rows", file=sys.stderr, flush=True)
        batch = deployment.run_dag(BATCH_DAG, conf, timeout=args.timeout)
        batch.update(emulator_figures(emulator))
        task_logs = (deployment.home / "logs").glob(f"dag_id={BATCH_DAG}/*/task_id=send_batch/attempt=*.log")
        batch["waves"] = sum(log.read_text(errors="replace").count("Wave of ") for log in task_logs)
        results["batch"] = batch
        print(f"   {json.dumps(batch)}", file=sys.stderr, flush=True)
    except BaseException:
        if deployment is not None:
            print(deployment.log_tails(), file=sys.stderr)
        raise
    finally:
        if deployment is not None:
            results["total_cpu_s"] = deployment.stop()
            results["cli_cpu_s"] = deployment.cli_cpu
        emulator.stop()
    for side in ("mapped", "batch"):
        figures = results[side]
        figures["cpu_ms_per_fax"] = 1000 * figures["cpu_s"] / max(1, figures["faxes"])
    results["cpu_ratio_batch_over_mapped"] = results["batch"]["cpu_ms_per_fax"] / results["mapped"]["cpu_ms_per_fax"]
    return results


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def table(results: dict[str, Any]) -> str:
    s, m, b = results["settings"], results["mapped"], results["batch"]
    ratio = results["cpu_ratio_batch_over_mapped"]
    rows = [
        ("figure", f"mapped, {s['mapped']} recipients", f"batch, {s['rows']:,} rows", "target", "verdict"),
        ("run state", m["state"], b["state"], "success", _verdict(m["state"] == b["state"] == "success")),
        (
            "faxes sent / delivered",
            f"{m['faxes']:,} / {m['delivered']:,}",
            f"{b['faxes']:,} / {b['delivered']:,}",
            "one per row, all delivered",
            _verdict(b["faxes"] == b["delivered"] == s["rows"]),
        ),
        (
            "CPU, all Airflow processes, trigger to end of run",
            f"{m['cpu_s']:.1f} s",
            f"{b['cpu_s']:.1f} s",
            "",
            "",
        ),
        (
            "CPU per fax",
            f"{m['cpu_ms_per_fax']:.1f} ms",
            f"{b['cpu_ms_per_fax']:.2f} ms",
            "batch ≤ 1/50 of mapped",
            f"{_verdict(ratio <= 1 / 50)} (1/{1 / ratio:,.0f})",
        ),
        (
            "sends per fax",
            f"{m['sends_per_fax']:.3f}",
            f"{b['sends_per_fax']:.3f}",
            "1",
            _verdict(b["sends_per_fax"] == 1),
        ),
        (
            "status requests per fax (list pages + single GETs)",
            f"{m['status_requests_per_fax']:.2f} ({m['list_pages']} + {m['single_gets']:,})",
            f"{b['status_requests_per_fax']:.3f} ({b['list_pages']:,} + {b['single_gets']:,})",
            "batch ≤ 1",
            _verdict(b["status_requests_per_fax"] <= 1),
        ),
        (
            f"peak faxes in processing (emulator; limit {s['max_in_flight']})",
            str(m["peak_in_flight"]),
            str(b["peak_in_flight"]),
            "≤ max_in_flight",
            _verdict(b["peak_in_flight"] <= s["max_in_flight"]),
        ),
        (
            f"sends refused 429 (in-flight limit {s['emulator_max_in_flight']}, rate limit {s['rate_limit']:g}/s)",
            str(m["sends_refused_429"]),
            str(b["sends_refused_429"]),
            "0",
            _verdict(b["sends_refused_429"] == 0),
        ),
        (
            "faxes failed user_busy (busy lines on; no number set busy)",
            str(m["user_busy"]),
            str(b["user_busy"]),
            "0",
            _verdict(b["user_busy"] == 0),
        ),
        (
            "two faxes to one number overlapping (timelines)",
            str(m["same_number_overlaps"]),
            str(b["same_number_overlaps"]),
            "0",
            _verdict(b["same_number_overlaps"] == 0),
        ),
        ("wall time", f"{m['wall_s']:.0f} s", f"{b['wall_s']:.0f} s", "", ""),
    ]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--mapped", type=int, default=200, help="recipients of the mapped pattern")
    parser.add_argument("--speed", type=float, default=10.0, help="emulator speed (a 1-page fax takes 55 s / speed)")
    parser.add_argument(
        "--channels",
        type=int,
        default=0,
        help="the emulator's channel limit (0: none; this run measures CPU per fax, benchmarks.channels the lines)",
    )
    parser.add_argument("--rate-limit", type=float, default=400.0, help="emulator requests per second")
    parser.add_argument("--max-in-flight", type=int, default=500)
    parser.add_argument("--sends-per-second", type=float, default=200.0)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    # A SIGTERM unwinds like Ctrl-C, so the Airflow components and the emulator are stopped, not orphaned.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = run(args)
    print(json.dumps(results, indent=2))
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
