"""
Business hours for sending: the days and hours, in the recipient's time zone, when a fax may be dialled.

Outside the window a send waits until it opens: deferred to the triggerer with a date-time trigger
when the operator is ``deferrable``, asleep on the worker otherwise. Every try checks the window
before it dials, so a retry after ``user_busy`` at 17:59 does not redial at 18:04 but the next
morning. A fax already sent by an earlier try is adopted whatever the hour (nothing is dialled).

The clock is :data:`CLOCK`, which tests replace with a frozen one.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from datetime import time as time_of_day
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = (0, 1, 2, 3, 4)
_CLOCK_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# A worker waiting for the window wakes this often, so a killed task stops promptly.
WORKER_SLEEP_STEP = 60.0


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


CLOCK: Clock = SystemClock()


def _parse_days(value: Any) -> tuple[int, ...]:
    """``"mon-fri"``, ``"mon,wed,fri"``, ``["sat", "sun"]`` or weekday numbers (Monday is 0) to weekday numbers."""
    items: Sequence[Any] = value.split(",") if isinstance(value, str) else value
    days: set[int] = set()
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
            days.add(item)
            continue
        text = str(item).strip().lower()
        first, _, last = text.partition("-")
        if first[:3] not in DAY_NAMES or (last and last[:3] not in DAY_NAMES):
            raise TelnyxFaxValidationError(
                "send_window", f"days: {item!r} is not a day or range of days like 'mon-fri' or 'sat,sun'"
            )
        start = DAY_NAMES.index(first[:3])
        stop = DAY_NAMES.index(last[:3]) if last else start
        span = (stop - start) % 7
        days.update((start + offset) % 7 for offset in range(span + 1))
    if not days:
        raise TelnyxFaxValidationError("send_window", "days is empty; name at least one day, e.g. 'mon-fri'")
    return tuple(sorted(days))


def _parse_time(name: str, value: Any) -> time_of_day:
    if isinstance(value, time_of_day):
        return value
    match = _CLOCK_TIME.match(str(value).strip())
    if not match:
        raise TelnyxFaxValidationError("send_window", f"{name}: {value!r} is not a time like '08:00' or '18:00'")
    return time_of_day(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True, kw_only=True)
class SendWindow:
    """
    When a fax may be dialled: ``days`` from ``start`` to ``end`` (start included, end not), in ``timezone``.

    :param days: weekday numbers, Monday 0 (``SendWindow.of`` also takes ``"mon-fri"``, ``["sat", "sun"]``).
    :param start: the local time the window opens.
    :param end: the local time it closes; later than ``start`` (a window does not span midnight).
    :param timezone: an IANA time zone name, the recipient's, e.g. ``America/Chicago``.
    """

    days: tuple[int, ...] = WEEKDAYS
    start: time_of_day = field(default_factory=lambda: time_of_day(8, 0))
    end: time_of_day = field(default_factory=lambda: time_of_day(18, 0))
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise TelnyxFaxValidationError(
                "send_window", f"start ({self.start:%H:%M}) must be before end ({self.end:%H:%M}) on the same day"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise TelnyxFaxValidationError(
                "send_window", f"timezone {self.timezone!r} is not an IANA time zone like 'America/Chicago'"
            ) from None

    @classmethod
    def of(cls, value: Any) -> SendWindow | None:
        """A window from a ``SendWindow``, a dict (``days``, ``start``, ``end``, ``timezone``) or ``None``."""
        if value is None or value == {}:
            return None
        if isinstance(value, SendWindow):
            return value
        if not isinstance(value, dict):
            raise TelnyxFaxValidationError(
                "send_window", "must be a SendWindow or a dict of days, start, end, timezone"
            )
        unknown = sorted(str(name) for name in value if name not in ("days", "start", "end", "timezone"))
        if unknown:
            raise TelnyxFaxValidationError(
                "send_window", f"has no field {', '.join(unknown)}; use days, start, end, timezone"
            )
        return cls(
            days=_parse_days(value.get("days", "mon-fri")),
            start=_parse_time("start", value.get("start", "08:00")),
            end=_parse_time("end", value.get("end", "18:00")),
            timezone=str(value.get("timezone", "UTC")),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def describe(self) -> str:
        """``mon-fri 08:00-18:00 America/Chicago``."""
        days = ",".join(DAY_NAMES[day] for day in self.days)
        if self.days == WEEKDAYS:
            days = "mon-fri"
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M} {self.timezone}"

    def _bounds(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.start, tzinfo=self.zone),
            datetime.combine(day, self.end, tzinfo=self.zone),
        )

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        opens, closes = self._bounds(local.date())
        return local.weekday() in self.days and opens <= local < closes

    def next_open(self, now: datetime) -> datetime:
        """``now`` when the window is open, else the moment it next opens (in the window's time zone)."""
        if self.is_open(now):
            return now
        local = now.astimezone(self.zone)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            opens, _ = self._bounds(day)
            if day.weekday() in self.days and opens > local:
                return opens
        raise AssertionError("unreachable: a window with at least one day opens within a week")


def closed_until(window: SendWindow | None) -> datetime | None:
    """The moment ``window`` next opens when it is closed now; ``None`` when open (or there is none)."""
    return _closed_until(window, CLOCK.now()) if window is not None else None


def _closed_until(window: SendWindow, now: datetime) -> datetime | None:
    opens = window.next_open(now)
    return opens if opens > now else None


def closed_for(window: SendWindow | None) -> tuple[datetime, bool] | None:
    """When ``window`` is closed now: the moment it opens, and whether that wait is worth a deferral."""
    if window is None:
        return None
    now = CLOCK.now()
    opens = _closed_until(window, now)
    return (opens, worth_deferring(opens, now)) if opens is not None else None


def worth_deferring(opens: datetime, now: datetime) -> bool:
    """
    Whether a wait until ``opens`` is long enough to defer: a trigger that fires within seconds of its
    deferral can get the task failed (apache/airflow#72716), so a shorter wait stays on the worker.
    """
    from airflow_provider_telnyx_fax.polling import MIN_DEFERRAL_SECONDS

    return (opens - now).total_seconds() >= MIN_DEFERRAL_SECONDS


def hold_for_window(
    window: SendWindow | None,
    *,
    deferrable: bool,
    defer: Callable[..., Any],
    log: Any,
    method_name: str,
    kwargs: dict[str, Any] | None = None,
) -> None:
    """
    Return when ``window`` is open (or there is none); otherwise wait until it opens.

    Deferrable: ``defer`` with a :class:`DateTimeTrigger` for the opening, resuming in ``method_name``
    (which must check again and send). Otherwise the worker sleeps until the opening.
    """
    if window is None:
        return
    now = CLOCK.now()
    opens = _closed_until(window, now)
    if opens is None:
        return
    deferrable = deferrable and worth_deferring(opens, now)
    log.info(
        "Outside the send window (%s); not dialling before %s (%s).",
        window.describe(),
        opens.isoformat(),
        "deferred to the triggerer" if deferrable else "waiting on the worker",
    )
    if deferrable:
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger

        defer(trigger=DateTimeTrigger(moment=opens.astimezone(timezone.utc)), method_name=method_name, kwargs=kwargs)
    while (remaining := (opens - CLOCK.now()).total_seconds()) > 0:
        CLOCK.sleep(min(remaining, WORKER_SLEEP_STEP))
