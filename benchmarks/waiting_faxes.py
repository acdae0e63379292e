"""Benchmarks 1 and 2: many faxes waiting in one triggerer event loop, polling the emulator until delivered.

Every variant runs in a fresh client process (``python -m benchmarks.waiting_faxes --variant ...``) that
imports what it needs, reports ready, and only then gets the fax ids, so the imports are outside the
measured CPU and the baseline RSS. All variants follow the same schedule (``polling.poll_delays``: a check
at once, then every ``poll_interval`` here) and stop at the first terminal status:

* ``ours``: :class:`FaxStatusTrigger` ``run()``, exactly what the triggerer runs;
* ``http``: the providers-http pattern (``HttpTrigger``/``HttpSensorTrigger``): an ``HttpAsyncHook`` per
  trigger and a new ``aiohttp.ClientSession`` per poll, ``hook.run(session=...)`` then the JSON body;
* ``sdk``: the official SDK, one ``telnyx.AsyncTelnyx`` client per waiting fax, ``client.faxes.retrieve``;
* ``bare``: one shared ``aiohttp.ClientSession``, a GET and ``json.loads``, nothing else (the floor).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import TYPE_CHECKING, Any

from benchmarks._common import (
    HTTP_CONN_ID,
    Child,
    child_ready,
    child_result,
    client_env,
    create_faxes,
    peak_rss_mb,
    rss_now_mb,
    status_counts,
)

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorHandle

TERMINAL = frozenset({"delivered", "failed", "received"})
VARIANTS = ("ours", "http", "sdk", "bare")


def _schedule(poll_interval: float) -> Any:
    from airflow_provider_telnyx_fax.polling import poll_delays

    return poll_delays(poll_interval)


async def _ours(fax_ids: list[str], poll_interval: float, max_consecutive_errors: int) -> list[str]:
    from airflow_provider_telnyx_fax.triggers.fax import FaxStatusTrigger

    async def one(fax_id: str) -> str:
        trigger = FaxStatusTrigger(
            fax_id=fax_id, poll_interval=poll_interval, max_consecutive_errors=max_consecutive_errors
        )
        async for event in trigger.run():
            return str(event.payload["status"])
        return "no event"

    return list(await asyncio.gather(*(one(fax_id) for fax_id in fax_ids)))


async def _http(fax_ids: list[str], poll_interval: float) -> list[str]:
    import aiohttp
    from airflow.providers.http.hooks.http import HttpAsyncHook

    async def one(fax_id: str) -> str:
        hook = HttpAsyncHook(method="GET", http_conn_id=HTTP_CONN_ID)
        for delay in _schedule(poll_interval):
            async with aiohttp.ClientSession() as session:
                response = await hook.run(session=session, endpoint=f"v2/faxes/{fax_id}")
                body = await response.json()
            status = body["data"]["status"]
            if status in TERMINAL:
                return str(status)
            await asyncio.sleep(delay)
        return "no event"

    return list(await asyncio.gather(*(one(fax_id) for fax_id in fax_ids)))


async def _sdk(fax_ids: list[str], poll_interval: float) -> list[str]:
    import telnyx

    base_url = os.environ["TELNYX_BENCH_BASE_URL"]
    api_key = os.environ["TELNYX_BENCH_API_KEY"]

    async def one(fax_id: str) -> str:
        async with telnyx.AsyncTelnyx(api_key=api_key, base_url=base_url) as client:
            for delay in _schedule(poll_interval):
                fax = await client.faxes.retrieve(fax_id)
                assert fax.data is not None
                status = fax.data.status
                if status in TERMINAL:
                    return str(status)
                await asyncio.sleep(delay)
        return "no event"

    return list(await asyncio.gather(*(one(fax_id) for fax_id in fax_ids)))


async def _bare(fax_ids: list[str], poll_interval: float) -> list[str]:
    import aiohttp

    base_url = os.environ["TELNYX_BENCH_BASE_URL"]
    headers = {"Authorization": f"Bearer {os.environ['TELNYX_BENCH_API_KEY']}"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def one(fax_id: str) -> str:
            url = f"{base_url}/faxes/{fax_id}"
            for delay in _schedule(poll_interval):
                async with session.get(url) as response:
                    body = json.loads(await response.read())
                status = body["data"]["status"]
                if status in TERMINAL:
                    return str(status)
                await asyncio.sleep(delay)
            return "no event"

        return list(await asyncio.gather(*(one(fax_id) for fax_id in fax_ids)))


def _import_variant(variant: str) -> None:
    """Everything the variant imports, before the baseline is taken (a triggerer has these loaded)."""
    import aiohttp  # noqa: F401

    import airflow_provider_telnyx_fax.models

    if variant == "ours":
        from airflow.providers.common.compat.connection import get_async_connection

        import airflow_provider_telnyx_fax.exceptions
        import airflow_provider_telnyx_fax.hooks.fax
        import airflow_provider_telnyx_fax.triggers.fax  # noqa: F401
    elif variant == "http":
        import tenacity  # noqa: F401
        from airflow.providers.common.compat.connection import get_async_connection  # noqa: F401
        from airflow.providers.http.hooks.http import HttpAsyncHook  # noqa: F401
    elif variant == "sdk":
        import telnyx  # noqa: F401


def measure(
    emulator: EmulatorHandle,
    variant: str,
    count: int,
    *,
    speed: float,
    poll_interval: float,
    rate_limit: float | None = None,
) -> dict[str, Any]:
    """Run one variant in a fresh process against ``count`` new faxes; the emulator counts the polls."""
    emulator.reset()
    emulator.set_speed(speed)
    child = Child(
        "benchmarks.waiting_faxes", ["--variant", variant, "--poll-interval", str(poll_interval)], client_env(emulator)
    )
    fax_ids = create_faxes(emulator, count)
    if rate_limit is not None:
        emulator.set_rate_limit(rate_limit)
    child.go(fax_ids)
    result = child.result()
    polls = emulator.request_count("GET", "/v2/faxes/*")
    result["polls"] = polls
    result["polls_per_fax"] = polls / count
    result["cpu_ms_per_poll"] = result["cpu_s"] * 1000 / polls
    if rate_limit is not None:
        emulator.set_rate_limit(None)
        result["answers"] = status_counts(emulator, "GET", "/v2/faxes/")
        result["rate_limit"] = rate_limit
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--poll-interval", type=float, default=0.5)
    parser.add_argument("--max-consecutive-errors", type=int, default=5)
    args = parser.parse_args()

    _import_variant(args.variant)
    baseline_rss = rss_now_mb()
    fax_ids: list[str] = child_ready()

    profile_path = os.environ.get("BENCH_PROFILE")
    if profile_path:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu = time.process_time()
    wall = time.perf_counter()
    if args.variant == "ours":
        statuses = asyncio.run(_ours(fax_ids, args.poll_interval, args.max_consecutive_errors))
    elif args.variant == "http":
        statuses = asyncio.run(_http(fax_ids, args.poll_interval))
    elif args.variant == "sdk":
        statuses = asyncio.run(_sdk(fax_ids, args.poll_interval))
    else:
        statuses = asyncio.run(_bare(fax_ids, args.poll_interval))
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    if profile_path:
        profiler.disable()
        profiler.dump_stats(profile_path)
    outcome: dict[str, int] = {}
    for status in statuses:
        outcome[status] = outcome.get(status, 0) + 1
    peak = peak_rss_mb()
    child_result(
        {
            "variant": args.variant,
            "cpu_s": cpu,
            "wall_s": wall,
            "baseline_rss_mb": baseline_rss,
            "peak_rss_mb": peak,
            "rss_growth_mb": peak - baseline_rss,
            "outcomes": outcome,
        }
    )


if __name__ == "__main__":
    main()
