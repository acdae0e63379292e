"""Start-up settings of the emulator and the speed scale shared by every timing."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

DEFAULT_API_KEY = "KEYemulator0000000000000000"
DEFAULT_CONNECTION_ID = "1234567890"
DEFAULT_FROM_NUMBER = "+15550199999"
DEFAULT_PORT = 8089
# The account id Telnyx puts in webhook payloads as ``user_id``; any stable UUID will do.
DEFAULT_USER_ID = "6a09cdc3-8948-47f0-aa62-74ac943d6c58"
# Telnyx refuses more outbound faxes than this in processing at once (HTTP 429).
DEFAULT_MAX_IN_FLIGHT = 2000
# Concurrent outbound calls of an account once it passed Level 2 verification (2 before it), across
# all its outbound voice profiles: "by default you are set to a global value of 10 concurrent outbound
# calls / channels" (https://support.telnyx.com/en/articles/1130717-limits-on-concurrent-outbound-calls,
# https://developers.telnyx.com/docs/voice/sip-trunking/configuration/concurrent-limits).
DEFAULT_CHANNEL_LIMIT = 10
DEFAULT_APPLICATION_NAME = "emulator-fax-app"
# Any stable id will do: the emulated account has one outbound voice profile, the application's.
DEFAULT_OUTBOUND_VOICE_PROFILE_ID = "1293384261075731400"

# ``speed`` is "how many times faster than a real fax line". Real durations live in outcomes.py.
REALISTIC_SPEED = 1.0
FAST_SPEED = 100.0
SPEED_PRESETS = {"realistic": REALISTIC_SPEED, "real": REALISTIC_SPEED, "fast": FAST_SPEED}

# Outcome spec as accepted from the CLI, a JSON file or the control API.
OutcomeSpec = str | list[str]


def parse_speed(value: Any) -> float:
    """Turn ``"fast"``, ``"realistic"`` or a positive number (string or float) into a speed factor.

    :raises ValueError: on anything else, so the CLI and control API can report it.
    """
    if isinstance(value, str) and value.strip().lower() in SPEED_PRESETS:
        return SPEED_PRESETS[value.strip().lower()]
    if isinstance(value, bool):
        raise ValueError(f"invalid speed {value!r}")
    try:
        speed = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"invalid speed {value!r}: use 'fast', 'realistic' or a positive number") from None
    if not math.isfinite(speed) or speed <= 0:
        raise ValueError(f"invalid speed {value!r}: must be a positive number")
    return speed


@dataclass
class EmulatorSettings:
    """Everything the emulator is configured with at start; ``reset`` returns to these values.

    :param api_keys: accepted bearer API keys.
    :param connection_id: the Fax Application id (``connection_id``) faxes must be sent with.
    :param from_number: the number the emulated account owns (default ``to`` of inbound faxes).
    :param speed: times faster than a real fax line (1 = realistic, 100 = the fast default).
    :param outcomes: per-number outcome overrides on top of the built-in test-number table.
    :param webhook_url: the application's webhook URL, used when a fax has no ``webhook_url``.
    :param webhook_failover_url: the application's failover URL.
    :param rate_limit: steady requests per second allowed on ``/v2`` (``None`` = unlimited).
    :param event_log_path: append every event and webhook delivery there as JSON lines.
    :param private_key: Ed25519 private key used to sign webhooks (PEM text or base64 of the
        32 raw bytes); a fresh key pair is generated when ``None``.
    :param webhook_timeout: seconds to wait for a webhook receiver before trying the failover.
    :param user_id: the ``user_id`` put in webhook payloads.
    :param busy_lines: a destination takes one call at a time: a fax whose call would start while
        one of ours is on that number fails ``user_busy``.
    :param max_in_flight: outbound faxes allowed in processing at once; one more gets 429
        (``None`` = no limit).
    :param channel_limit: the account's concurrent outbound calls; a fax whose call would be one more
        fails ``user_channel_limit_exceeded`` (``None`` = no limit).
    :param application_channel_limit: the Fax Application's ``outbound.channel_limit``; one more call
        fails ``connection_channel_limit_exceeded`` (``None`` = not set, as on a new application).
    :param profile_channel_limit: the outbound voice profile's channel limit; one more call fails
        ``outbound_profile_channel_limit_exceeded`` (``None`` = not set).
    :param daily_page_budget: the outbound voice profile's daily spend limit, as pages dialled per UTC
        day; a fax whose pages would go over fails ``outbound_profile_daily_spend_limit_exceeded``
        (``None`` = not set).
    """

    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    connection_id: str = DEFAULT_CONNECTION_ID
    from_number: str = DEFAULT_FROM_NUMBER
    speed: float = FAST_SPEED
    outcomes: dict[str, OutcomeSpec] = field(default_factory=dict)
    webhook_url: str | None = None
    webhook_failover_url: str | None = None
    rate_limit: float | None = None
    event_log_path: str | None = None
    private_key: str | None = None
    webhook_timeout: float = 5.0
    user_id: str = DEFAULT_USER_ID
    busy_lines: bool = True
    max_in_flight: int | None = DEFAULT_MAX_IN_FLIGHT
    channel_limit: int | None = DEFAULT_CHANNEL_LIMIT
    application_channel_limit: int | None = None
    profile_channel_limit: int | None = None
    daily_page_budget: int | None = None


def parse_limit(value: Any, name: str = "limit", unit: str = "") -> int | None:
    """A whole number; ``0``, ``None`` or ``"off"`` mean no limit.

    :param name: what the limit is called in the error message (the control key, e.g. ``channel_limit``).
    :param unit: what it counts, for the error message (e.g. ``"calls"``).
    :raises ValueError: on anything else, so the CLI and control API can report it.
    """
    text = value.strip().lower() if isinstance(value, str) else None
    if value is None or text in ("off", "none"):
        return None
    if text is not None and text.isdigit():
        return int(text) or None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value or None
    counted = f" of {unit}" if unit else ""
    raise ValueError(f"invalid {name} {value!r}: use a whole number{counted}, or 0 for no limit")


def parse_max_in_flight(value: Any) -> int | None:
    """A whole number of faxes; ``0``, ``None`` or ``"off"`` mean no limit.

    :raises ValueError: on anything else, so the CLI and control API can report it.
    """
    return parse_limit(value, "max_in_flight", "faxes")
