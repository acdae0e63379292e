"""The send window: when it is open, when it opens next, and what it accepts."""

from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_telnyx_fax import send_window
from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
from airflow_provider_telnyx_fax.send_window import SendWindow, hold_for_window
from tests.support.clock import FrozenClock

CHICAGO = ZoneInfo("America/Chicago")
WINDOW = SendWindow.of({"days": "mon-fri", "start": "08:00", "end": "18:00", "timezone": "America/Chicago"})


def chicago(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("now", "opens"),
    [
        (chicago(2026, 1, 7, 19, 0), chicago(2026, 1, 8, 8, 0)),  # Wednesday evening -> Thursday morning
        (chicago(2026, 1, 9, 19, 0), chicago(2026, 1, 12, 8, 0)),  # Friday evening -> Monday morning
        (chicago(2026, 1, 10, 12, 0), chicago(2026, 1, 12, 8, 0)),  # Saturday noon -> Monday morning
        (chicago(2026, 1, 7, 6, 30), chicago(2026, 1, 7, 8, 0)),  # early -> the same morning
        (chicago(2026, 1, 7, 18, 0), chicago(2026, 1, 8, 8, 0)),  # the end is not in the window
        (chicago(2026, 1, 7, 8, 0), chicago(2026, 1, 7, 8, 0)),  # the start is
        (chicago(2026, 1, 7, 17, 59), chicago(2026, 1, 7, 17, 59)),  # open: now
    ],
)
def test_next_open(now, opens):
    assert WINDOW.next_open(now) == opens
    assert WINDOW.is_open(now) == (now == opens)


def test_the_window_is_in_the_recipients_time_zone():
    # 01:00 UTC on a Thursday is 19:00 on Wednesday in Chicago.
    now = datetime(2026, 1, 8, 1, 0, tzinfo=timezone.utc)

    assert not WINDOW.is_open(now)
    assert WINDOW.next_open(now) == chicago(2026, 1, 8, 8, 0)


def test_across_a_daylight_saving_change_the_window_opens_at_local_08_00():
    # Saturday 7 March 2026; clocks go forward on Sunday 8 March.
    opens = WINDOW.next_open(chicago(2026, 3, 7, 12, 0))

    assert opens == chicago(2026, 3, 9, 8, 0)
    assert opens.utcoffset().total_seconds() == -5 * 3600


@pytest.mark.parametrize(
    ("days", "weekdays"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("sat,sun", (5, 6)),
        (["Monday", "wed"], (0, 2)),
        ("fri-mon", (0, 4, 5, 6)),
        ([0, 6], (0, 6)),
    ],
)
def test_days_are_named_or_ranged(days, weekdays):
    assert SendWindow.of({"days": days}).days == weekdays


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"days": "weekdays"}, "is not a day or range"),
        ({"days": []}, "days is empty"),
        ({"start": "8am"}, "is not a time like"),
        ({"start": "18:00", "end": "08:00"}, "must be before end"),
        ({"timezone": "Mars/Olympus"}, "is not an IANA time zone"),
        ({"tz": "UTC"}, "has no field tz"),
        ("mon-fri", "must be a SendWindow or a dict"),
    ],
)
def test_a_bad_window_is_refused_naming_send_window(value, message):
    with pytest.raises(TelnyxFaxValidationError, match=message) as raised:
        SendWindow.of(value)

    assert raised.value.field == "send_window"


def test_defaults_are_weekdays_eight_to_six_utc():
    window = SendWindow.of({"timezone": "UTC"})

    assert (window.days, window.start, window.end) == ((0, 1, 2, 3, 4), time(8), time(18))
    assert SendWindow.of(None) is None
    assert SendWindow.of(window) is window
    assert WINDOW.describe() == "mon-fri 08:00-18:00 America/Chicago"


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str, *args: object) -> None:
        self.lines.append(message % args)


def test_outside_the_window_a_worker_sleeps_until_it_opens(monkeypatch):
    clock = FrozenClock(chicago(2026, 1, 9, 19, 0))
    monkeypatch.setattr(send_window, "CLOCK", clock)
    log = Log()

    hold_for_window(WINDOW, deferrable=False, defer=None, log=log, method_name="x")

    assert clock.now() == chicago(2026, 1, 12, 8, 0)
    assert "not dialling before 2026-01-12T08:00:00-06:00 (waiting on the worker)" in log.lines[0]


def test_outside_the_window_a_deferrable_send_defers_to_the_opening(monkeypatch):
    from airflow.providers.standard.triggers.temporal import DateTimeTrigger

    monkeypatch.setattr(send_window, "CLOCK", FrozenClock(chicago(2026, 1, 9, 19, 0)))
    deferred: list[dict] = []

    class Deferred(Exception):
        pass

    def defer(**kwargs):
        deferred.append(kwargs)
        raise Deferred

    with pytest.raises(Deferred):
        hold_for_window(WINDOW, deferrable=True, defer=defer, log=Log(), method_name="execute_in_window")

    [call] = deferred
    assert isinstance(call["trigger"], DateTimeTrigger)
    assert call["trigger"].moment == chicago(2026, 1, 12, 8, 0)
    assert call["method_name"] == "execute_in_window"
    _, kwargs = call["trigger"].serialize()
    assert kwargs["moment"] == chicago(2026, 1, 12, 8, 0)


def test_inside_the_window_or_without_one_nothing_waits(monkeypatch):
    clock = FrozenClock(chicago(2026, 1, 7, 12, 0))
    monkeypatch.setattr(send_window, "CLOCK", clock)

    hold_for_window(WINDOW, deferrable=True, defer=None, log=Log(), method_name="x")
    hold_for_window(None, deferrable=True, defer=None, log=Log(), method_name="x")

    assert clock.slept.total_seconds() == 0
