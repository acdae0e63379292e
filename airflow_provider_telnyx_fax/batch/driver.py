"""
Driving one execution of a batch: keep the channels busy, send the next rows, wait, and know when to stop.

The operator (``operators/batch.py``) owns what Airflow sees: the plan, deferrals, the roll-up. This
module owns the loop between them, on the worker: take stock of the run's window, learn the channel
ceiling (:mod:`~airflow_provider_telnyx_fax.batch.channels`), send while channels are free, and wait for
one to free, a number's gap to pass or the last faxes to end. It stops at the first wait worth a
deferral when the batch is deferrable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from airflow_provider_telnyx_fax.batch.channels import LEAST_CHANNELS, ChannelCeiling

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from airflow_provider_telnyx_fax.batch.ledger import BatchLedger
    from airflow_provider_telnyx_fax.batch.sender import Pacer
    from airflow_provider_telnyx_fax.batch.waves import BatchPlan, Pause
    from airflow_provider_telnyx_fax.documents import LocalDocument
    from airflow_provider_telnyx_fax.send_window import SendWindow

# How often a sending batch looks for a freed channel: a twentieth of a fax's line time (a channel freed
# is noticed within 5 % of a call), within these bounds; before any fax ended, the first.
FIRST_DIAL_CHECK_SECONDS = 1.0
MIN_DIAL_CHECK_SECONDS = 0.2
MAX_DIAL_CHECK_SECONDS = 5.0
# A deferrable batch with nothing on the line frees its slot for a wait at least this long.
LONG_PAUSE_SECONDS = 60.0


@dataclass(frozen=True)
class BatchSettings:
    """The operator's arguments the loop works by."""

    channel_limit: int | None
    connection_id: str | None
    max_in_flight: int
    sends_per_second: float
    same_number_gap: float
    wait_for_completion: bool
    deferrable: bool
    poll_interval: float


@dataclass
class Drive:
    """Where one execution of the batch stopped: done (no pause), or the wait to hand over, and why."""

    ledger: BatchLedger
    pause: Pause | datetime | None
    ceiling: ChannelCeiling
    timed_out: bool = False
    # Telnyx's reason when a spend limit stopped the dialling (in this execution or one before it).
    spent: str | None = None

    def carried(self) -> dict[str, Any]:
        """What the next execution after a deferral goes on from (small, for the resume's kwargs)."""
        return {**self.ceiling.carried(), "spent": self.spent}


