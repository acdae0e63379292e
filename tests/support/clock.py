"""A frozen clock for the send window: it reads the moments it is given, and a sleep moves it on."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest


class FrozenClock:
    """
    Reads ``moments`` one per call, then stays on the last; ``sleep`` moves the current moment on.

    Each try of a send reads the clock once before it dials, so ``FrozenClock(first_try, second_try)``
    sets the hour of each try.
    """

    def __init__(self, *moments: datetime) -> None:
        self.moments = list(moments)
        self.slept = timedelta()

    def now(self) -> datetime:
        moment = self.moments[0]
        if len(self.moments) > 1:
            self.moments.pop(0)
        return moment

    def sleep(self, seconds: float) -> None:
        self.slept += timedelta(seconds=seconds)
        self.moments[0] += timedelta(seconds=seconds)


def freeze_send_window_clock(monkeypatch: pytest.MonkeyPatch, *moments: datetime) -> FrozenClock:
    """Replace the send window's clock with a :class:`FrozenClock` for the test."""
    from airflow_provider_telnyx_fax import send_window

    clock = FrozenClock(*moments)
    monkeypatch.setattr(send_window, "CLOCK", clock)
    return clock
