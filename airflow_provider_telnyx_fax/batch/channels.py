"""
How many calls a batch keeps up at once: its channel ceiling, stated or learned.

A fax is a phone call, and Telnyx caps the calls an account has up at once: 2 at initial setup, 10
after Level 2 verification, more on request (Telnyx docs, "Concurrent call limits"; support article
"Limits on Concurrent Outbound Calls"). A Fax Application or an outbound voice profile may cap lower.
A fax that reaches its dial while every channel is busy is not queued: Telnyx fails it with
``user_channel_limit_exceeded`` (or the application's or profile's reason). Such a fax never reached
anyone, so the batch dials its row again once a channel frees; the ceiling keeps those wasted dials rare.

Where the ceiling comes from, in order: the ``channel_limit`` argument; the connection's
``channel_limit`` extra and the Fax Application's ``outbound.channel_limit`` (the lower of the two);
otherwise it is learned, in rounds: the batch dials up to the ceiling, waits until each of those dials got
a channel or was refused, then raises the ceiling. It starts at 2, the least any account allows, doubles
up to 10 (Telnyx's default for a verified account), then grows by 15 % a round, so the round that finds
the limit wastes at most about 15 % of it (2 dials at 10 channels, 13 at 100). A refusal lowers the
ceiling to the calls that were up when it happened and ends the rounds; after that it probes one higher
only after :data:`CALLS_PER_PROBE` calls per channel went through, so a steady batch wastes well under
1 % of its dials. It never exceeds ``max_in_flight``, nor a stated limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.models import CHANNEL_LIMIT_REASONS, FaxStatus

if TYPE_CHECKING:
    from collections.abc import Iterable

# Every Telnyx account may have at least this many calls up at once.
LEAST_CHANNELS = 2
# Telnyx's default for a verified account: learning doubles up to it, then grows by GROWTH a round.
VERIFIED_CHANNELS = 10
GROWTH = 1.15
# A learning round whose dials have not all shown an outcome after this long is closed anyway.
ROUND_SECONDS = 120.0
# After a refusal, one more channel is tried once this many calls per channel have gone through.
CALLS_PER_PROBE = 25
DIALLED_STATUSES = frozenset({FaxStatus.SENDING.value, FaxStatus.DELIVERED.value, FaxStatus.FAILED.value})


@dataclass
class ChannelCeiling:
    """
    The most calls the batch may have up now, adjusted by what Telnyx did with its dials.

    :param limit: calls allowed now.
    :param most: never more than this (``max_in_flight``, or the stated limit).
    :param refused: whether Telnyx has refused a dial of this batch for want of a channel.
    """

    limit: int
    most: int
    refused: bool = False
    calls_since_change: int = 0
    # Calls of the batch up when each fax was sent (itself included): what a refusal says about the limit.
    calls_up_at_send: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    refusals: int = 0
    dials: int = 0
    # While learning: the current round's dials still without an outcome, and when the round began.
    round_open: set[str] = field(default_factory=set)
    round_started: float = 0.0

    @classmethod
    def start(cls, *, stated: int | None, most: int, learned: dict[str, Any] | None = None) -> ChannelCeiling:
        """A ceiling from a stated limit, or carried over from before a deferral (``learned``), or learning."""
        cap = min(stated, most) if stated else most
        if learned:
            cap = min(int(learned.get("most", cap)), most)
            return cls(
                limit=max(1, min(int(learned["limit"]), cap)),
                most=cap,
                refused=bool(learned.get("refused")),
                refusals=int(learned.get("refusals", 0)),
                dials=int(learned.get("dials", 0)),
            )
        return cls(limit=cap if stated else min(LEAST_CHANNELS, cap), most=cap, refused=bool(stated))

    def carried(self) -> dict[str, Any]:
        """What a resume after a deferral needs to go on where this one is (small, for the next kwargs)."""
        return {
            "limit": self.limit,
            "most": self.most,
            "refused": self.refused,
            "refusals": self.refusals,
            "dials": self.dials,
        }

    @property
    def learning(self) -> bool:
        return not self.refused and self.limit < self.most

    def free(self, calls_up: int) -> int:
        """How many more calls may go up now; none while a learning round waits for its outcomes."""
        if self.round_waiting and time.monotonic() - self.round_started < ROUND_SECONDS:
            return 0
        return max(0, self.limit - calls_up)

    def sent(self, fax_id: str, calls_up: int) -> None:
        self.calls_up_at_send[fax_id] = calls_up
        if self.learning:
            if not self.round_open:
                self.round_started = time.monotonic()
            self.round_open.add(fax_id)

    def observe(self, faxes: Iterable[dict[str, Any]]) -> None:
        """Learn from the batch's faxes whose dial has an outcome: refused, or given a channel."""
        round_was_open = bool(self.round_open)
        for fax in faxes:
            if fax["id"] in self.seen or fax["status"] not in DIALLED_STATUSES:
                continue
            self.seen.add(fax["id"])
            self.round_open.discard(fax["id"])
            if fax["status"] == FaxStatus.FAILED.value and fax.get("failure_reason") in CHANNEL_LIMIT_REASONS:
                self._refused(self.calls_up_at_send.get(fax["id"], self.limit + 1))
            else:
                self._connected()
        if round_was_open and not self.round_open and self.learning:
            # Every dial of the round got a channel: the next round may have more.
            if self.limit < VERIFIED_CHANNELS:
                grown = min(self.limit * 2, VERIFIED_CHANNELS)
            else:
                grown = math.ceil(self.limit * GROWTH)
            self.limit = min(self.most, grown)

    def _refused(self, calls_up: int) -> None:
        self.refusals += 1
        self.dials += 1
        self.limit = max(1, min(self.limit, calls_up - 1))
        self.refused = True
        self.round_open.clear()
        self.calls_since_change = 0

    def _connected(self) -> None:
        self.dials += 1
        self.calls_since_change += 1
        if self.refused and self.limit < self.most and self.calls_since_change >= CALLS_PER_PROBE * self.limit:
            self.limit += 1
            self.calls_since_change = 0

    @property
    def round_waiting(self) -> bool:
        """A learning round waits for its dials' outcomes before anything more is sent."""
        return self.learning and bool(self.round_open)

    def describe(self, calls_up: int) -> str:
        return f"{min(calls_up, self.limit):,} of {self.limit:,} channels busy"