class BatchDriver:
    """
    One execution's loop of sending and waiting.

    :param hook: a ``TelnyxFaxHook`` (async methods).
    :param log: the task's logger.
    :param settings: the operator's arguments.
    :param window: the send window, if any.
    :param upload: uploads a local document once (the operator's ``_upload_once``), run in a thread.
    :param new_ledger: a fresh ledger of the plan's rows.
    """

    def __init__(
        self,
        hook: Any,
        log: Any,
        settings: BatchSettings,
        *,
        window: SendWindow | None,
        upload: Callable[[LocalDocument], None],
        new_ledger: Callable[[BatchPlan], BatchLedger],
    ) -> None:
        self.hook = hook
        self.log = log
        self.settings = settings
        self.window = window
        self.upload = upload
        self.new_ledger = new_ledger

    def hold_until_window_opens(self) -> None:
        from airflow_provider_telnyx_fax.send_window import hold_for_window

        hold_for_window(self.window, deferrable=False, defer=_never_defers, log=self.log, method_name="")

    async def take_stock(self, ledger: BatchLedger, since: str) -> None:
        """List the run's window once and give every row the faxes carrying its send key."""
        from airflow_provider_telnyx_fax.batch.watch import LIST_PAGE_SIZE

        faxes = [
            fax
            async for fax in self.hook.alist_faxes(page_size=LIST_PAGE_SIZE, direction="outbound", created_at_gte=since)
        ]
        ledger.absorb(faxes)
        for entry in ledger.rows:
            # Whatever Telnyx took is listed by now; a row still without a fax may be sent again.
            entry.outcome_unknown = False

    async def stated_channel_limit(self) -> int | None:
        """The channel limit the user or Telnyx states: the argument, else the connection or the application."""
        if self.settings.channel_limit:
            self.log.info("Keeping at most %d calls up (channel_limit).", self.settings.channel_limit)
            return int(self.settings.channel_limit)
        known = await self.hook.aknown_channel_limit(self.settings.connection_id)
        if known:
            self.log.info("Keeping at most %d calls up (the connection's or the Fax Application's limit).", known)
        else:
            self.log.info(
                "No channel limit stated (channel_limit, the connection's extra or the Fax Application's "
                "outbound.channel_limit): learning it from Telnyx's answers, starting at %d calls.",
                LEAST_CHANNELS,
            )
        return int(known) if known else None

    async def drive(
        self, plan: BatchPlan, end_time: float | None, *, stop: bool, learned: dict[str, Any] | None
    ) -> Drive:
        """
        Keep the channels busy until every row has its fax (and, waiting for completion, every fax ended).

        Deferrable, the batch stops at the first long wait: for its last faxes (after a short watch), for
        a number's gap with nothing on the line, or for the send window to open again (the opening moment).
        """
        from airflow_provider_telnyx_fax.batch.channels import ChannelCeiling
        from airflow_provider_telnyx_fax.batch.sender import Pacer
        from airflow_provider_telnyx_fax.batch.watch import progress_lines
        from airflow_provider_telnyx_fax.batch.waves import next_pause
        from airflow_provider_telnyx_fax.hooks.fax import shared_client_session
        from airflow_provider_telnyx_fax.polling import WORKER_WATCH_DELAYS
        from airflow_provider_telnyx_fax.send_window import closed_for

        ledger = self.new_ledger(plan)
        async with shared_client_session():
            await self.take_stock(ledger, plan.since)
            stated = None if learned else await self.stated_channel_limit()
            ceiling = ChannelCeiling.start(stated=stated, most=self.settings.max_in_flight, learned=learned)
            # Faxes of earlier executions taught what they could already (or belong to an earlier try).
            ceiling.seen.update(fax["id"] for fax in ledger.faxes())
            if stop:
                return Drive(ledger, None, ceiling, spent=(learned or {}).get("spent"))
            pacer = Pacer(self.settings.sends_per_second)
            tail_watch_until: float | None = None
            # A spend limit stops this try's dialling for good: a resume after a deferral remembers it.
            spent: str | None = (learned or {}).get("spent")
            async with progress_lines(lambda: self.progress(ledger, ceiling), self.log):
                while True:
                    # Every send checks the window, so a batch started at 17:55 stops dialling at 18:00.
                    closed = closed_for(self.window) if ledger.unsent() else None
                    if closed is not None and self.settings.deferrable and closed[1]:
                        return Drive(ledger, closed[0], ceiling, spent=spent)
                    if closed is not None:
                        await asyncio.to_thread(self.hold_until_window_opens)
                        await self.take_stock(ledger, plan.since)
                        continue
                    ceiling.observe(ledger.faxes())
                    spent = spent or ledger.spend_limit_reached()
                    if not spent:
                        await self.send_next(plan, ledger, pacer, ceiling)
                    pause = next_pause(
                        ledger,
                        ceiling=ceiling.limit,
                        same_number_gap=self.settings.same_number_gap,
                        wait_for_completion=self.settings.wait_for_completion,
                        dialling=not spent,
                    )
                    if pause is None:
                        return Drive(ledger, None, ceiling, spent=spent)
                    now = time.time()
                    check_every = self.dial_check_seconds(ledger)
                    if ceiling.round_waiting:
                        # A learning round ends when its dials reach their calls: look again soon.
                        soon = now + check_every
                        pause.goal = replace(pause.goal, resume_after=min(pause.goal.resume_after or soon, soon))
                    if not pause.tail:
                        tail_watch_until = None
                    if pause.tail and self.settings.deferrable:
                        # The last faxes: watched a few seconds on the worker, then the slot is freed.
                        tail_watch_until = tail_watch_until or now + sum(WORKER_WATCH_DELAYS)
                        if now >= tail_watch_until:
                            return Drive(ledger, pause, ceiling, spent=spent)
                        pause.goal = replace(pause.goal, resume_after=tail_watch_until)
                    elif pause.tail:
                        check_every = self.settings.poll_interval
                    elif self.settings.deferrable and pause.nothing_on_the_line_until(now) >= LONG_PAUSE_SECONDS:
                        return Drive(ledger, pause, ceiling, spent=spent)
                    if not await self.wait_on_worker(plan, ledger, pause, end_time, check_every):
                        return Drive(ledger, pause, ceiling, timed_out=True, spent=spent)

    def dial_check_seconds(self, ledger: BatchLedger) -> float:
        """How often to look for a freed channel: a twentieth of a fax's line time, within bounds."""
        line = ledger.line_seconds()
        if line is None:
            return min(FIRST_DIAL_CHECK_SECONDS, self.settings.poll_interval)
        return max(MIN_DIAL_CHECK_SECONDS, min(line / 20, MAX_DIAL_CHECK_SECONDS, self.settings.poll_interval))

    def progress(self, ledger: BatchLedger, ceiling: ChannelCeiling) -> str:
        calls_up = len(ledger.pending())
        return ledger.progress(ceiling.describe(calls_up), ledger.line_seconds(), ceiling.limit)

    async def send_next(self, plan: BatchPlan, ledger: BatchLedger, pacer: Pacer, ceiling: ChannelCeiling) -> None:
        from airflow_provider_telnyx_fax.batch.sender import send_wave

        calls_up = len(ledger.pending())
        slots = min(ceiling.free(calls_up), self.settings.max_in_flight - calls_up)
        wave = ledger.next_wave(slots=max(0, slots), same_number_gap=self.settings.same_number_gap, now=time.time())
        if not wave:
            return
        for document in {
            entry.row.document.media_name: entry.row.document for entry in wave if entry.row.document
        }.values():
            if document.media_name not in plan.uploaded:
                await asyncio.to_thread(self.upload, document)
                plan.uploaded.add(document.media_name)

        def sent(fax: dict[str, Any]) -> None:
            ceiling.sent(fax["id"], len(ledger.pending()))

        result = await send_wave(self.hook, ledger, wave, pacer, self.log, on_sent=sent)
        trouble = result.unknown or result.deferred or result.refused or result.unreachable
        self.log.log(
            logging.INFO if trouble else logging.DEBUG,
            "Sent %d: %d accepted, %d outcome unknown, %d rate-limited, %d refused, %d unreachable. %s",
            len(wave), result.sent, result.unknown, result.deferred, result.refused, len(result.unreachable),
            self.progress(ledger, ceiling),
        )  # fmt: skip
        if result.unreachable and not (result.sent or result.unknown):
            raise AirflowException(f"Telnyx could not be reached for any send of the wave: {result.unreachable[0]}")

    async def wait_on_worker(
        self, plan: BatchPlan, ledger: BatchLedger, pause: Pause, end_time: float | None, check_every: float
    ) -> bool:
        """Wait on the worker as the trigger would; ``False`` when the wait timed out."""
        from airflow_provider_telnyx_fax.batch.watch import BatchWatch, wait_on_worker

        watch = BatchWatch(
            self.hook,
            batch_id=plan.batch_id,
            since=plan.since,
            expected_faxes=pause.expected_faxes,
            known=ledger.pending(),
        )
        payload = await wait_on_worker(
            watch,
            pause.goal,
            poll_interval=check_every,
            end_time=end_time,
            describe=ledger.progress,
            log=self.log,
        )
        if payload["status"] == "error":
            raise AirflowException(f"{payload['message']} The next try takes stock before sending anything.")
        ledger.absorb(watch.faxes.values())
        if any(entry.outcome_unknown for entry in ledger.rows):
            await self.take_stock(ledger, plan.since)
        if payload["status"] == "timeout":
            self.log.warning("%s", payload["message"])
            return False
        return True


def _never_defers(**_: Any) -> None:
    raise AssertionError("a wait on the worker never defers")
