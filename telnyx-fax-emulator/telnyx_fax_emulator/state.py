"""The emulator's in-memory store: faxes with their timelines, media, the event and request logs.

Everything a view needs (the API, the control API, a browser inbox) reads from :class:`EmulatorStore`.
Status is derived from the clock on read (see :meth:`FaxRecord.status_at`), so nothing has to tick.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import mimetypes
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telnyx_fax_emulator.outcomes import Transition

CANCELLABLE = frozenset({"queued", "media.processed", "originated", "sending"})
OUTBOUND_TERMINAL = frozenset({"delivered", "failed"})
REQUEST_LOG_SIZE = 50_000
# The two files a sender may ask Telnyx to keep: the document (``store_media``) and a preview (``store_preview``).
STORED_MEDIA = "stored_media"
PREVIEW = "preview"


def isoformat(epoch: float) -> str:
    """RFC 3339 UTC with microseconds, as Telnyx writes timestamps."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class FaxRecord:
    """One fax, outbound or inbound, and everything planned for it.

    ``timeline`` holds the planned transitions; only those whose time has come are visible.
    """

    id: str
    direction: str
    connection_id: str
    from_: str
    to: str
    created_at: float
    timeline: list[Transition]
    page_count: int
    outcome: str
    failure_reason: str | None = None
    internal_failure_reason: str | None = None
    media_url: str | None = None
    media_name: str | None = None
    quality: str = "high"
    client_state: str | None = None
    webhook_url: str | None = None
    webhook_failover_url: str | None = None
    from_display_name: str | None = None
    store_media: bool = False
    document: bytes | None = None
    document_content_type: str | None = None
    # The uploaded file's name (or media name, or URL's last segment): shown by the inbox, never by the API.
    document_name: str | None = None
    # Inbound media is served from a tokenised URL that expires, like a presigned S3 URL.
    media_token: str | None = None
    media_token_expires_at: float | None = None
    store_preview: bool = False
    preview_format: str = "tiff"
    # Signs the preview and stored-media links, which expire like the presigned S3 links Telnyx hands out:
    # each read of the fax signs fresh ones, good for ``file_url_ttl`` seconds.
    file_secret: str | None = None
    file_url_ttl: float = 600.0
    deleted_at: float | None = None
    events_emitted: int = 0

    def visible_timeline(self, now: float) -> list[Transition]:
        return [t for t in self.timeline if t.at <= now]

    def status_at(self, now: float) -> str:
        status = self.timeline[0].status
        for transition in self.timeline:
            if transition.at > now:
                break
            status = transition.status
        return status

    def updated_at(self, now: float) -> float:
        at = self.timeline[0].at
        for transition in self.timeline:
            if transition.at > now:
                break
            at = transition.at
        return at

    def is_cancellable(self, now: float) -> bool:
        return self.direction == "outbound" and self.status_at(now) in CANCELLABLE

    def is_in_processing(self, now: float) -> bool:
        """An outbound fax Telnyx still works on (what the account's in-flight limit counts)."""
        return self.direction == "outbound" and self.deleted_at is None and self.status_at(now) not in OUTBOUND_TERMINAL

    def call_window(self) -> tuple[float, float] | None:
        """When this fax is on the line: from ``sending`` to what follows it (never ending while it stays sending).

        ``None`` when it never gets a call through (document failures, busy or unanswered lines).
        """
        for position, transition in enumerate(self.timeline):
            if transition.status == "sending":
                following = self.timeline[position + 1 : position + 2]
                return transition.at, following[0].at if following else math.inf
        return None

    def inbound_media_url(self, root_url: str) -> str | None:
        if self.direction != "inbound" or self.media_token is None:
            return None
        return f"{root_url}/files/inbound/{self.id}.pdf?token={self.media_token}"

    def stored_file_name(self, kind: str) -> str:
        """The last segment of a stored file's URL: its kind and an extension that says its format."""
        if kind == PREVIEW:
            return f"preview.{self.preview_format}"
        extension = mimetypes.guess_extension(self.document_content_type or "") or ".pdf"
        return f"media{extension}"

    def file_signature(self, name: str, expires: int) -> str:
        assert self.file_secret is not None
        return hmac.new(self.file_secret.encode(), f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()

    def stored_file_url(self, kind: str, root_url: str, now: float) -> str | None:
        """A fresh link to the preview or the stored document, once media processing made it (else ``None``)."""
        wanted = self.store_preview if kind == PREVIEW else self.store_media
        if not wanted or self.file_secret is None:
            return None
        if not any(t.status == "media.processed" and t.at <= now for t in self.timeline):
            return None
        name = self.stored_file_name(kind)
        expires = math.ceil(now + self.file_url_ttl)
        signature = self.file_signature(name, expires)
        return f"{root_url}/files/faxes/{self.id}/{name}?expires={expires}&signature={signature}"

    def to_api(self, now: float, root_url: str) -> dict[str, Any]:
        """The ``Fax`` object as the API returns it (absent optional strings are omitted)."""
        status = self.status_at(now)
        failed = status == "failed"
        data: dict[str, Any] = {
            "record_type": "fax",
            "id": self.id,
            "connection_id": self.connection_id,
            "direction": self.direction,
            "from": self.from_,
            "to": self.to,
            "quality": self.quality,
            "status": status,
            "store_media": self.store_media,
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at(now)),
            # Newer fields the SDK documents: present on every fax, null unless it failed.
            "failure_reason": self.failure_reason if failed else None,
            "internal_failure_reason": self.internal_failure_reason if failed else None,
        }
        media_url = self.media_url
        if self.direction == "inbound":
            media_url = self.inbound_media_url(root_url) if status == "received" else None
        optional = {
            "media_url": media_url,
            "media_name": self.media_name,
            "preview_url": self.stored_file_url(PREVIEW, root_url, now),
            "stored_media_url": self.stored_file_url(STORED_MEDIA, root_url, now),
            "client_state": self.client_state,
            "webhook_url": self.webhook_url,
            "webhook_failover_url": self.webhook_failover_url,
            "from_display_name": self.from_display_name,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        return data

    def to_control(self, now: float, root_url: str) -> dict[str, Any]:
        """The control view: the API object plus what only the emulator knows."""
        return {
            **self.to_api(now, root_url),
            "page_count": self.page_count,
            "outcome": self.outcome,
            "deleted": self.deleted_at is not None,
            "deleted_at": isoformat(self.deleted_at) if self.deleted_at is not None else None,
            "timeline": [{"status": t.status, "at": isoformat(t.at)} for t in self.visible_timeline(now)],
            "pending": [{"status": t.status, "at": isoformat(t.at)} for t in self.timeline if t.at > now],
        }


@dataclass
class MediaRecord:
    """A file in the emulated Media Storage API."""

    media_name: str
    content: bytes
    content_type: str
    created_at: float
    expires_at: float
    source_url: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "media_name": self.media_name,
            "content_type": self.content_type,
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.created_at),
            "expires_at": isoformat(self.expires_at),
        }


