"""The account's channels: a fax is a phone call, and Telnyx limits how many calls are up at once.

Three limits count calls, checked in this order when a call would start:

- the Fax Application's ``outbound.channel_limit``: "When set, this will limit the number of concurrent
  outbound calls to phone numbers associated with this connection" (the API contract's ``FaxApplication``);
- the outbound voice profile's channel limit
  (https://developers.telnyx.com/docs/voice/sip-trunking/configuration/outbound-voice-profiles);
- the account's, global across its outbound voice profiles: 2 calls at initial setup, 10 after Level 2
  verification, more on request
  (https://developers.telnyx.com/docs/voice/sip-trunking/configuration/concurrent-limits,
  https://support.telnyx.com/en/articles/1130717-limits-on-concurrent-outbound-calls).

Before them comes the profile's daily spend limit ("Limits reset at 00:00:00 UTC", same profile page),
modelled as pages dialled per UTC day. A call over a limit is not queued: the fax fails at the moment
its call would start, and it holds no channel.

A call holds its channel from ``sending`` until it is delivered, fails, is cancelled or deleted. A fax's
fate is decided when it is created, and every call starts the same delay after creation, so calls start
in creation order: the calls up at a new call's start are the ones not over by then. After a speed
change that order can slip for the faxes created around it; the count is then approximate.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from telnyx_fax_emulator import outcomes

if TYPE_CHECKING:
    from telnyx_fax_emulator.state import FaxRecord


@dataclass(frozen=True)
class ChannelLimits:
    """The limits a new call is checked against (``None``: not set)."""

    account: int | None = None
    application: int | None = None
    profile: int | None = None
    daily_pages: int | None = None

    @property
    def counts_calls(self) -> bool:
        return self.account is not None or self.application is not None or self.profile is not None


@dataclass
class Call:
    """A call placed for a fax, from ``dial_at``; it holds a channel only while the fax is on the line."""

    fax: FaxRecord
    dial_at: float
    pages_spent: int

    def span(self) -> tuple[float, float] | None:
        """When the call holds its channel, as the fax's timeline (and a deletion) now say."""
        window = self.fax.call_window()
        if window is None:
            return None
        start, end = window
        if self.fax.deleted_at is not None:
            end = min(end, self.fax.deleted_at)
        return (start, end) if end > start else None


def utc_day(at: float) -> str:
    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%Y-%m-%d")


class ChannelBook:
    """Every call placed since start or reset, the calls up for the limit checks, and the pages spent per day."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self._placed: dict[str, Call] = {}
        self._refused: list[tuple[float, str]] = []
        self._pages_by_day: Counter[str] = Counter()
        # Only the limit checks read what follows, so with no limit set a send costs an append.
        self._not_yet_counted: list[Call] = []
        self._up: dict[str, str] = {}  # fax id -> connection id of each call counted as up
        self._up_by_connection: Counter[str] = Counter()
        self._ends: list[tuple[float, int, str]] = []  # heap of (end, order, fax id) of the calls in _up
        self._order = 0

    # -- deciding a new call ---------------------------------------------------------------------
    def refusal(self, connection_id: str, pages: int, dial_at: float, limits: ChannelLimits) -> str | None:
        """The failure reason of a call placed at ``dial_at`` over a limit, or ``None`` when it may start."""
        if limits.daily_pages is not None and self._pages_by_day[utc_day(dial_at)] + pages > limits.daily_pages:
            return outcomes.OUTBOUND_PROFILE_DAILY_SPEND_LIMIT_EXCEEDED
        if not limits.counts_calls:
            return None
        self._count_up_to(dial_at)
        if limits.application is not None and self._up_by_connection[connection_id] >= limits.application:
            return outcomes.CONNECTION_CHANNEL_LIMIT_EXCEEDED
        # The account has one outbound voice profile, the application's: every call goes through it.
        if limits.profile is not None and len(self._up) >= limits.profile:
            return outcomes.OUTBOUND_PROFILE_CHANNEL_LIMIT_EXCEEDED
        if limits.account is not None and len(self._up) >= limits.account:
            return outcomes.USER_CHANNEL_LIMIT_EXCEEDED
        return None

    def track(self, fax: FaxRecord, dial_at: float, *, refused: bool) -> None:
        """Remember a new outbound fax: a refusal, or a call placed at ``dial_at`` (none for a document failure)."""
        if refused:
            self._refused.append((dial_at, fax.outcome))
            return
        if fax.outcome in outcomes.MEDIA_FAILURES:
            return
        # Only a call that gets through spends: one failing at dial (busy, no answer) costs nothing.
        pages = fax.page_count if fax.call_window() is not None else 0
        self._pages_by_day[utc_day(dial_at)] += pages
        call = Call(fax, dial_at, pages)
        self._placed[fax.id] = call
        self._not_yet_counted.append(call)

    def hang_up(self, fax: FaxRecord, at: float) -> None:
        """A cancel or a delete at ``at``: the channel is free at once; a call not yet started never happens."""
        call = self._placed.get(fax.id)
        if call is None:
            return
        if at < call.dial_at:
            del self._placed[fax.id]
            self._pages_by_day[utc_day(call.dial_at)] -= call.pages_spent
        self._forget_up(fax.id)

    def _count_up_to(self, at: float) -> None:
        """Bring ``_up`` to the calls holding a channel at ``at``: add the new calls, drop the ended ones."""
        for call in self._not_yet_counted:
            span = call.span()
            if call.fax.id in self._placed and span is not None and span[1] > at:
                self._up[call.fax.id] = call.fax.connection_id
                self._up_by_connection[call.fax.connection_id] += 1
                self._order += 1
                heapq.heappush(self._ends, (span[1], self._order, call.fax.id))
        self._not_yet_counted.clear()
        while self._ends and self._ends[0][0] <= at:
            self._forget_up(heapq.heappop(self._ends)[2])

    def _forget_up(self, fax_id: str) -> None:
        connection_id = self._up.pop(fax_id, None)
        if connection_id is not None:
            self._up_by_connection[connection_id] -= 1

    # -- what tests and the inbox read ---------------------------------------------------------
    def report(self, now: float) -> dict[str, Any]:
        """Calls up at ``now``, the most ever up at once, calls dialled and refused so far, pages spent today.

        Read from the calls' timelines as they are now, so a cancel or delete counts exactly.
        """
        changes: list[tuple[float, int]] = []
        dials = 0
        for call in self._placed.values():
            if call.dial_at <= now:
                dials += 1
            span = call.span()
            if span is not None and span[0] <= now:
                # An end sorts before a start at the same moment: that channel is free for the new call.
                changes += [(span[0], 1), (span[1], -1)] if span[1] <= now else [(span[0], 1)]
        up = peak = 0
        for _, change in sorted(changes):
            up += change
            peak = max(peak, up)
        refused = Counter(reason for at, reason in self._refused if at <= now)
        return {
            "in_use": up,
            "peak": peak,
            "dials": dials,
            "refused_at_limit": dict(sorted(refused.items())),
            "pages_today": self._pages_by_day[utc_day(now)],
        }
