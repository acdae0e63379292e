"""What a verified Telnyx fax event becomes: which asset it updates and the ``extra`` it carries."""

from __future__ import annotations

from typing import Any

from airflow_provider_telnyx_fax.assets import EVENT_KINDS, FaxEventKind
from airflow_provider_telnyx_fax.privacy import mask_number

# Telnyx event ids are UUIDs; the limit keeps a signed but odd id within the state store's key column.
MAX_EVENT_ID_LENGTH = 200
# Text fields copied into the asset event are Telnyx's short codes; anything longer is cut, not stored whole.
MAX_TEXT_LENGTH = 200


class FaxEventError(ValueError):
    """A correctly signed body that is not a fax event this route can record (no id, no fax id)."""


def _text(value: Any) -> str | None:
    return None if value is None else str(value)[:MAX_TEXT_LENGTH]


def _count(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def event_id_of(event: dict[str, Any]) -> str:
    """The Telnyx event id: the identity de-duplication keys on."""
    event_id = event["data"].get("id")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > MAX_EVENT_ID_LENGTH:
        raise FaxEventError("The event has no usable 'data.id', so it cannot be recorded exactly once.")
    return event_id


def event_kind(event: dict[str, Any]) -> FaxEventKind | None:
    """The asset kind an event updates, or ``None`` for the in-between events nobody schedules on."""
    return EVENT_KINDS.get(str(event["data"].get("event_type")))


def asset_event_extra(event: dict[str, Any], conn_id: str) -> dict[str, Any]:
    """
    The asset event's ``extra``: identifiers, status and outcome of the fax, numbers masked.

    The media URL is never copied: it is a bearer link to the document, and asset events are kept
    and shown in the UI; the DAG fetches a fresh link by fax id. ``client_state`` stays out too, as
    it holds whatever the sender put there.
    """
    data = event["data"]
    payload = data.get("payload")
    if not isinstance(payload, dict) or not payload.get("fax_id"):
        raise FaxEventError("The event has no 'data.payload.fax_id'.")
    return {
        "event_id": event_id_of(event),
        "event_type": _text(data.get("event_type")),
        "occurred_at": _text(data.get("occurred_at")),
        "telnyx_conn_id": conn_id,
        "fax_id": _text(payload["fax_id"]),
        "direction": _text(payload.get("direction")),
        "status": _text(payload.get("status")),
        "failure_reason": _text(payload.get("failure_reason")),
        "page_count": _count(payload.get("page_count")),
        "from": mask_number(payload.get("from")) if payload.get("from") is not None else None,
        "to": mask_number(payload.get("to")) if payload.get("to") is not None else None,
    }
