"""What the inbox pages show, as plain values: each fax, its timeline, its events, its document.

Built from the backend's records at one moment; the templates only format these.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from telnyx_fax_emulator import outcomes
from telnyx_fax_emulator.documents import guess_content_type, is_fetchable, sniff_content_type

if TYPE_CHECKING:
    from telnyx_fax_emulator.settings import EmulatorSettings
    from telnyx_fax_emulator.state import EventRecord, FaxRecord

PREFIX = "/_emulator/inbox"
SEND_KEY_FORMAT_VERSION = 1
# Shown inline in the detail page; anything else is offered as a download, never rendered.
INLINE_TYPES = {"application/pdf": "pdf", "image/png": "image", "image/jpeg": "image"}


@dataclass(frozen=True)
class Stamp:
    """A moment as the page shows it (UTC): in full, as a clock time for the list, and for ``<time datetime>``."""

    iso: str
    text: str
    clock: str

    @classmethod
    def of(cls, epoch: float) -> Stamp:
        moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
        millis = f".{moment.microsecond // 1000:03d}"
        return cls(
            iso=moment.strftime("%Y-%m-%dT%H:%M:%S") + millis + "Z",
            text=moment.strftime("%Y-%m-%d %H:%M:%S") + millis,
            clock=moment.strftime("%H:%M:%S") + millis,
        )


@dataclass(frozen=True)
class SendKeyView:
    """The task instance that sent a fax, decoded from the operator's ``client_state``."""

    dag: str
    task: str
    run: str
    map_index: int | None
    key: str
    user_client_state: str | None


def decode_send_key(client_state: str | None) -> SendKeyView | None:
    """Decode the provider's send key: base64 of ``{"afx": 1, "key", "dag", "task", "run", "map", "user"}``.

    The format is documented in ``airflow_provider_telnyx_fax/idempotency.py``; the emulator reads it
    itself rather than importing the provider, so it stays usable without Airflow's code paths.
    Returns ``None`` for any other ``client_state``.
    """
    if not client_state:
        return None
    try:
        state = json.loads(base64.b64decode(client_state, validate=True))
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    if not isinstance(state, dict) or state.get("afx") != SEND_KEY_FORMAT_VERSION or "key" not in state:
        return None

    def text(name: str) -> str:
        value = state.get(name)
        return "" if value is None else str(value)

    map_index = state.get("map")
    user = state.get("user")
    return SendKeyView(
        dag=text("dag"),
        task=text("task"),
        run=text("run"),
        map_index=map_index if isinstance(map_index, int) and not isinstance(map_index, bool) else None,
        key=text("key"),
        user_client_state=str(user) if user else None,
    )


@dataclass(frozen=True)
class FaxView:
    """One fax as the inbox shows it, at one moment."""

    id: str
    direction: str
    status: str
    status_class: str
    to: str
    from_: str
    from_display_name: str | None
    page_count: int
    failure_reason: str | None
    internal_failure_reason: str | None
    outcome: str
    quality: str
    created: Stamp
    updated: Stamp
    deleted: Stamp | None
    send_key: SendKeyView | None
    client_state: str | None
    document_name: str | None
    webhook_url: str | None
    webhook_failover_url: str | None

    @property
    def short_id(self) -> str:
        return self.id.split("-", 1)[0]


def status_class(status: str) -> str:
    if status in ("delivered", "received"):
        return "ok"
    if status == "failed":
        return "bad"
    return "busy"


def fax_view(fax: FaxRecord, now: float, settings: EmulatorSettings) -> FaxView:
    status = fax.status_at(now)
    failed = status == "failed"
    return FaxView(
        id=fax.id,
        direction=fax.direction,
        status=status,
        status_class=status_class(status),
        to=fax.to,
        from_=fax.from_,
        from_display_name=fax.from_display_name,
        page_count=fax.page_count,
        failure_reason=fax.failure_reason if failed else None,
        internal_failure_reason=fax.internal_failure_reason if failed else None,
        outcome=fax.outcome,
        quality=fax.quality,
        created=Stamp.of(fax.created_at),
        updated=Stamp.of(fax.updated_at(now)),
        deleted=Stamp.of(fax.deleted_at) if fax.deleted_at is not None else None,
        send_key=decode_send_key(fax.client_state),
        client_state=fax.client_state,
        document_name=fax.document_name,
        webhook_url=fax.webhook_url or settings.webhook_url,
        webhook_failover_url=fax.webhook_failover_url or settings.webhook_failover_url,
    )


@dataclass(frozen=True)
class TimelineStep:
    status: str
    status_class: str
    at: Stamp
    planned: bool


@dataclass(frozen=True)
class DeliveryView:
    url: str
    attempt: int
    at: str
    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class EventView:
    event_type: str
    occurred: Stamp
    deliveries: list[DeliveryView]


def event_view(event: EventRecord) -> EventView:
    deliveries = [
        DeliveryView(
            url=str(item.get("url", "")),
            attempt=int(item.get("attempt", 0)),
            at=str(item.get("at", "")),
            status=item.get("status"),
            error=item.get("error"),
        )
        for item in event.deliveries
    ]
    return EventView(event.event_type, Stamp.of(event.occurred_at), deliveries)


@dataclass(frozen=True)
class DocumentView:
    """How the detail page shows the document: ``pdf`` or ``image`` inline, ``download``, or ``none``."""

    kind: str
    url: str | None
    name: str
    content_type: str | None
    note: str | None = None


def document_view(fax: FaxRecord) -> DocumentView:
    url = f"{PREFIX}/faxes/{fax.id}/document"
    name = fax.document_name or f"fax-{fax.id}"
    if fax.document is not None:
        content_type = sniff_content_type(fax.document) or fax.document_content_type
        return DocumentView(INLINE_TYPES.get(content_type or "", "download"), url, name, content_type)
    if fax.media_url and is_fetchable(fax.media_url):
        content_type = guess_content_type(fax.media_url)
        note = "Fetched from the fax's media_url when you open it: it shows the file as it is now."
        return DocumentView(INLINE_TYPES.get(content_type, "download"), url, name, content_type, note)
    if fax.media_url:
        note = (
            "The emulator never fetches media_url outside loopback, so it has no copy of this document "
            f"(media_url: {fax.media_url})."
        )
        return DocumentView("none", None, name, None, note)
    return DocumentView("none", None, name, None, "The emulator kept no copy of this document.")


def outcome_choices() -> list[str]:
    """Every reason the emulator knows, for the outcome select (any reason string works via the API)."""
    reasons = set(outcomes.MEDIA_FAILURES) | set(outcomes.CALL_SETUP_FAILURES) | set(outcomes.INTERNAL_FAILURE_REASONS)
    reasons |= {spec for spec in outcomes.DEFAULT_OUTCOMES.values() if isinstance(spec, str)}
    reasons -= {outcomes.DELIVERED, outcomes.STAYS_SENDING, outcomes.SENDER_CANCELED}
    return [outcomes.DELIVERED, outcomes.STAYS_SENDING, *sorted(reasons)]
