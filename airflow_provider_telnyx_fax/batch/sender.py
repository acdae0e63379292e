"""
Sending one wave of a batch: concurrent async sends, paced to a rate, each under the hook's send rule.

Every send is ``TelnyxFaxHook.asend_fax`` (retried only when Telnyx provably did not take it). A send
whose outcome is unknown is not repeated here: the next listing of the window shows whether Telnyx took
it. A rate limit that outlasts the hook's retries leaves the row for the next wave; it is never a failure.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.exceptions import (
    TelnyxAPIError,
    TelnyxAuthenticationError,
    TelnyxOutcomeUnknownError,
    TelnyxRateLimitError,
    TelnyxServerError,
    TelnyxTransportError,
)
from airflow_provider_telnyx_fax.privacy import mask_number, mask_numbers_in

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_telnyx_fax.batch.ledger import BatchLedger, RowLedger

# Sends on the wire at once; the rate, not this, sets the pace.
SEND_CONCURRENCY = 16


class Pacer:
    """At most ``per_second`` starts per second, evenly spaced (a token bucket of one)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self.next_start = time.monotonic()
        self.lock = asyncio.Lock()

    async def wait_turn(self) -> None:
        async with self.lock:
            now = time.monotonic()
            delay = self.next_start - now
            self.next_start = max(now, self.next_start) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)

    def slow_down(self, seconds: float) -> None:
        """Telnyx asked us to wait: no start before then."""
        self.next_start = max(self.next_start, time.monotonic() + seconds)


@dataclass
class WaveResult:
    """What one wave did, row by row."""

    sent: int = 0
    unknown: int = 0
    deferred: int = 0
    refused: int = 0
    unreachable: list[str] = field(default_factory=list)


async def send_wave(
    hook: Any,
    ledger: BatchLedger,
    wave: list[RowLedger],
    pacer: Pacer,
    log: Any,
    on_sent: Callable[[dict[str, Any]], None] = lambda fax: None,
) -> WaveResult:
    """
    Send every row of ``wave`` (distinct destinations), recording each fax in ``ledger`` as it is
    accepted and then telling ``on_sent``.
    """
    result = WaveResult()
    gate = asyncio.Semaphore(SEND_CONCURRENCY)

    async def send(entry: RowLedger) -> None:
        async with gate:
            await pacer.wait_turn()
            try:
                fax = await hook.asend_fax(entry.row.request)
            except TelnyxOutcomeUnknownError as error:
                entry.outcome_unknown = True
                result.unknown += 1
                log.warning("Row %d: %s The next listing will show whether Telnyx took it.", entry.row.number, error)
            except TelnyxRateLimitError as error:
                pacer.slow_down(error.retry_after or 1.0)
                result.deferred += 1
            except (TelnyxServerError, TelnyxTransportError) as error:
                # Provably not sent (the hook only raises these for a send that never reached Telnyx).
                result.unreachable.append(str(error))
            except TelnyxAuthenticationError:
                raise
            except TelnyxAPIError as error:
                entry.refused = mask_numbers_in(str(error))
                result.refused += 1
                log.warning(
                    "Row %d to %s: Telnyx refused the fax: %s", entry.row.number, mask_number(entry.row.to), error
                )
            else:
                ledger.record_sent(entry, fax)
                on_sent(fax)
                result.sent += 1

    await asyncio.gather(*(send(entry) for entry in wave))
    return result
