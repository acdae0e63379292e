"""
What every poller shares: the lazy hook import, the check schedule, the polling loop and time parsing.

The triggers, the batch package, the sensors and the operators' worker-side waits all use it, so it
sits below them all and imports none of them. The operator's worker-side wait follows the same
schedule (:func:`poll_delays`), so a fax is checked equally often wherever it is waited on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import random
import threading
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_telnyx_fax.exceptions import (
    TelnyxAPIError,
    TelnyxRateLimitError,
    TelnyxServerError,
    TelnyxTransportError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator
    from types import ModuleType

    from airflow.triggers.base import TriggerEvent

T = TypeVar("T")

HOOK_MODULE = "airflow_provider_telnyx_fax.hooks.fax"
# Failures a later check may not see: worth waiting out (outages up to max_consecutive_errors in a row).
TRANSIENT_ERRORS = (TelnyxRateLimitError, TelnyxServerError, TelnyxTransportError)
# After n rate-limited checks in a row the wait is spread over [1, 1 + n] times what Telnyx asked.
MAX_RATE_LIMIT_SPREAD = 6
DEFAULT_MAX_CONSECUTIVE_ERRORS = 5

_imports: dict[str, concurrent.futures.Future[ModuleType]] = {}
_imports_lock = threading.Lock()


FIRST_POLL_SECONDS = 5.0
POLL_GROWTH = 1.5

# apache/airflow#72716 (open): when a trigger fires within seconds of its deferral, the "success" the
# executor reports for the deferring process can reach the scheduler after the resumed try is already
# running, and the scheduler then fails the task ("... finished with state success, but the task
# instance's state attribute is running"). No trigger of ours fires sooner than this after its
# deferral: well above the few seconds the scheduler takes to drain executor events.
MIN_DEFERRAL_SECONDS = 30.0
# Before a deferrable wait defers, it watches on the worker at these gaps (10 s in all), so a wait
# that ends soon (a busy line, a one-page fax on a fast line) never pays the deferral floor above.
WORKER_WATCH_DELAYS = (1.0, 2.0, 3.0, 4.0)


def watch_on_worker(look: Callable[[], T | None]) -> T | None:
    """What ``look()`` finds within the worker's watch (:data:`WORKER_WATCH_DELAYS`), or ``None``."""
    for delay in WORKER_WATCH_DELAYS:
        time.sleep(delay)
        found = look()
        if found is not None:
            return found
    return None


def earliest_trigger_fire() -> float:
    """The Unix time before which a trigger deferred now must not fire (see :data:`MIN_DEFERRAL_SECONDS`)."""
    return time.time() + MIN_DEFERRAL_SECONDS


def poll_delays(poll_interval: float) -> Iterator[float]:
    """
    Seconds to wait before each status check: 5 s, then growing by half up to ``poll_interval``.

    A fax takes from half a minute to many minutes, so early checks catch quick outcomes (a busy
    line, a bad number) and later ones settle at ``poll_interval``, which bounds how late the end
    is noticed.
    """
    delay = min(FIRST_POLL_SECONDS, poll_interval)
    while True:
        yield delay
        delay = min(poll_interval, delay * POLL_GROWTH)


def parse_time(value: str) -> datetime:
    """An ISO 8601 time (Telnyx's ``...Z`` included) as an aware UTC datetime; naive means UTC."""
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "T", 1))
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


async def import_off_loop(name: str) -> ModuleType:
    """
    Module ``name``, imported in a thread the first time, shared by every caller.

    Its first import may take a second (requests, aiohttp, providers-http), which would stall every
    other trigger on the triggerer's loop. Concurrent callers, such as the hundreds of triggers a
    triggerer starts when it comes back, all wait for that one import: ``sys.modules`` holds a
    module from the moment its import starts, so looking there would hand out a half-built module.
    """
    with _imports_lock:
        pending = _imports.get(name)
        if pending is None:
            pending = _imports[name] = concurrent.futures.Future()
            threading.Thread(target=_import_into, args=(name, pending), name=f"import {name}", daemon=True).start()
    if pending.done():
        return pending.result()
    return await asyncio.wrap_future(pending)


def _import_into(name: str, pending: concurrent.futures.Future[ModuleType]) -> None:
    try:
        module = importlib.import_module(name)
    except BaseException as error:
        with _imports_lock:
            # A failed import is not remembered: the next caller tries again.
            _imports.pop(name, None)
        pending.set_exception(error)
    else:
        pending.set_result(module)


async def import_hook_module() -> ModuleType:
    """The hook module (and with it aiohttp and the transport), imported off the event loop."""
    return await import_off_loop(HOOK_MODULE)


def asked_wait(error: Exception) -> float:
    """The wait Telnyx asked for with an error answer, in seconds (0 when it asked none)."""
    return (error.retry_after or 0.0) if isinstance(error, TelnyxAPIError) else 0.0


async def poll_until_event(
    check: Callable[[], Awaitable[TriggerEvent | None]],
    *,
    poll_interval: float,
    end_time: float | None,
    max_consecutive_errors: int,
    on_error: Callable[[str], TriggerEvent],
    on_timeout: Callable[[], TriggerEvent],
    subject: str,
    log: Any,
    not_before: float | None = None,
) -> TriggerEvent:
    """
    Call ``check`` on the polling schedule until it returns an event, then return that event.

    An event found before ``not_before`` (Unix time) is held until then: a trigger passes the
    earliest moment it may fire (:func:`earliest_trigger_fire` at its deferral).

    5xx and unreachable checks are tolerated ``max_consecutive_errors`` times in a row. A rate limit
    is Telnyx pacing us, not failing, so it never counts towards giving up: the wait honours
    ``Retry-After`` / ``x-ratelimit-reset`` and is spread wider after each refusal in a row, so
    triggers refused together do not all come back together. Any other API error, or the deadline,
    ends the wait with ``on_error`` / ``on_timeout``.
    """
    consecutive_errors = 0
    rate_limited_in_a_row = 0
    event: TriggerEvent | None = None
    for delay in poll_delays(poll_interval):
        try:
            event = await check()
        except TelnyxRateLimitError as error:
            rate_limited_in_a_row += 1
            wait = max(delay, error.retry_after or 0.0)
            delay = wait * random.uniform(1.0, 1.0 + min(rate_limited_in_a_row, MAX_RATE_LIMIT_SPREAD))
            log.info("Telnyx rate-limited checking %s; waiting %.1fs", subject, delay)
        except TRANSIENT_ERRORS as error:
            consecutive_errors += 1
            if consecutive_errors > max_consecutive_errors:
                event = on_error(f"Gave up on {subject} after {consecutive_errors} failed checks: {error}")
                break
            log.warning("Checking %s failed (%s); will try again", subject, error)
            delay = max(delay, asked_wait(error))
        except TelnyxAPIError as error:
            event = on_error(f"Checking {subject} failed: {error}")
            break
        else:
            consecutive_errors = rate_limited_in_a_row = 0
            if event is not None:
                break
        if end_time is not None:
            remaining = end_time - time.time()
            if remaining <= 0:
                event = on_timeout()
                break
            delay = min(delay, remaining)
        await asyncio.sleep(delay)
    if event is None:
        raise AssertionError("unreachable: poll_delays never ends")
    if not_before is not None and (hold := not_before - time.time()) > 0:
        log.info("Holding the event for %.0fs: a trigger never fires within seconds of its deferral.", hold)
        await asyncio.sleep(hold)
    return event
