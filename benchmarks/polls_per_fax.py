"""Benchmark 5: status calls per fax and how late the end is noticed, default policy against a fixed 10 s poll.

A 3-page fax on a realistic line takes 2 s queued + 3 s media processing + 3 x 30 s sending = 95 s. Two
methods, reported side by side:

* analytic: walk ``polling.poll_delays(15)`` (the default ``poll_interval``) and a fixed 10 s schedule
  over that timeline, the trigger starting when the fax is created;
* scaled run: the emulator at ``speed`` N, ``FaxStatusTrigger`` with ``poll_interval`` / N and
  ``polling.FIRST_POLL_SECONDS`` / N (patched in this process only), real faxes with a 3-page PDF; the
  emulator counts the GETs and its timeline says when the fax was delivered; latencies are scaled back x N.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._common import child_ready, child_result, client_env, run_once

if TYPE_CHECKING:
    from collections.abc import Iterator

    from telnyx_fax_emulator.launcher import EmulatorHandle

PAGES = 3
DEFAULT_POLL_INTERVAL = 15.0
FIXED_INTERVAL = 10.0


def realistic_completion(pages: int = PAGES) -> float:
    from telnyx_fax_emulator.outcomes import MEDIA_PROCESSED_SECS, PAGE_SECS, QUEUED_SECS

    return QUEUED_SECS + MEDIA_PROCESSED_SECS + pages * PAGE_SECS


def _walk(delays: Iterator[float], done_at: float, start: float = 0.0) -> tuple[int, float]:
    """Calls until a check at or after ``done_at`` (the first check at ``start``), and how late that check is."""
    at = start
    for calls, delay in enumerate(delays, start=1):
        if at >= done_at:
            return calls, at - done_at
        at += delay
    raise AssertionError("unreachable")


def analytic() -> dict[str, Any]:
    from airflow_provider_telnyx_fax.polling import poll_delays

    done_at = realistic_completion()
    ours = _walk(poll_delays(DEFAULT_POLL_INTERVAL), done_at)
    fixed = _walk(itertools.repeat(FIXED_INTERVAL), done_at)
    # Over every completion time from 1 s to 15 min, the worst case of each schedule.
    worst_lateness = max(_walk(poll_delays(DEFAULT_POLL_INTERVAL), t / 10)[1] for t in range(10, 9000))
    return {
        "completion_s": done_at,
        "ours_calls": ours[0],
        "ours_late_s": ours[1],
        "fixed_calls": fixed[0],
        "fixed_late_s": fixed[1],
        "ours_worst_late_s": worst_lateness,
    }


def _pdf(path: Path, pages: int) -> Path:
    from telnyx_fax_emulator.documents import blank_pdf

    path.write_bytes(blank_pdf(pages))
    return path


async def _ours(fax_id: str) -> float:
    from airflow_provider_telnyx_fax.triggers.fax import FaxStatusTrigger

    speed = float(os.environ["BENCH_SPEED"])
    trigger = FaxStatusTrigger(fax_id=fax_id, poll_interval=DEFAULT_POLL_INTERVAL / speed)
    async for event in trigger.run():
        assert event.payload["status"] == "delivered", event.payload
        return time.time()
    raise AssertionError("no event")


async def _fixed(fax_id: str) -> float:
    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

    speed = float(os.environ["BENCH_SPEED"])
    hook = TelnyxFaxHook()
    while (await hook.aget_fax(fax_id))["status"] != "delivered":
        await asyncio.sleep(FIXED_INTERVAL / speed)
    return time.time()


def child_main() -> None:
    from airflow_provider_telnyx_fax import polling
    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
    from telnyx_fax_emulator.launcher import EmulatorHandle

    speed = float(os.environ["BENCH_SPEED"])
    polling.FIRST_POLL_SECONDS = polling.FIRST_POLL_SECONDS / speed
    payload = child_ready()
    emulator = EmulatorHandle(payload["root_url"])
    pdf = _pdf(Path(tempfile.mkdtemp()) / "three-pages.pdf", PAGES)
    hook = TelnyxFaxHook()
    results: dict[str, Any] = {}
    for name, waiter in (("ours", _ours), ("fixed", _fixed)):
        fax_ids = [
            hook.send_fax(f"+1555040{index:04d}", media_url=pdf.as_uri())["id"] for index in range(payload["faxes"])
        ]

        async def wait_all(ids: list[str], waiter: Any = waiter) -> list[float]:
            return list(await asyncio.gather(*(waiter(fax_id) for fax_id in ids)))

        noticed = asyncio.run(wait_all(fax_ids))
        calls, lateness = [], []
        for fax_id, seen_at in zip(fax_ids, noticed, strict=True):
            view = emulator.fax(fax_id)
            assert view["page_count"] == PAGES, view["page_count"]
            delivered = next(step["at"] for step in view["timeline"] if step["status"] == "delivered")
            delivered_at = datetime.fromisoformat(delivered.replace("Z", "+00:00")).timestamp()
            calls.append(emulator.request_count("GET", f"/v2/faxes/{fax_id}"))
            lateness.append((seen_at - delivered_at) * speed)
        results[name] = {"calls": max(calls), "calls_min": min(calls), "late_s": max(lateness)}
    child_result(results)


def measure(emulator: EmulatorHandle, speed: float = 20.0, faxes: int = 5) -> dict[str, Any]:
    emulator.reset()
    emulator.set_speed(speed)
    env = client_env(emulator)
    env["BENCH_SPEED"] = str(speed)
    scaled = run_once("benchmarks.polls_per_fax", [], env, {"root_url": emulator.root_url, "faxes": faxes})
    return {"analytic": analytic(), "scaled": scaled, "speed": speed}


if __name__ == "__main__":
    child_main()
