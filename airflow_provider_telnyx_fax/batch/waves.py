"""
What one execution of a batch works from, and when its next wave may go.

``next_pause`` is the operator's decision between sends, from the ledger and the channel ceiling:
send now, wait for a channel to free (or a number's gap to pass), or stop because every row has its
fax and, waiting for completion, every fax has finished.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_provider_telnyx_fax.batch.watch import WaitGoal

if TYPE_CHECKING:
    from airflow_provider_telnyx_fax.batch.ledger import BatchLedger
    from airflow_provider_telnyx_fax.batch.rows import BatchRow, InvalidRow

# A send whose outcome was unknown is looked for no sooner than this: Telnyx may list it a moment late.
SETTLE_SECONDS = 5.0
# Rows refused by a rate limit or an unreachable API are tried again after this pause.
RETRY_PAUSE_SECONDS = 2.0


@dataclass
class BatchPlan:
    """What one execution works from: the checked rows, the batch's identity and window."""

    rows: list[BatchRow]
    skipped: list[InvalidRow]
    batch_id: str
    since: str
    try_number: int
    uploaded: set[str] = field(default_factory=set)


@dataclass
class Pause:
    """
    The batch has to wait before its next send: for a channel to free, a number's gap, or (``tail``)
    for its last faxes to finish once every row has one.
    """

    goal: WaitGoal
    expected_faxes: int
    rows_sent: int
    tail: bool = False

    def nothing_on_the_line_until(self, now: float) -> float:
        """Seconds until the wait can end when no fax is on the line to end it sooner (0 otherwise)."""
        if self.tail or self.goal.resume_at_pending >= 0 or self.goal.resume_after is None:
            return 0.0
        return self.goal.resume_after - now


def next_pause(
    ledger: BatchLedger, *, ceiling: int, same_number_gap: float, wait_for_completion: bool, dialling: bool = True
) -> Pause | None:
    """
    What to wait for before the next send, or ``None`` when the batch is done.

    ``ceiling`` is the calls the batch may have up (see :mod:`airflow_provider_telnyx_fax.batch.channels`):
    with rows left, the wait ends as soon as one channel frees. ``dialling=False`` (a spend limit was
    reached) sends nothing more: the batch only waits for the faxes on the line.
    """
    now = time.time()
    unsent = ledger.unsent() if dialling else []
    pending = len(ledger.pending())
    not_before = now + SETTLE_SECONDS if any(entry.outcome_unknown for entry in unsent) else None
    rows_sent = len(ledger.rows) - len(ledger.unsent())
    if not unsent:
        if pending == 0 or not wait_for_completion:
            return None
        return Pause(WaitGoal(0, None, not_before), ledger.fax_count, rows_sent, tail=True)
    resume_at = min(pending, ceiling) - 1 if pending else -1
    resume_after = None
    if pending < ceiling:
        if ledger.next_wave(slots=1, same_number_gap=same_number_gap, now=now):
            # Sendable now yet unsent: refused by a rate limit or an unreachable API a moment ago.
            resume_after = now + RETRY_PAUSE_SECONDS
        else:
            resume_after = ledger.earliest_release(same_number_gap, now)
    if resume_at < 0 and resume_after is None:
        # Only sends of unknown outcome are left: look again once they have had time to be listed.
        resume_after = now + RETRY_PAUSE_SECONDS
    return Pause(WaitGoal(resume_at, resume_after, not_before), ledger.fax_count, rows_sent)