@dataclass
class EventRecord:
    """A fax event and each attempt to deliver it as a webhook."""

    id: str
    event_type: str
    fax_id: str
    occurred_at: float
    payload: dict[str, Any]
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    def data(self) -> dict[str, Any]:
        """The webhook's ``data`` object."""
        return {
            "event_type": self.event_type,
            "id": self.id,
            "occurred_at": isoformat(self.occurred_at),
            "payload": self.payload,
            "record_type": "event",
        }

    def to_control(self) -> dict[str, Any]:
        return {**self.data(), "fax_id": self.fax_id, "deliveries": list(self.deliveries)}


class EmulatorStore:
    """All mutable emulator state. Single event loop, so no locking is needed."""

    def __init__(self) -> None:
        self.faxes: dict[str, FaxRecord] = {}
        self.media: dict[str, MediaRecord] = {}
        self.events: list[EventRecord] = []
        self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self.request_counts: Counter[str] = Counter()

    def clear(self) -> None:
        self.faxes.clear()
        self.media.clear()
        self.events.clear()
        self.requests.clear()
        self.request_counts.clear()

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())

    def add_fax(self, fax: FaxRecord) -> FaxRecord:
        self.faxes[fax.id] = fax
        return fax

    def live_fax(self, fax_id: str) -> FaxRecord | None:
        """A fax the API can see (deleted faxes stay only in the control view)."""
        fax = self.faxes.get(fax_id)
        return None if fax is None or fax.deleted_at is not None else fax

    def live_faxes_newest_first(self) -> list[FaxRecord]:
        faxes = [fax for fax in self.faxes.values() if fax.deleted_at is None]
        faxes.sort(key=lambda fax: fax.created_at, reverse=True)
        return faxes

    def all_faxes_newest_first(self) -> list[FaxRecord]:
        return sorted(self.faxes.values(), key=lambda fax: fax.created_at, reverse=True)

    def timeline(self, fax_id: str, now: float | None = None) -> list[Transition]:
        fax = self.faxes.get(fax_id)
        return [] if fax is None else fax.visible_timeline(time.time() if now is None else now)

    def live_media(self, media_name: str, now: float) -> MediaRecord | None:
        media = self.media.get(media_name)
        if media is not None and media.expires_at <= now:
            del self.media[media_name]
            return None
        return media

    def add_event(self, event: EventRecord) -> EventRecord:
        self.events.append(event)
        return event

    def events_for(self, fax_id: str) -> list[EventRecord]:
        return [event for event in self.events if event.fax_id == fax_id]

    def log_request(self, method: str, path: str, status: int | str, at: float, duration: float) -> None:
        self.requests.append(
            {"method": method, "path": path, "status": status, "at": isoformat(at), "duration_ms": duration}
        )
        self.request_counts[f"{method} {path}"] += 1
