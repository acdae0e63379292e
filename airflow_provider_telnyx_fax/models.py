"""Fax statuses and failure reasons as Telnyx reports them, and how Airflow should treat each."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class FaxStatus(str, Enum):
    """Every ``status`` a Telnyx fax can have (outbound and inbound)."""

    QUEUED = "queued"
    MEDIA_PROCESSED = "media.processed"
    ORIGINATED = "originated"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
    INITIATED = "initiated"
    RECEIVING = "receiving"
    MEDIA_PROCESSING = "media.processing"
    RECEIVED = "received"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def is_success(self) -> bool:
        return self in SUCCESS_STATUSES

    @property
    def is_cancellable(self) -> bool:
        return self in CANCELLABLE_STATUSES


SUCCESS_STATUSES = frozenset({FaxStatus.DELIVERED, FaxStatus.RECEIVED})
TERMINAL_STATUSES = SUCCESS_STATUSES | {FaxStatus.FAILED}
CANCELLABLE_STATUSES = frozenset({FaxStatus.QUEUED, FaxStatus.MEDIA_PROCESSED, FaxStatus.ORIGINATED, FaxStatus.SENDING})


class FailureKind(str, Enum):
    """Whether sending the fax again can be expected to help."""

    RETRYABLE = "retryable"
    PERMANENT = "permanent"


# Telnyx's customer-facing failure_reason values (documented in the official SDK's Fax model).
# Retryable: the line, the far end or a transient capacity limit; a redial later may succeed.
# Permanent: the number, the document or the account is wrong; redialling cannot fix it.
FAILURE_REASONS: Mapping[str, FailureKind] = {
    "user_busy": FailureKind.RETRYABLE,
    "receiver_no_answer": FailureKind.RETRYABLE,
    "receiver_no_response": FailureKind.RETRYABLE,
    "receiver_call_dropped": FailureKind.RETRYABLE,
    "sender_call_dropped": FailureKind.RETRYABLE,
    "carrier_lost": FailureKind.RETRYABLE,
    "service_unavailable": FailureKind.RETRYABLE,
    "fax_signaling_error": FailureKind.RETRYABLE,
    "receiver_communication_error": FailureKind.RETRYABLE,
    "sender_communication_error": FailureKind.RETRYABLE,
    "receiver_recovery_on_timer_expire": FailureKind.RETRYABLE,
    "fax_initial_communication_timeout": FailureKind.RETRYABLE,
    "invalid_ecm_response_from_receiver": FailureKind.RETRYABLE,
    "destination_unreachable": FailureKind.RETRYABLE,
    "user_channel_limit_exceeded": FailureKind.RETRYABLE,
    "outbound_profile_channel_limit_exceeded": FailureKind.RETRYABLE,
    "connection_channel_limit_exceeded": FailureKind.RETRYABLE,
    "media_processing_exception": FailureKind.RETRYABLE,
    "file_download_failed": FailureKind.RETRYABLE,
    "receiver_decline": FailureKind.PERMANENT,
    "receiver_invalid_number_format": FailureKind.PERMANENT,
    "receiver_incompatible_destination": FailureKind.PERMANENT,
    "receiver_unallocated_number": FailureKind.PERMANENT,
    "destination_invalid": FailureKind.PERMANENT,
    "destination_not_in_service_plan": FailureKind.PERMANENT,
    "destination_not_in_countries_whitelist": FailureKind.PERMANENT,
    "account_disabled": FailureKind.PERMANENT,
    "no_outbound_profile": FailureKind.PERMANENT,
    "outbound_profile_daily_spend_limit_exceeded": FailureKind.PERMANENT,
    "unverified_origination_number": FailureKind.PERMANENT,
    "unverified_destination_not_allowed": FailureKind.PERMANENT,
    "file_format_invalid": FailureKind.PERMANENT,
    "file_size_limit_exceeded": FailureKind.PERMANENT,
    "page_count_limit_exceeded": FailureKind.PERMANENT,
    "sender_canceled": FailureKind.PERMANENT,
    "rejected": FailureKind.PERMANENT,
}


# Telnyx refused to dial: every channel the account, the Fax Application or the outbound voice profile
# allows was in use ("Limits on Concurrent Outbound Calls"). The fax never reached the recipient, so
# dialling it again once a channel frees is safe, and is not a failed delivery.
CHANNEL_LIMIT_REASONS = frozenset(
    {"user_channel_limit_exceeded", "connection_channel_limit_exceeded", "outbound_profile_channel_limit_exceeded"}
)
# Telnyx refused to dial because the outbound voice profile spent its daily limit: nothing more dials today.
SPEND_LIMIT_REASONS = frozenset({"outbound_profile_daily_spend_limit_exceeded"})
NOT_DIALLED_REASONS = CHANNEL_LIMIT_REASONS | SPEND_LIMIT_REASONS


def was_not_dialled(fax: dict[str, object]) -> bool:
    """True for a fax Telnyx failed before dialling because a channel or spend limit was reached."""
    return fax.get("status") == FaxStatus.FAILED.value and fax.get("failure_reason") in NOT_DIALLED_REASONS


def classify_failure(
    reason: str | None,
    *,
    retryable_reasons: Iterable[str] = (),
    permanent_reasons: Iterable[str] = (),
) -> FailureKind:
    """
    Classify a ``failure_reason``; the task-level overrides win over the built-in table.

    Unknown or missing reasons count as retryable: a spurious redial costs one fax, a
    wrongly permanent failure silently drops a document nobody received.
    """
    if reason in set(permanent_reasons):
        return FailureKind.PERMANENT
    if reason in set(retryable_reasons):
        return FailureKind.RETRYABLE
    if reason is None:
        return FailureKind.RETRYABLE
    return FAILURE_REASONS.get(reason, FailureKind.RETRYABLE)
