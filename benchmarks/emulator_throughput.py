"""Sustained ``GET /v2/faxes/{id}`` throughput of the emulator, measured from a separate process.

Run: ``.venv/bin/python benchmarks/emulator_throughput.py [--requests 20000] [--concurrency 50]``

The emulator runs in its own subprocess (see ``start_emulator``) so server and client CPU are not
mixed; the client is aiohttp with a fixed number of workers sharing one session over loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp
import requests

from telnyx_fax_emulator import start_emulator


async def hammer(
    url: str, headers: dict[str, str], total: int, concurrency: int, max_secs: float
) -> tuple[int, int, float]:
    """Issue up to ``total`` GETs with ``concurrency`` workers (stopping after ``max_secs``)."""
    remaining = total
    ok = failed = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        started = time.perf_counter()
        deadline = started + max_secs

        async def worker() -> None:
            nonlocal remaining, ok, failed
            while remaining > 0 and time.perf_counter() < deadline:
                remaining -= 1
                async with session.get(url) as response:
                    await response.read()
                    if response.status == 200:
                        ok += 1
                    else:
                        failed += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return ok, failed, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--max-secs", type=float, default=10.0)
    args = parser.parse_args()

    emulator = start_emulator()
    try:
        headers = {"Authorization": f"Bearer {emulator.api_key}"}
        body = {
            "connection_id": emulator.connection_id,
            "from": emulator.from_number,
            "to": "+15550100000",
            "media_url": "https://example.com/report.pdf",
        }
        created = requests.post(f"{emulator.base_url}/faxes", json=body, headers=headers, timeout=10)
        created.raise_for_status()
        url = f"{emulator.base_url}/faxes/{created.json()['data']['id']}"
        # A short warm-up so connection setup and first-call costs are not measured.
        asyncio.run(hammer(url, headers, 500, args.concurrency, 5.0))
        ok, failed, elapsed = asyncio.run(hammer(url, headers, args.requests, args.concurrency, args.max_secs))
    finally:
        emulator.stop()
    print(
        f"GET /v2/faxes/{{id}}: {ok / elapsed:,.0f} requests/s "
        f"({ok} ok, {failed} failed in {elapsed:.2f} s, {args.concurrency} concurrent, loopback)"
    )


if __name__ == "__main__":
    main()
