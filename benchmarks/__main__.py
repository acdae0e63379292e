"""Run every benchmark against a local emulator and print one table: ``python -m benchmarks [--quick]``.

Each client variant runs in a fresh subprocess; the emulator runs in another. Ratios compare figures
measured in the same run. ``--markdown FILE`` also writes the table (plus the machine) as Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from typing import Any

from benchmarks import parse_cost, polls_per_fax, sending, waiting_faxes
from benchmarks._common import REPO_ROOT

Row = tuple[str, str, str, str]  # what, figure, target, verdict


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def machine() -> str:
    import airflow

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    ram = "unknown"
    try:
        with open("/proc/meminfo") as meminfo:
            ram = f"{int(next(line.split()[1] for line in meminfo if line.startswith('MemTotal'))) / 1024**2:.1f} GiB"
    except (OSError, StopIteration):
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {ram} RAM, Python {platform.python_version()}, "
        f"Airflow {airflow.__version__}, {platform.system()} {platform.release()}"
    )


def emulator_throughput(quick: bool) -> str:
    args = ["--requests", "200" if quick else "20000", "--max-secs", "1" if quick else "5"]
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "emulator_throughput.py"), *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    match = re.search(r"([\d,]+) requests/s", done.stdout)
    return f"{match.group(1)} GET/s" if match else f"failed: {done.stderr[-300:]}"


def run(args: argparse.Namespace) -> tuple[list[Row], dict[str, Any]]:
    from telnyx_fax_emulator import start_emulator

    rows: list[Row] = []
    raw: dict[str, Any] = {}
    log = print if not args.quiet else (lambda *_, **__: None)
    emulator = start_emulator()
    try:
        # 1. Many waiting faxes in one triggerer.
        waiting: dict[str, dict[str, Any]] = {}
        for variant in waiting_faxes.VARIANTS:
            log(f"-- 1. {args.faxes} waiting faxes: {variant}", flush=True)
            waiting[variant] = waiting_faxes.measure(
                emulator, variant, args.faxes, speed=args.speed, poll_interval=args.poll_interval
            )
        raw["waiting"] = waiting
        ours = waiting["ours"]
        labels = {
            "ours": "FaxStatusTrigger",
            "http": "providers-http pattern (session per poll)",
            "sdk": "telnyx.AsyncTelnyx per fax",
            "bare": "bare shared aiohttp (floor)",
        }
        for variant, label in labels.items():
            w = waiting[variant]
            delivered = w["outcomes"].get("delivered", 0)
            rows.append((
                f"1. {args.faxes} waiting faxes, {label}",
                f"{w['cpu_ms_per_poll']:.3f} ms CPU/poll, {w['polls_per_fax']:.1f} polls/fax, "
                f"+{w['rss_growth_mb']:.1f} MB peak RSS, {w['wall_s']:.1f} s wall, {delivered}/{args.faxes} delivered",
                "", "",
            ))  # fmt: skip
        for variant, limit in (("http", 0.5), ("sdk", 0.1), ("bare", 1.5)):
            ratio = ours["cpu_ms_per_poll"] / waiting[variant]["cpu_ms_per_poll"]
            rows.append((f"1. CPU/poll ours / {variant}", f"{ratio:.2f}x", f"<= {limit}x", _verdict(ratio <= limit)))
        rows.append((
            "1. peak RSS growth, ours",
            f"{ours['rss_growth_mb']:.1f} MB (over {ours['baseline_rss_mb']:.0f} MB after imports)",
            "< 50 MB",
            _verdict(ours["rss_growth_mb"] < 50),
        ))  # fmt: skip

        # 2. Rate limits at scale.
        log(f"-- 2. {args.faxes} waiting faxes under {args.rate_limit} requests/s", flush=True)
        limited = waiting_faxes.measure(
            emulator, "ours", args.faxes, speed=args.speed, poll_interval=args.poll_interval, rate_limit=args.rate_limit
        )
        raw["rate_limited"] = limited
        answers = limited["answers"]
        delivered = limited["outcomes"].get("delivered", 0)
        demand = args.faxes / args.poll_interval
        rows.append((
            f"2. rate limit {args.rate_limit:g}/s (demand {demand:g}/s)",
            f"{delivered}/{args.faxes} delivered, outcomes {limited['outcomes']}, "
            f"{answers.get('429', 0)} answers 429 / {limited['polls']} GETs "
            f"({answers.get('429', 0) / args.faxes:.1f} per fax), {limited['wall_s']:.1f} s wall",
            "all delivered, 429s bounded",
            _verdict(delivered == args.faxes),
        ))  # fmt: skip

        # 3. Sending.
        sends: dict[str, dict[str, Any]] = {}
        for variant in sending.VARIANTS:
            log(f"-- 3. {args.sends} sends: {variant}", flush=True)
            sends[variant] = sending.measure(emulator, variant, args.sends)
        raw["sending"] = sends
        for variant, label in (("ours", "TelnyxFaxHook.send_fax"), ("http", "HttpHook.run per send"),
                               ("sdk", "telnyx.Telnyx faxes.create")):  # fmt: skip
            s = sends[variant]
            rows.append((
                f"3. {args.sends} sends, {label}",
                f"{s['sends_per_s']:.0f} sends/s, {s['cpu_ms_per_send']:.2f} ms CPU/send",
                "", "",
            ))  # fmt: skip
        for variant, limit in (("http", 1.5), ("sdk", 1.0)):
            ratio = sends["ours"]["sends_per_s"] / sends[variant]["sends_per_s"]
            cpu_ratio = sends["ours"]["cpu_ms_per_send"] / sends[variant]["cpu_ms_per_send"]
            rows.append((
                f"3. sends/s ours / {variant}",
                f"{ratio:.2f}x (CPU/send {cpu_ratio:.2f}x)",
                f">= {limit}x",
                _verdict(ratio >= limit),
            ))  # fmt: skip

        # 5. Polls per fax.
        log("-- 5. polls per 3-page fax", flush=True)
        polls = polls_per_fax.measure(emulator, speed=args.scale, faxes=args.scaled_faxes)
        raw["polls_per_fax"] = polls
        a, s5 = polls["analytic"], polls["scaled"]
        for name, label in (("ours", "default policy (5 s x1.5 up to 15 s)"), ("fixed", "fixed 10 s")):
            rows.append((
                f"5. 3-page fax ({a['completion_s']:.0f} s), {label}",
                f"analytic {a[name + '_calls']} calls, {a[name + '_late_s']:.1f} s late; "
                f"scaled x{polls['speed']:g} run {s5[name]['calls']} calls, {s5[name]['late_s']:.1f} s late",
                "<= 10 calls, <= 15 s" if name == "ours" else "",
                _verdict(max(a["ours_calls"], s5["ours"]["calls"]) <= 10 and s5["ours"]["late_s"] <= 15)
                if name == "ours"
                else "",
            ))  # fmt: skip
        rows.append(("5. worst lateness, default policy, any completion 1 s-15 min", f"{a['ours_worst_late_s']:.1f} s",
                     "<= 15 s", _verdict(a["ours_worst_late_s"] <= 15)))  # fmt: skip
    finally:
        emulator.stop()

    # 4. DAG parse cost (no emulator needed).
    log("-- 4. DAG parse cost", flush=True)
    env = dict(os.environ, AIRFLOW_HOME=tempfile.mkdtemp(prefix="telnyx-fax-bench-airflow-"))
    env.update({"AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PYTHONPATH": str(REPO_ROOT)})
    parse = parse_cost.measure(env, runs=args.runs, dag_limit=1 if args.quick else None, sdk=not args.quick)
    raw["parse"] = parse
    provider, sdk = parse["provider"], parse["telnyx_sdk"]
    rows.append((
        "4. import operators + sensor after airflow.sdk",
        f"{provider['ms']:.1f} ms, {provider['new_modules']} new modules, "
        f"heavy: {', '.join(provider['heavy']) or 'none'}",
        "< 50 ms, no heavy imports",
        _verdict(provider["ms"] < 50 and not provider["heavy"]),
    ))  # fmt: skip
    if sdk is not None:
        rows.append((
            "4. import telnyx (official SDK) after airflow.sdk",
            f"{sdk['ms']:.1f} ms, {sdk['new_modules']} new modules ({provider['ms'] / sdk['ms']:.3f}x ours/SDK)",
            "", "",
        ))  # fmt: skip
    for name, dag in parse["dags"].items():
        errors = f", {len(dag['errors'])} import errors" if dag["errors"] else ""
        rows.append(
            (f"4. parse example_dags/{name}", f"{dag['ms']:.0f} ms (DagBag, {dag['dags']} DAG{errors})", "", "")
        )

    log("-- emulator throughput", flush=True)
    rows.append(("emulator: GET /v2/faxes/{id}, 50 concurrent", emulator_throughput(args.quick), "", ""))
    return rows, raw


def render(rows: list[Row]) -> str:
    header = ("Benchmark", "Result", "Target", "Verdict")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(header)) + " |"]
    lines.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    lines += ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: proves every benchmark runs")
    parser.add_argument("--faxes", type=int, default=1000)
    parser.add_argument("--sends", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per import measurement")
    parser.add_argument("--speed", type=float, default=35 / 12, help="emulator speed for benchmarks 1-2")
    parser.add_argument("--poll-interval", type=float, default=2.0)
    parser.add_argument("--rate-limit", type=float, default=100.0)
    parser.add_argument("--scale", type=float, default=20.0, help="emulator speed for the scaled run of 5")
    parser.add_argument("--scaled-faxes", type=int, default=5)
    parser.add_argument("--json", help="also write the raw figures to this file")
    parser.add_argument("--markdown", help="also write the table and the machine to this file")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.faxes, args.sends, args.runs, args.scaled_faxes = 5, 5, 1, 1
        args.speed, args.poll_interval, args.rate_limit, args.scale = 35 / 0.6, 0.2, 20.0, 100.0
    rows, raw = run(args)
    table = render(rows)
    where = machine()
    print(f"\nMachine: {where}\n")
    print(table)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"machine": where, "rows": rows, "raw": raw}, handle, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as handle:
            handle.write(f"Machine: {where}\n\n{table}\n")
    return 0 if all(row[3] != "MISSED" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
