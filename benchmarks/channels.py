"""
Benchmark: a batch on a real account's channels, against the physical limit and the loop a user writes.

``python -m benchmarks.channels [--rows N] [--channels C] [--speed S]`` starts the emulator with C
channels (default 10, a verified Telnyx account) and line times scaled by S (default 10: a one-page fax
takes 5.5 s instead of 55 s), then, in the same run and one after the other:

* **one fax alone**: its line time L, from the send to its end (queueing, media processing, the call);
* **the SDK loop**: what a user writes without the provider, ``telnyx.Telnyx(...).faxes.create`` for every
  row, then a wait until every fax has ended;
* **the batch**: ``SendFaxBatchOperator`` with its defaults (no ``channel_limit``: it learns the ceiling),
  deferrable, one try, run with ``dag.test()`` in a fresh Airflow home.

For each: delivered in one try, wasted dials (channel-limit refusals ÷ dials, from the emulator's
``/_emulator/channels``), the peak of calls up, and the wall time from the first send to the last fax's
end against the ideal ``ceil(N / C) * L``. Prints JSON, then a Markdown table. The mapped
``SendFaxOperator`` + sensor pattern needs a scheduler, so ``benchmarks.batch`` measures it.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from typing import Any

from benchmarks._common import REPO_ROOT, client_env
from benchmarks.emulator_checks import epoch, outbound

MEDIA_URL = "https://example.com/statement.pdf"


def numbers(count: int) -> list[str]:
    return [f"+1312555{index:04d}" for index in range(count)]


def phase_figures(emulator: Any, rows: int) -> dict[str, Any]:
    """What the emulator saw of one phase (it was reset before it)."""
    faxes = outbound(emulator)
    channels = emulator.channels()
    refused = sum(count for reason, count in channels["refused_at_limit"].items() if "channel_limit" in reason)
    delivered = {fax["to"] for fax in faxes if fax["status"] == "delivered"}
    start = min(epoch(fax["created_at"]) for fax in faxes)
    end = max(epoch(fax["updated_at"]) for fax in faxes)
    return {
        "rows": rows,
        "delivered": len(delivered),
        "sends": len(faxes),
        "dials": channels["dials"],
        "refused_for_channels": refused,
        # The emulator's dials are the calls that got a channel; a refused dial is a dial too.
        "wasted_dials": refused / max(channels["dials"] + refused, 1),
        "peak_calls": channels["peak"],
        "wall_s": end - start,
    }


def wait_until_ended(emulator: Any, count: int) -> None:
    while sum(fax["status"] in ("delivered", "failed") for fax in outbound(emulator)) < count:
        time.sleep(0.2)


def send(client: Any, emulator: Any, to: str) -> None:
    client.faxes.create(connection_id=emulator.connection_id, from_=emulator.from_number, to=to, media_url=MEDIA_URL)


def line_time(emulator: Any) -> float:
    """One fax alone, from its send to its end."""
    import telnyx

    client = telnyx.Telnyx(api_key=emulator.api_key, base_url=emulator.base_url)
    send(client, emulator, numbers(1)[0])
    wait_until_ended(emulator, 1)
    (fax,) = outbound(emulator)
    return epoch(fax["updated_at"]) - epoch(fax["created_at"])


def sdk_loop(emulator: Any, rows: int) -> None:
    """The loop a user writes: one create per row, as fast as the API answers."""
    import telnyx

    client = telnyx.Telnyx(api_key=emulator.api_key, base_url=emulator.base_url)
    for to in numbers(rows):
        send(client, emulator, to)
    wait_until_ended(emulator, rows)


def batch(emulator: Any, rows: int) -> dict[str, Any]:
    """The batch with its defaults, run by ``airflow dags test`` in a fresh Airflow home."""
    import sqlite3
    from pathlib import Path

    env = client_env(emulator)
    home = Path(env["AIRFLOW_HOME"])
    dags = home / "dags"
    dags.mkdir(parents=True)
    (dags / "bench_channels.py").write_text(BENCH_DAG.format(rows=rows, media_url=MEDIA_URL))
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", "bench_channels"],
        env=env,
        cwd=REPO_ROOT,
        check=False,
        capture_output=True,
        text=True,
    )
    with sqlite3.connect(home / "airflow.db") as db:
        found = db.execute("SELECT state, try_number FROM task_instance WHERE dag_id = 'bench_channels'").fetchone()
    if found is None:
        raise RuntimeError(f"the batch did not run:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return {"state": found[0], "tries": found[1]}


BENCH_DAG = """
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_telnyx_fax.operators.batch import SendFaxBatchOperator

with DAG("bench_channels", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    SendFaxBatchOperator(
        task_id="send",
        recipients=[f"+1312555{{index:04d}}" for index in range({rows})],
        media_url="{media_url}",
        deferrable=True,
    )
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    from telnyx_fax_emulator.launcher import start_emulator

    with start_emulator(speed=args.speed, channel_limit=args.channels) as emulator:
        line = line_time(emulator)
        ideal = math.ceil(args.rows / args.channels) * line
        figures: dict[str, Any] = {"rows": args.rows, "channels": args.channels, "speed": args.speed}
        figures["line_s"] = line
        figures["ideal_s"] = ideal
        emulator.reset()
        sdk_loop(emulator, args.rows)
        figures["sdk_loop"] = phase_figures(emulator, args.rows)
        emulator.reset()
        run = batch(emulator, args.rows)
        figures["batch"] = {**phase_figures(emulator, args.rows), **run}
    for name in ("sdk_loop", "batch"):
        figures[name]["wall_over_ideal"] = figures[name]["wall_s"] / ideal
    print(json.dumps(figures, indent=2))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)
    print()
    print("| pattern | delivered in one try | wasted dials | peak calls | wall | wall ÷ ideal |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, label in (("sdk_loop", "plain SDK loop"), ("batch", "SendFaxBatchOperator, defaults")):
        f = figures[name]
        print(
            f"| {label} | {f['delivered']}/{f['rows']} | {f['wasted_dials']:.1%} | {f['peak_calls']} | "
            f"{f['wall_s']:.1f} s | {f['wall_over_ideal']:.2f} |"
        )
    print(f"\nIdeal: ceil({args.rows} / {args.channels}) * {line:.2f} s = {ideal:.1f} s.")


if __name__ == "__main__":
    main()
