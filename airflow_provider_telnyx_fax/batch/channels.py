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
otherwise it is learned. Learning starts at 2, the least any account allows, and grows by one for every
call that got a channel until a dial is refused (like TCP's slow start: it doubles every round of
calls). A refusal lowers it to the calls that were up when it happened; after that it probes one
higher only after :data:`CALLS_PER_PROBE` calls per channel went through, so a steady batch wastes
well under 5 % of its dials. It never exceeds ``max_in_flight``, nor a stated limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.models import CHANNEL_LIMIT_REASONS, FaxStatus

if TYPE_CHECKING:
    from collections.abc import Iterable

# Every Telnyx account may have at least this many calls up at once.
LEAST_CHANNELS = 2
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

    def free(self, calls_up: int) -> int:
        return max(0, self.limit - calls_up)

    def sent(self, fax_id: str, calls_up: int) -> None:
        self.calls_up_at_send[fax_id] = calls_up

    def observe(self, faxes: Iterable[dict[str, Any]]) -> None:
        """Learn from the batch's faxes whose dial has an outcome: refused, or given a channel."""
        for fax in faxes:
            if fax["id"] in self.seen or fax["status"] not in DIALLED_STATUSES:
                continue
            self.seen.add(fax["id"])
            if fax["status"] == FaxStatus.FAILED.value and fax.get("failure_reason") in CHANNEL_LIMIT_REASONS:
                self._refused(self.calls_up_at_send.get(fax["id"], self.limit + 1))
            else:
                self._connected()

    def _refused(self, calls_up: int) -> None:
        self.refusals += 1
        self.dials += 1
        self.limit = max(1, min(self.limit, calls_up - 1))
        self.refused = True
        self.calls_since_change = 0

    def _connected(self) -> None:
        self.dials += 1
        self.calls_since_change += 1
        if self.limit >= self.most:
            return
        if not self.refused or self.calls_since_change >= CALLS_PER_PROBE * self.limit:
            self.limit += 1
            self.calls_since_change = 0

    def describe(self, calls_up: int) -> str:
        return f"{min(calls_up, self.limit):,} of {self.limit:,} channels busy"
