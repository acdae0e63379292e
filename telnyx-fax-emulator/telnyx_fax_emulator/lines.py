"""Two limits a batch meets on real lines: one call at a time per destination, and the account's
cap on outbound faxes in processing at once. (The account's concurrent calls are channels.py's.)

Both read the faxes' planned timelines, so a cancel (which rewrites a timeline) frees the line and
the capacity at once, with nothing to update here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telnyx_fax_emulator.state import FaxRecord


class LineBook:
    """Which destinations one of our faxes is calling, and which outbound faxes are still in processing."""

    def __init__(self) -> None:
        self._calls: dict[str, list[FaxRecord]] = {}
        self._open: dict[str, FaxRecord] = {}

    def clear(self) -> None:
        self._calls.clear()
        self._open.clear()

    def track(self, fax: FaxRecord) -> None:
        """Remember a new outbound fax: it counts towards the limit, and holds its line while on a call."""
        self._open[fax.id] = fax
        calls = self._calls.setdefault(fax.to, [])
        # A call over by now (ended, cancelled or deleted) never holds the line again.
        calls[:] = [call for call in calls if call.deleted_at is None and _ends_after(call, fax.created_at)]
        if fax.call_window() is not None:
            calls.append(fax)

    def is_busy(self, number: str, at: float) -> bool:
        """True when one of our faxes is on a call with ``number`` at time ``at``."""
        return any(call.deleted_at is None and _covers(call, at) for call in self._calls.get(number, ()))

    def at_capacity(self, limit: int, now: float) -> bool:
        """True when ``limit`` outbound faxes are queued, media-processed or sending at ``now``."""
        # Only a count at the limit needs the finished faxes forgotten: sends stay O(1) below it.
        if len(self._open) >= limit:
            finished = [fax_id for fax_id, fax in self._open.items() if not fax.is_in_processing(now)]
            for fax_id in finished:
                del self._open[fax_id]
        return len(self._open) >= limit


def _ends_after(fax: FaxRecord, at: float) -> bool:
    window = fax.call_window()
    return window is not None and window[1] > at


def _covers(fax: FaxRecord, at: float) -> bool:
    window = fax.call_window()
    return window is not None and window[0] <= at < window[1]
