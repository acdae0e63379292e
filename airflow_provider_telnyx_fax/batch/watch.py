"""
Waiting for a batch's faxes from a few facts (batch id, window, how many faxes), in the triggerer or on the worker.

A batch of 10,000 faxes is followed by listing its window (``created_at`` from the run's start,
outbound, 250 a page) rather than by one GET per fax. After the first listing the window narrows to
the oldest fax still on the line, since faxes that finished stay finished; when only a few are left,
single GETs cost less than the pages that would hold them. Nothing here sends: a trigger may run
twice, or be rebuilt from its kwargs on another triggerer, and simply starts over.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.batch.ledger import batch_state, describe_progress, is_pending
from airflow_provider_telnyx_fax.exceptions import TelnyxNotFoundError
from airflow_provider_telnyx_fax.polling import DEFAULT_MAX_CONSECUTIVE_ERRORS, poll_until_event

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from airflow.triggers.base import TriggerEvent

LIST_PAGE_SIZE = 250
# A progress line at least this often while a batch sends or waits.
PROGRESS_SECONDS = 30.0
# When listings keep showing fewer faxes than were sent (one deleted meanwhile), believe them after this long.
SHORT_LISTING_GRACE_SECONDS = 60.0


@dataclass(frozen=True)
class WaitGoal:
    """
    When a wait ends: at most ``resume_at_pending`` faxes still on the line, or at ``resume_after``.

    Never before ``not_before`` (a send whose outcome was unknown gets time to show up in the list).
    ``resume_at_pending=-1`` waits for ``resume_after`` alone.
    """

    resume_at_pending: int
    resume_after: float | None = None
    not_before: float | None = None

    def reached(self, pending: int, now: float) -> bool:
        if self.not_before is not None and now < self.not_before:
            return False
        return pending <= self.resume_at_pending or (self.resume_after is not None and now >= self.resume_after)


class BatchWatch:
    """
    The faxes of one batch that are still on the line, kept current with as few requests as possible.

    :param hook: a ``TelnyxFaxHook`` (its async methods are used).
    :param batch_id: the id in every fax's ``client_state`` (see ``batch_id_for``).
    :param since: the window's start (ISO 8601): no fax of the batch is older.
    :param expected_faxes: how many faxes of the batch the window holds (every try's), so a listing that
        does not show them all yet is not mistaken for the end.
    :param known: faxes already known (the worker's own), which spares the first listing.
    """

    def __init__(
        self,
        hook: Any,
        *,
        batch_id: str,
        since: str,
        expected_faxes: int,
        known: list[dict[str, Any]] | None = None,
    ) -> None:
        self.hook = hook
        self.batch_id = batch_id
        self.since = since
        self.expected_faxes = expected_faxes
        self.faxes: dict[str, dict[str, Any]] = {}
        self.settled = known is not None
        self.short_since: float | None = None
        self.last_listing_pages = 1
        for fax in known or ():
            self.faxes[fax["id"]] = fax

    @property
    def pending(self) -> list[dict[str, Any]]:
        return [fax for fax in self.faxes.values() if is_pending(fax)]

    async def count_pending(self) -> int:
        """Bring the batch's faxes up to date and return how many are still on the line (or may be)."""
        pending = self.pending
        if self.settled and len(pending) <= self.last_listing_pages:
            await self._get_each(pending)
            return len(self.pending)
        oldest = min((str(fax["created_at"]) for fax in pending), default=None) if self.settled else None
        seen = await self._list(since=oldest or self.since)
        if not self.settled:
            ours = sum(1 for fax in self.faxes.values() if fax["id"] in seen)
            now = time.monotonic()
            self.short_since = self.short_since or now
            if ours < self.expected_faxes and now - self.short_since < SHORT_LISTING_GRACE_SECONDS:
                # Telnyx may not list a just-accepted fax yet: the missing ones count as on the line.
                return len(self.pending) + self.expected_faxes - ours
            self.settled = True
        return len(self.pending)

    async def _list(self, *, since: str) -> set[str]:
        seen: set[str] = set()
        pages = 0
        async for fax in self.hook.alist_faxes(page_size=LIST_PAGE_SIZE, direction="outbound", created_at_gte=since):
            if len(seen) % LIST_PAGE_SIZE == 0:
                pages += 1
            seen.add(fax["id"])
            if batch_state(fax, self.batch_id) is not None:
                self.faxes[fax["id"]] = fax
        self.last_listing_pages = max(1, pages)
        return seen

    async def _get_each(self, pending: list[dict[str, Any]]) -> None:
        for fax in pending:
            try:
                self.faxes[fax["id"]] = await self.hook.aget_fax(fax["id"])
            except TelnyxNotFoundError:
                # Deleted meanwhile: it will never finish, so it no longer holds the batch up.
                self.faxes.pop(fax["id"], None)

    def progress(self, *, sent: int, total: int) -> str:
        latest: dict[str, dict[str, Any]] = {}
        for fax in self.faxes.values():
            row = str((batch_state(fax, self.batch_id) or {}).get("row"))
            if row not in latest or str(fax["created_at"]) > str(latest[row]["created_at"]):
                latest[row] = fax
        statuses = Counter(fax["status"] for fax in latest.values())
        return describe_progress(
            sent=sent,
            total=total,
            in_flight=len(self.pending),
            delivered=statuses["delivered"],
            failed=statuses["failed"],
        )


@contextlib.asynccontextmanager
async def progress_lines(
    describe: Callable[[], str], log: Any, *, every: float = PROGRESS_SECONDS, first_after: float = 0.0
) -> AsyncIterator[None]:
    """Log ``describe()`` after ``first_after`` seconds, then every ``every`` seconds while the block runs."""

    async def report() -> None:
        await asyncio.sleep(first_after)
        while True:
            log.info("Batch progress: %s", describe())
            await asyncio.sleep(every)

    reporter = asyncio.create_task(report())
    try:
        yield
    finally:
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter


async def wait_for_batch(
    watch: BatchWatch,
    goal: WaitGoal,
    *,
    poll_interval: float,
    end_time: float | None,
    max_consecutive_errors: int,
    make_event: Callable[[str, str, int | None], TriggerEvent],
    describe: Callable[[], str],
    log: Any,
    hold_until: float | None = None,
) -> TriggerEvent:
    """
    Check the batch on the polling schedule until ``goal`` is reached, then return the event (never
    before ``hold_until``, Unix time: a trigger's earliest moment to fire).

    The event is ``make_event(status, message, pending)`` with status ``ready``, ``error`` or
    ``timeout``. Rate limits only slow the checks down (the shared polling loop's rule).
    """

    async def check() -> TriggerEvent | None:
        pending = await watch.count_pending()
        if goal.reached(pending, time.time()):
            return make_event("ready", f"{pending:,} faxes of the batch are still on the line.", pending)
        return None

    # The first line waits for the first checks: before them the watch knows nothing to report.
    async with progress_lines(describe, log, first_after=PROGRESS_SECONDS):
        return await poll_until_event(
            check,
            poll_interval=poll_interval,
            end_time=end_time,
            max_consecutive_errors=max_consecutive_errors,
            on_error=lambda message: make_event("error", message, None),
            on_timeout=lambda: make_event(
                "timeout",
                f"The batch still had {len(watch.pending):,} faxes on the line when the wait timed out.",
                None,
            ),
            subject=f"batch {watch.batch_id}",
            log=log,
            not_before=hold_until,
        )


async def wait_on_worker(
    watch: BatchWatch,
    goal: WaitGoal,
    *,
    poll_interval: float,
    end_time: float | None,
    describe: Callable[[], str],
    log: Any,
) -> dict[str, Any]:
    """Wait on the worker as :class:`FaxBatchTrigger` would; the payload its event would carry."""
    event = await wait_for_batch(
        watch,
        goal,
        poll_interval=poll_interval,
        end_time=end_time,
        max_consecutive_errors=DEFAULT_MAX_CONSECUTIVE_ERRORS,
        make_event=_worker_event,
        describe=describe,
        log=log,
    )
    payload: dict[str, Any] = event.payload
    return payload


def _worker_event(status: str, message: str, pending: int | None) -> TriggerEvent:
    from airflow.triggers.base import TriggerEvent

    return TriggerEvent({"status": status, "message": message, "pending": pending})
