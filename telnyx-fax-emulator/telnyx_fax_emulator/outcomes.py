"""Test-number outcomes and the timeline each outcome produces.

A fax's whole life is decided when it is created: a list of ``(status, at)`` transitions. The
API then reads the status lazily from the clock, which keeps reads cheap and deterministic.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telnyx_fax_emulator.settings import OutcomeSpec

DELIVERED = "delivered"
# Not a Telnyx reason: the fax reaches ``sending`` and stays there until cancelled.
STAYS_SENDING = "stays_sending"
# What a successful cancel ends with (the SDK documents ``sender_canceled`` as a failure_reason).
SENDER_CANCELED = "sender_canceled"

# Also what a fax gets when it calls a line one of ours is already on (see lines.py).
USER_BUSY = "user_busy"

# What a fax gets when its call would go over a limit of the account (see channels.py). Telnyx fails
# such a fax rather than queueing it.
USER_CHANNEL_LIMIT_EXCEEDED = "user_channel_limit_exceeded"
CONNECTION_CHANNEL_LIMIT_EXCEEDED = "connection_channel_limit_exceeded"
OUTBOUND_PROFILE_CHANNEL_LIMIT_EXCEEDED = "outbound_profile_channel_limit_exceeded"
OUTBOUND_PROFILE_DAILY_SPEND_LIMIT_EXCEEDED = "outbound_profile_daily_spend_limit_exceeded"
LIMIT_FAILURES = frozenset(
    {
        USER_CHANNEL_LIMIT_EXCEEDED,
        CONNECTION_CHANNEL_LIMIT_EXCEEDED,
        OUTBOUND_PROFILE_CHANNEL_LIMIT_EXCEEDED,
        OUTBOUND_PROFILE_DAILY_SPEND_LIMIT_EXCEEDED,
    }
)

DEFAULT_OUTCOMES: dict[str, OutcomeSpec] = {
    "+15550100000": DELIVERED,
    "+15550100001": USER_BUSY,
    "+15550100002": "receiver_no_answer",
    "+15550100003": "receiver_call_dropped",
    "+15550100004": "carrier_lost",
    "+15550100005": "destination_invalid",
    "+15550100006": "receiver_unallocated_number",
    "+15550100007": "file_download_failed",
    "+15550100008": "file_format_invalid",
    "+15550100009": "page_count_limit_exceeded",
    "+15550100010": ["user_busy", DELIVERED],
    "+15550100011": STAYS_SENDING,
}

# Real-line durations in seconds, divided by the speed factor.
QUEUED_SECS = 2.0
MEDIA_PROCESSED_SECS = 3.0
# A call is a set-up (dial, answer, the T.30 handshake) and then the pages. Telnyx's own fax.delivered
# examples put 2 pages at 25 s (https://developers.telnyx.com/api-reference/callbacks/fax-delivered) and
# 1 page at 79 s; 20 s + 30 s a page sits between them.
CALL_SETUP_SECS = 20.0
PAGE_SECS = 30.0
INBOUND_PROCESSING_SECS = 3.0
INBOUND_MEDIA_URL_TTL_SECS = 600.0

# Reasons Telnyx reports before any call is placed: the document could not be prepared.
MEDIA_FAILURES = frozenset(
    {
        "file_download_failed",
        "file_format_invalid",
        "file_size_limit_exceeded",
        "page_count_limit_exceeded",
        "media_processing_exception",
    }
)
# Reasons that end the call attempt before any page is sent (no ``sending`` status).
CALL_SETUP_FAILURES = frozenset(
    {
        "user_busy",
        "receiver_no_answer",
        "destination_invalid",
        "receiver_unallocated_number",
        "receiver_decline",
        "receiver_invalid_number_format",
        "destination_unreachable",
        "receiver_incompatible_destination",
        "destination_not_in_service_plan",
        "destination_not_in_countries_whitelist",
        "unverified_destination_not_allowed",
        "service_unavailable",
        *LIMIT_FAILURES,
    }
)

INTERNAL_FAILURE_REASONS = {
    "user_busy": "sip_486_busy_here",
    "receiver_no_answer": "sip_480_no_answer_timeout",
    "receiver_call_dropped": "t30_receiver_hangup_during_page_transfer",
    "carrier_lost": "t30_carrier_lost_during_page_transfer",
    "destination_invalid": "sip_404_destination_not_found",
    "receiver_unallocated_number": "q850_cause_1_unallocated_number",
    "file_download_failed": "media_fetch_http_error",
    "file_format_invalid": "media_conversion_unsupported_format",
    "file_size_limit_exceeded": "media_size_over_50_mb",
    "page_count_limit_exceeded": "media_page_count_over_350",
    SENDER_CANCELED: "canceled_by_api_request",
    USER_CHANNEL_LIMIT_EXCEEDED: "account_outbound_channel_limit_reached",
    CONNECTION_CHANNEL_LIMIT_EXCEEDED: "fax_application_outbound_channel_limit_reached",
    OUTBOUND_PROFILE_CHANNEL_LIMIT_EXCEEDED: "outbound_voice_profile_channel_limit_reached",
    OUTBOUND_PROFILE_DAILY_SPEND_LIMIT_EXCEEDED: "outbound_voice_profile_daily_spend_limit_reached",
}

_REASON_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def internal_failure_reason(reason: str) -> str:
    """A plausible granular reason for ``internal_failure_reason``."""
    return INTERNAL_FAILURE_REASONS.get(reason, f"emulated_{reason}")


def validate_outcome(spec: object) -> OutcomeSpec:
    """Check an outcome from the CLI, a file or the control API.

    :raises ValueError: when it is neither a reason string nor a non-empty list of them.
    """
    items: list[object] = list(spec) if isinstance(spec, list) else [spec]
    if not items:
        raise ValueError("an outcome list needs at least one entry")
    checked: list[str] = []
    for item in items:
        if not isinstance(item, str) or not _REASON_RE.match(item):
            raise ValueError(
                f"invalid outcome {item!r}: use 'delivered', '{STAYS_SENDING}' or a failure reason like 'user_busy'"
            )
        checked.append(item)
    return checked if isinstance(spec, list) else checked[0]


@dataclass(frozen=True)
class Transition:
    """One status change: ``status`` from wall-clock time ``at`` (epoch seconds)."""

    status: str
    at: float


def call_starts_at(start: float, speed: float) -> float:
    """When the call of an outbound fax created at ``start`` is placed (after queueing and media processing)."""
    return start + (QUEUED_SECS + MEDIA_PROCESSED_SECS) / speed


def line_secs(page_count: int) -> float:
    """Real-line seconds of a whole call: the set-up, then every page."""
    return CALL_SETUP_SECS + page_count * PAGE_SECS


def outbound_timeline(start: float, outcome: str, page_count: int, speed: float) -> list[Transition]:
    """Plan an outbound fax: ``queued`` → ``media.processed`` → ``sending`` → delivered/failed."""
    scale = 1.0 / speed
    processed_at = start + QUEUED_SECS * scale
    sending_at = call_starts_at(start, speed)
    plan = [Transition("queued", start)]
    if outcome in MEDIA_FAILURES:
        return [*plan, Transition("failed", processed_at)]
    plan.append(Transition("media.processed", processed_at))
    if outcome in CALL_SETUP_FAILURES:
        return [*plan, Transition("failed", sending_at)]
    plan.append(Transition("sending", sending_at))
    if outcome == STAYS_SENDING:
        return plan
    if outcome == DELIVERED:
        return [*plan, Transition("delivered", sending_at + line_secs(page_count) * scale)]
    # Failures during the call happen part-way through the document.
    return [*plan, Transition("failed", sending_at + (CALL_SETUP_SECS + page_count / 2 * PAGE_SECS) * scale)]


def inbound_timeline(start: float, page_count: int, speed: float) -> list[Transition]:
    """Plan an inbound fax: ``receiving`` → ``media.processing`` → ``received``."""
    scale = 1.0 / speed
    processing_at = start + page_count * PAGE_SECS * scale
    return [
        Transition("receiving", start),
        Transition("media.processing", processing_at),
        Transition("received", processing_at + INBOUND_PROCESSING_SECS * scale),
    ]


class OutcomeBook:
    """Outcome per destination number, with sequences consumed one per fax sent.

    :param overrides: start-up overrides on top of :data:`DEFAULT_OUTCOMES`.
    """

    def __init__(self, overrides: dict[str, OutcomeSpec] | None = None) -> None:
        self._lock = threading.Lock()
        self._table: dict[str, OutcomeSpec] = {**DEFAULT_OUTCOMES, **(overrides or {})}
        self._sent: dict[str, int] = {}

    def set(self, number: str, spec: OutcomeSpec) -> None:
        """Replace a number's outcome; a new sequence starts from its first entry."""
        with self._lock:
            self._table[number] = validate_outcome(spec)
            self._sent.pop(number, None)

    def remove(self, number: str) -> None:
        with self._lock:
            self._table.pop(number, None)
            self._sent.pop(number, None)

    def table(self) -> dict[str, OutcomeSpec]:
        with self._lock:
            return dict(self._table)

    def peek(self, number: str) -> str:
        """The outcome the next fax to ``number`` would get, without using up an entry of a sequence."""
        with self._lock:
            spec = self._table.get(number, DELIVERED)
            return spec if isinstance(spec, str) else spec[min(self._sent.get(number, 0), len(spec) - 1)]

    def next_for(self, number: str) -> str:
        """The outcome of the next fax sent to ``number`` (numbers not in the table deliver)."""
        with self._lock:
            spec = self._table.get(number, DELIVERED)
            if isinstance(spec, str):
                return spec
            index = self._sent.get(number, 0)
            self._sent[number] = index + 1
            # The last entry repeats once the sequence is used up.
            return spec[min(index, len(spec) - 1)]
