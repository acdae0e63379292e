"""Turn a fax that reached the end of its life, or a trigger's event, into a task result or exception."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_telnyx_fax.models import FailureKind, FaxStatus, classify_failure
from airflow_provider_telnyx_fax.privacy import mask_number, mask_numbers_in

if TYPE_CHECKING:
    from collections.abc import Iterable

EVENT_STATUSES = frozenset({"delivered", "received", "failed", "error", "timeout"})


class FaxTimeoutError(AirflowException):
    """The fax was still in progress when the task's deadline came."""


def result_for_finished_fax(
    fax: dict[str, Any],
    *,
    retryable_reasons: Iterable[str] = (),
    permanent_reasons: Iterable[str] = (),
) -> dict[str, Any]:
    """
    Return a delivered or received fax; raise for a failed one, per the failure-reason table.

    A retryable reason raises :class:`AirflowException`, so the task's ``retries`` redial; a permanent
    one raises :class:`AirflowFailException`, which skips the retries nothing can fix.
    """
    status = FaxStatus(fax["status"])
    if status.is_success:
        return fax
    reason = fax.get("failure_reason")
    kind = classify_failure(reason, retryable_reasons=retryable_reasons, permanent_reasons=permanent_reasons)
    shown_reason = reason or "no failure_reason given"
    message = f"Fax {fax.get('id')} to {mask_number(fax.get('to'))} failed: {shown_reason} ({kind.value})"
    if kind is FailureKind.PERMANENT:
        raise AirflowFailException(f"{message}; not retrying, a retry cannot fix it.")
    raise AirflowException(f"{message}; the task fails so its retries can act (a send task redials).")


def checked_event(event: Any, fax_id: str) -> dict[str, Any]:
    """Refuse an empty, malformed or unknown trigger event before acting on it."""
    if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
        raise AirflowException(
            f"Received an empty or unknown event while waiting for fax {fax_id}: {describe_event(event)}"
        )
    if event.get("fax_id") != fax_id:
        raise AirflowException(
            f"Received an event for fax {event.get('fax_id')!r} while waiting for fax {fax_id}: {describe_event(event)}"
        )
    return event


def describe_event(event: Any) -> str:
    """A trigger event as it may appear in a message: numbers masked, cut short."""
    return mask_numbers_in(repr(event)[:500])
