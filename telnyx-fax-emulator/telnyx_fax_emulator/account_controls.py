"""What a test changes about the emulated account while it runs: outcomes, faults, speed, the rate limit
and the limits on sending, and what it reads back about the account's channels."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from telnyx_fax_emulator import outcomes
from telnyx_fax_emulator.channels import ChannelLimits
from telnyx_fax_emulator.errors import invalid_control
from telnyx_fax_emulator.faults import Fault, FaultBook, TokenBucket
from telnyx_fax_emulator.numbers import is_destination
from telnyx_fax_emulator.settings import parse_limit, parse_speed

if TYPE_CHECKING:
    from telnyx_fax_emulator.applications import FaxApplication
    from telnyx_fax_emulator.channels import ChannelBook
    from telnyx_fax_emulator.outcomes import OutcomeBook
    from telnyx_fax_emulator.settings import EmulatorSettings, OutcomeSpec

# Tells "leave this limit as it is" apart from ``None`` ("no limit") in :meth:`AccountControls.set_limits`.
UNCHANGED: Any = object()
# The limits counted in whole numbers, with what each counts (for error messages).
COUNTED_LIMITS = {
    "max_in_flight": "faxes",
    "channel_limit": "calls",
    "application_channel_limit": "calls",
    "profile_channel_limit": "calls",
    "daily_page_budget": "pages",
}


class AccountControls:
    """Run-time changes and the channel report, as methods of :class:`~telnyx_fax_emulator.backend.Backend`."""

    if TYPE_CHECKING:
        settings: EmulatorSettings
        outcomes: OutcomeBook
        faults: FaultBook
        rate_limiter: TokenBucket | None
        application: FaxApplication
        channels: ChannelBook

    def set_outcome(self, number: str, spec: object) -> None:
        """``spec``: ``"delivered"``, a failure reason, ``"stays_sending"``, or a list (one per fax, last repeats)."""
        if not isinstance(number, str) or not is_destination(number):
            raise invalid_control(f"The number must be in +E.164 format (like +15557654321), not {number!r}.")
        try:
            self.outcomes.set(number, outcomes.validate_outcome(spec))
        except ValueError as exc:
            raise invalid_control(str(exc)) from None

    def remove_outcome(self, number: str) -> None:
        self.outcomes.remove(number)

    def outcome_table(self) -> dict[str, OutcomeSpec]:
        return self.outcomes.table()

    def add_fault(self, method: str, path: str, kind: str, count: Any = 1, **options: Any) -> Fault:
        try:
            return self.faults.add(method, path, kind, count, **options)
        except ValueError as exc:
            raise invalid_control(str(exc)) from None

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_speed(self, speed: Any) -> float:
        """``"fast"``, ``"realistic"`` or times faster than real; applies to faxes created from now on."""
        try:
            self.settings.speed = parse_speed(speed)
        except ValueError as exc:
            raise invalid_control(str(exc)) from None
        return self.settings.speed

    def set_rate_limit(self, requests_per_second: Any) -> float | None:
        """A steady limit on ``/v2``; ``None`` removes it."""
        if requests_per_second is None:
            self.rate_limiter = None
            return None
        rate = requests_per_second
        if not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0:
            raise invalid_control("requests_per_second must be a positive number or null")
        self.rate_limiter = TokenBucket(float(rate))
        return self.rate_limiter.rate

    def set_limits(self, *, busy_lines: Any = UNCHANGED, **limits: Any) -> dict[str, Any]:
        """Switch busy lines on or off, and change (``None`` or 0: remove) any of :data:`COUNTED_LIMITS`.

        Nothing changes unless every value given is valid; a new channel limit holds from the next call.
        """
        if busy_lines is not UNCHANGED and not isinstance(busy_lines, bool):
            raise invalid_control("busy_lines must be true or false")
        unknown = sorted(set(limits) - set(COUNTED_LIMITS))
        if unknown:
            raise invalid_control(f"unknown limits {unknown}: use busy_lines or {', '.join(COUNTED_LIMITS)}")
        parsed: dict[str, int | None] = {}
        for name, value in limits.items():
            if value is UNCHANGED:
                continue
            try:
                parsed[name] = parse_limit(value, name, COUNTED_LIMITS[name])
            except ValueError as exc:
                raise invalid_control(str(exc)) from None
        if busy_lines is not UNCHANGED:
            self.settings.busy_lines = busy_lines
        for name, limit in parsed.items():
            if name == "application_channel_limit":
                self.application.outbound_channel_limit = limit
                self.application.updated_at = time.time()
            else:
                setattr(self.settings, name, limit)
        return self.limits()

    def limits(self) -> dict[str, Any]:
        return {
            "busy_lines": self.settings.busy_lines,
            "max_in_flight": self.settings.max_in_flight,
            "channel_limit": self.settings.channel_limit,
            "application_channel_limit": self.application.outbound_channel_limit,
            "profile_channel_limit": self.settings.profile_channel_limit,
            "daily_page_budget": self.settings.daily_page_budget,
        }

    def channel_limits(self) -> ChannelLimits:
        """The limits a call of the account's application meets now."""
        return ChannelLimits(
            account=self.settings.channel_limit,
            application=self.application.outbound_channel_limit,
            profile=self.settings.profile_channel_limit,
            daily_pages=self.settings.daily_page_budget,
        )

    def channel_report(self) -> dict[str, Any]:
        """Calls up now against the limits, the exact peak, dials and refusals since start or reset."""
        report = self.channels.report(time.time())
        return {
            "in_use": report["in_use"],
            "limit": self.settings.channel_limit,
            "application_limit": self.application.outbound_channel_limit,
            "profile_limit": self.settings.profile_channel_limit,
            "peak": report["peak"],
            "dials": report["dials"],
            "refused_at_limit": report["refused_at_limit"],
            "daily_page_budget": self.settings.daily_page_budget,
            "pages_today": report["pages_today"],
        }
