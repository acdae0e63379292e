"""
The demo: fax a generated multi-page report with Apache Airflow through a local Telnyx Fax emulator.

No Telnyx account and no network: the emulator plays Telnyx on a loopback port. The script starts it,
prepares a persistent Airflow home under ``.airflow-demo/`` (the database is migrated only the first
time), runs the ``example_fax_daily_report`` DAG end to end with ``airflow dags test``, prints what
happened, stops the emulator and exits 0 when the fax was delivered (1 otherwise).

Run it with ``bash scripts/demo.sh`` (which sets up the pinned virtualenv first), or directly with the
virtualenv's Python: ``python scripts/demo.py [--demo-dir DIR] [--to NUMBER] [--keep-emulator]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DAG_ID = "example_fax_daily_report"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--demo-dir",
        type=Path,
        default=Path(os.environ.get("TELNYX_FAX_DEMO_DIR") or REPO_ROOT / ".airflow-demo"),
        help="where the Airflow home, reports and logs live (default: .airflow-demo/ or $TELNYX_FAX_DEMO_DIR)",
    )
    parser.add_argument("--to", default="+15550100000", help="destination; +15550100001 answers busy, for example")
    parser.add_argument("--speed", default="40", help="emulator speed, times faster than a real fax line")
    parser.add_argument(
        "--keep-emulator", action="store_true", help="keep the emulator (and its inbox) up until Ctrl-C"
    )
    return parser.parse_args(argv)


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def airflow_env(home: Path, conn_json: str) -> dict[str, str]:
    """Only this demo's settings: any AIRFLOW__* of the caller's shell could point at another Airflow."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW_CONN_TELNYX_FAX_DEFAULT": conn_json,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    return env


def prepare_airflow_home(home: Path, env: dict[str, str], log_dir: Path) -> None:
    if (home / "airflow.db").exists():
        step(f"reusing the Airflow home {home}")
        return
    step(f"creating the Airflow home {home} (first run only, about 15 s)")
    home.mkdir(parents=True, exist_ok=True)
    log = log_dir / "db-migrate.log"
    with log.open("w") as output:
        result = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=env, stdout=output, stderr=subprocess.STDOUT, check=False
        )
    if result.returncode != 0:
        (home / "airflow.db").unlink(missing_ok=True)
        raise SystemExit(f"airflow db migrate failed; see {log}")


def latest_run(db: Path) -> tuple[str, str, Any] | None:
    """The newest run of the report DAG: run id, state and the record_outcome XCom (or None)."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = connection.execute(
            "SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (DAG_ID,)
        ).fetchone()
        if row is None:
            return None
        xcom = connection.execute(
            "SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = 'record_outcome' "
            "AND key IN ('return_value', 'outcome') AND map_index = -1",
            (DAG_ID, row[0]),
        ).fetchone()
    finally:
        connection.close()
    outcome = json.loads(xcom[0]) if xcom and isinstance(xcom[0], (str, bytes)) else None
    return row[0], row[1], outcome


def line_seconds(fax: dict[str, Any]) -> float | None:
    """Seconds from Telnyx accepting the fax to its final status, from the emulator's timeline."""
    timeline = fax.get("timeline") or []
    if len(timeline) < 2:
        return None
    start, end = (datetime.fromisoformat(t["at"].replace("Z", "+00:00")) for t in (timeline[0], timeline[-1]))
    return (end - start).total_seconds()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(REPO_ROOT))
    from telnyx_fax_emulator.launcher import start_emulator

    demo_dir = args.demo_dir.resolve()
    home = demo_dir / "airflow-home"
    logs = demo_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    event_log = logs / "emulator-events.jsonl"

    step("starting the Telnyx Fax emulator")
    emulator = start_emulator(speed=args.speed, event_log=event_log)
    try:
        env = airflow_env(home, emulator.airflow_conn_json)
        prepare_airflow_home(home, env, logs)

        today = datetime.now(timezone.utc).date().isoformat()
        conf = {"to": args.to, "storage_root": str(demo_dir / "reports"), "poll_interval": 1}
        run_log = logs / "last-run.log"
        step(f"running {DAG_ID} for {today} with `airflow dags test` (log: {run_log})")
        started = time.monotonic()
        with run_log.open("w") as output:
            subprocess.run(
                [AIRFLOW, "dags", "test", DAG_ID, today, "-c", json.dumps(conf)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=600,
            )
        took = time.monotonic() - started

        run = latest_run(home / "airflow.db")
        faxes = [fax for fax in emulator.faxes() if fax["direction"] == "outbound"]
        fax = emulator.fax(faxes[-1]["id"]) if faxes else None
        state = run[1] if run else "not created"
        outcome = run[2] if run else None

        print()
        print(f"DAG run:       {DAG_ID} {run[0] if run else ''} -> {state}")
        if fax is not None:
            reason = f" ({fax['failure_reason']})" if fax.get("failure_reason") else ""
            seconds = line_seconds(fax)
            print(f"Fax id:        {fax['id']}")
            print(f"Destination:   {fax['to']}")
            report = demo_dir / "reports" / "daily-report" / f"{(outcome or {}).get('day', today)}.pdf"
            print(f"Pages:         {fax['page_count']} ({report})")
            print(f"Final status:  {fax['status']}{reason}")
            line = f", {seconds:.1f} s on the emulated line at {args.speed}x speed" if seconds is not None else ""
            print(f"Took:          {took:.1f} s for the whole DAG run{line}")
        else:
            print("Fax:           none was sent")
        print(f"Event log:     {event_log}")
        print(f"Web inbox:     {emulator.root_url}/")
        print(f"Airflow log:   {run_log}")
        if outcome and outcome.get("pages") is not None and fax is not None and outcome["pages"] != fax["page_count"]:
            print(f"Warning: the report had {outcome['pages']} pages but the fax carried {fax['page_count']}.")

        delivered = state == "success" and fax is not None and fax["status"] == "delivered"
        if not delivered:
            print(f"\nThe demo run did not deliver the fax. Last lines of {run_log}:")
            print("\n".join(run_log.read_text(errors="replace").splitlines()[-25:]))
        if not args.keep_emulator:
            print("\nThe emulator and its inbox stop now; run with --keep-emulator to browse the inbox afterwards.")
        else:
            print(f"\nThe emulator keeps running at {emulator.root_url}/ ; press Ctrl-C to stop it.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        return 0 if delivered else 1
    finally:
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
