"""The emulated Telnyx account: its state and every operation on it, with plain arguments.

The HTTP routes (``routes/``), the fax inbox (``inbox/``) and the control API all call this module;
nothing here knows about requests or responses. Problems are raised as :class:`~telnyx_fax_emulator.errors.ApiError`,
which carries the status and Telnyx-shaped errors a route answers with.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telnyx_fax_emulator import outcomes
from telnyx_fax_emulator.documents import (
    DocumentInfo,
    fetch_document,
    guess_content_type,
    inspect_document,
    inspect_url,
    is_fetchable,
    placeholder_pdf,
    sniff_content_type,
)
from telnyx_fax_emulator.errors import (
    BAD_REQUEST,
    ApiError,
    error_item,
    forbidden,
    invalid_control,
    not_found,
    too_many_faxes_in_flight,
    unprocessable,
)
from telnyx_fax_emulator.faults import Fault, FaultBook, TokenBucket
from telnyx_fax_emulator.lines import LineBook
from telnyx_fax_emulator.numbers import is_destination
from telnyx_fax_emulator.settings import EmulatorSettings, parse_max_in_flight, parse_speed
from telnyx_fax_emulator.state import EmulatorStore, FaxRecord, MediaRecord
from telnyx_fax_emulator.webhooks import EventDispatcher, WebhookSigner

if TYPE_CHECKING:
    from telnyx_fax_emulator.documents import UploadedFile
    from telnyx_fax_emulator.settings import OutcomeSpec

DEFAULT_MEDIA_TTL_SECS = 2 * 24 * 3600
# Tells "leave this limit as it is" apart from ``None`` ("no limit") in :meth:`Backend.set_limits`.
UNCHANGED: Any = object()


class Backend:
    """The emulator's live state: settings that can change at run time, the store, outcomes,
    faults, the rate limiter, the line and in-flight limits, and the webhook machinery.

    :param settings: start-up settings; :meth:`reset` returns to them.
    """

    def __init__(self, settings: EmulatorSettings) -> None:
        self.initial = settings
        # A copy, so run-time changes (speed, limits) never leak back into the start-up settings.
        self.settings = replace(settings, outcomes=dict(settings.outcomes))
        self.store = EmulatorStore()
        self.outcomes = outcomes.OutcomeBook(settings.outcomes)
        self.faults = FaultBook()
        self.rate_limiter = TokenBucket(settings.rate_limit) if settings.rate_limit else None
        self.lines = LineBook()
        self.signer = WebhookSigner(settings.private_key)
        # Set by the server once it knows its port; the first request fills it in otherwise.
        self.root_url = ""
        self.dispatcher = EventDispatcher(self.store, self.settings, self.signer, lambda: self.root_url)

    # -- sending and managing faxes ------------------------------------------------------------
    async def send_fax(
        self,
        *,
        connection_id: str,
        from_: str,
        to: str,
        media_url: str | None = None,
        media_name: str | None = None,
        contents: UploadedFile | None = None,
        quality: str = "high",
        client_state: str | None = None,
        webhook_url: str | None = None,
        webhook_failover_url: str | None = None,
        from_display_name: str | None = None,
        store_media: bool = False,
    ) -> FaxRecord:
        """Queue an outbound fax of exactly one document (``media_url``, ``media_name`` or ``contents``)."""
        if connection_id != self.settings.connection_id:
            raise unprocessable(
                f"Connection '{connection_id}' is not a Fax Application on this account.", pointer="/connection_id"
            )
        now = time.time()
        limit = self.settings.max_in_flight
        if limit is not None and self.lines.at_capacity(limit, now):
            raise too_many_faxes_in_flight(limit)
        # What the inbox shows as the fax's document (a reference, not a copy).
        kept_document = contents.content if contents is not None else None
        if media_name:
            media = self.store.live_media(media_name, now)
            if media is None:
                raise unprocessable(f"Media '{media_name}' was not found in media storage.", pointer="/media_name")
            document: DocumentInfo = inspect_document(media.content)
            kept_document = media.content
        elif contents is not None:
            document = inspect_document(contents.content)
        elif media_url is not None:
            document = await inspect_url(media_url)
        else:
            raise unprocessable("One of media_url, media_name or contents is required.", pointer="/media_url")

        start = time.time()
        outcome = self._outcome_of_call(to, document, start)
        failed = outcome not in (outcomes.DELIVERED, outcomes.STAYS_SENDING)
        fax = FaxRecord(
            id=self.store.new_id(),
            direction="outbound",
            connection_id=connection_id,
            from_=from_,
            to=to,
            created_at=start,
            timeline=outcomes.outbound_timeline(start, outcome, document.page_count, self.settings.speed),
            page_count=document.page_count,
            outcome=outcome,
            failure_reason=outcome if failed else None,
            internal_failure_reason=outcomes.internal_failure_reason(outcome) if failed else None,
            media_url=media_url,
            media_name=media_name,
            quality=quality,
            client_state=client_state,
            webhook_url=webhook_url,
            webhook_failover_url=webhook_failover_url,
            from_display_name=from_display_name,
            store_media=store_media,
            document=kept_document,
            document_content_type=document.content_type,
            document_name=contents.file_name if contents is not None else media_name or _url_file_name(media_url),
        )
        self.store.add_fax(fax)
        self.lines.track(fax)
        self.dispatcher.schedule(fax)
        return fax

    def _outcome_of_call(self, to: str, document: DocumentInfo, start: float) -> str:
        """The document is processed before any call is placed, so its failures come first; then a line
        already on a call with one of ours is busy; then the number's own outcome."""
        number_outcome = self.outcomes.next_for(to)
        if document.failure and number_outcome not in outcomes.MEDIA_FAILURES:
            return document.failure
        if number_outcome in outcomes.MEDIA_FAILURES:
            return number_outcome
        if self.settings.busy_lines and self.lines.is_busy(to, outcomes.call_starts_at(start, self.settings.speed)):
            return outcomes.USER_BUSY
        return number_outcome

    def live_fax(self, fax_id: str) -> FaxRecord:
        """A fax the API can see (deleted faxes stay only in the control view)."""
        fax = self.store.live_fax(fax_id)
        if fax is None:
            raise not_found(f"Fax '{fax_id}' was not found.")
        return fax

    def any_fax(self, fax_id: str) -> FaxRecord:
        """Any fax ever created, deleted ones too."""
        fax = self.store.faxes.get(fax_id)
        if fax is None:
            raise not_found(f"Fax '{fax_id}' was never created.")
        return fax

    def list_faxes(
        self,
        *,
        direction: str | None = None,
        to: str | None = None,
        from_: str | None = None,
        created_gte: datetime | None = None,
        created_gt: datetime | None = None,
        created_lte: datetime | None = None,
        created_lt: datetime | None = None,
    ) -> list[FaxRecord]:
        """The live faxes matching every filter given, newest first."""

        def keep(fax: FaxRecord) -> bool:
            created = datetime.fromtimestamp(fax.created_at, tz=timezone.utc)
            return (
                (direction is None or fax.direction == direction)
                and (to is None or fax.to == to)
                and (from_ is None or fax.from_ == from_)
                and (created_gte is None or created >= created_gte)
                and (created_gt is None or created > created_gt)
                and (created_lte is None or created <= created_lte)
                and (created_lt is None or created < created_lt)
            )

        return [fax for fax in self.store.live_faxes_newest_first() if keep(fax)]

    def delete_fax(self, fax_id: str) -> None:
        # Deleted faxes vanish from the API and send no further webhooks; the control view keeps them.
        self.live_fax(fax_id).deleted_at = time.time()

    def cancel_fax(self, fax_id: str) -> FaxRecord:
        """End an in-flight outbound fax as ``failed`` / ``sender_canceled``; its line is free at once."""
        fax = self.live_fax(fax_id)
        now = time.time()
        if not fax.is_cancellable(now):
            raise ApiError(
                422,
                [
                    error_item(
                        BAD_REQUEST,
                        "Fax cannot be cancelled",
                        f"Only outbound faxes that are queued, media.processed, originated or sending can be "
                        f"cancelled; this fax is {fax.status_at(now)}.",
                    )
                ],
            )
        fax.timeline = [*fax.visible_timeline(now), outcomes.Transition("failed", now)]
        fax.outcome = outcomes.SENDER_CANCELED
        fax.failure_reason = outcomes.SENDER_CANCELED
        fax.internal_failure_reason = outcomes.internal_failure_reason(outcomes.SENDER_CANCELED)
        self.dispatcher.schedule(fax)
        return fax

    def refresh_fax(self, fax_id: str) -> FaxRecord:
        """Issue a new media URL for a received fax (the old one stops working)."""
        fax = self.live_fax(fax_id)
        if fax.media_token is not None:
            fax.media_token = secrets.token_urlsafe(24)
            fax.media_token_expires_at = time.time() + outcomes.INBOUND_MEDIA_URL_TTL_SECS / self.settings.speed
        return fax

    def inbound_document(self, fax_id: str, token: str) -> FaxRecord:
        """The received fax whose media URL carries ``token``, while that URL is valid."""
        fax = self.store.live_fax(fax_id)
        now = time.time()
        if (
            fax is None
            or fax.media_token is None
            or fax.document is None
            or fax.status_at(now) != "received"
            or not secrets.compare_digest(token, fax.media_token)
        ):
            raise forbidden("The media URL is not valid. Refresh the fax to get a new one.")
        if fax.media_token_expires_at is not None and now >= fax.media_token_expires_at:
            raise forbidden("Request has expired. Refresh the fax to get a new media_url.")
        return fax

    def simulate_inbound(
        self,
        *,
        from_: str,
        to: str | None = None,
        document: UploadedFile | None = None,
        webhook_url: str | None = None,
    ) -> FaxRecord:
        """A fax arrives from ``from_`` to ``to`` (default: the account's number); no document gives a blank page."""
        content = document.content if document is not None else placeholder_pdf()
        inspected = inspect_document(content)
        start = time.time()
        speed = self.settings.speed
        timeline = outcomes.inbound_timeline(start, inspected.page_count, speed)
        fax = FaxRecord(
            id=self.store.new_id(),
            direction="inbound",
            connection_id=self.settings.connection_id,
            from_=from_,
            to=to or self.settings.from_number,
            created_at=start,
            timeline=timeline,
            page_count=inspected.page_count,
            outcome="received",
            webhook_url=webhook_url,
            document=content,
            document_content_type=inspected.content_type or (document.content_type if document else None) or None,
            document_name=(document.file_name if document is not None else None) or None,
            media_token=secrets.token_urlsafe(24),
            media_token_expires_at=timeline[-1].at + outcomes.INBOUND_MEDIA_URL_TTL_SECS / speed,
        )
        self.store.add_fax(fax)
        self.dispatcher.schedule(fax)
        return fax

    async def fax_document(self, fax: FaxRecord) -> bytes | None:
        """The fax's document as the emulator can show it: kept bytes, or a loopback/``file://`` URL fetched now."""
        if fax.document is not None:
            return fax.document
        if fax.media_url and is_fetchable(fax.media_url):
            return (await fetch_document(fax.media_url)).data
        return None

    # -- media storage ---------------------------------------------------------------------------
    async def upload_media(
        self,
        *,
        media_name: str | None = None,
        ttl_secs: int | None = None,
        upload: UploadedFile | None = None,
        media_url: str | None = None,
    ) -> MediaRecord:
        """Store a file (``upload``) or what a ``media_url`` holds under ``media_name`` (a UUID by default)."""
        now = time.time()
        name = media_name or str(uuid.uuid4())
        if self.store.live_media(name, now) is not None:
            raise unprocessable(f"Media '{name}' already exists.", pointer="/media_name")
        if upload is not None:
            declared = upload.content_type if upload.content_type != "application/octet-stream" else None
            content = upload.content
            content_type = declared or sniff_content_type(content) or "application/octet-stream"
        elif media_url is not None and is_fetchable(media_url):
            fetched = await fetch_document(media_url)
            if fetched.data is None:
                detail = "larger than 20 MB" if fetched.too_large else f"not downloadable ({fetched.error})"
                raise unprocessable(f"The media_url is {detail}.", pointer="/media_url")
            content = fetched.data
            content_type = sniff_content_type(content) or guess_content_type(media_url)
        elif media_url is not None:
            # The emulator never goes online: an outside URL is stored as a one-page placeholder.
            content = placeholder_pdf()
            content_type = guess_content_type(media_url)
        else:
            raise unprocessable("The 'media_url' parameter is required.", pointer="/media_url")
        media = MediaRecord(name, content, content_type, now, now + (ttl_secs or DEFAULT_MEDIA_TTL_SECS), media_url)
        self.store.media[name] = media
        return media

    def list_media(self, content_types: list[str] | None = None) -> list[MediaRecord]:
        now = time.time()
        stored = (self.store.live_media(name, now) for name in list(self.store.media))
        return [
            media
            for media in stored
            if media is not None and (not content_types or media.content_type in content_types)
        ]

    def media(self, media_name: str) -> MediaRecord:
        media = self.store.live_media(media_name, time.time())
        if media is None:
            raise not_found(f"Media '{media_name}' was not found.")
        return media

    def delete_media(self, media_name: str) -> None:
        self.media(media_name)
        del self.store.media[media_name]

    # -- behaviour a test sets ---------------------------------------------------------------------
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

    def set_limits(self, *, busy_lines: Any = UNCHANGED, max_in_flight: Any = UNCHANGED) -> dict[str, Any]:
        """Switch busy lines on or off, and change (``None``: remove) the account's in-flight limit."""
        if busy_lines is not UNCHANGED and not isinstance(busy_lines, bool):
            raise invalid_control("busy_lines must be true or false")
        if max_in_flight is not UNCHANGED:
            try:
                self.settings.max_in_flight = parse_max_in_flight(max_in_flight)
            except ValueError as exc:
                raise invalid_control(str(exc)) from None
        if busy_lines is not UNCHANGED:
            self.settings.busy_lines = busy_lines
        return self.limits()

    def limits(self) -> dict[str, Any]:
        return {"busy_lines": self.settings.busy_lines, "max_in_flight": self.settings.max_in_flight}

    def reset(self) -> None:
        """Forget every fax, media file, event, request, fault and run-time change."""
        self.dispatcher.cancel_all()
        self.store.clear()
        self.lines.clear()
        self.outcomes = outcomes.OutcomeBook(self.initial.outcomes)
        self.faults.clear()
        self.rate_limiter = TokenBucket(self.initial.rate_limit) if self.initial.rate_limit else None
        self.settings.speed = self.initial.speed
        self.settings.busy_lines = self.initial.busy_lines
        self.settings.max_in_flight = self.initial.max_in_flight

    def info(self) -> dict[str, Any]:
        root = self.root_url
        return {
            "root_url": root,
            "base_url": f"{root}/v2",
            "api_key": self.settings.api_keys[0],
            "api_keys": list(self.settings.api_keys),
            "connection_id": self.settings.connection_id,
            "from_number": self.settings.from_number,
            "public_key": self.signer.public_key,
            "speed": self.settings.speed,
            "webhook_url": self.settings.webhook_url,
            "webhook_failover_url": self.settings.webhook_failover_url,
            "rate_limit": self.rate_limiter.rate if self.rate_limiter else None,
            "event_log": self.settings.event_log_path,
            **self.limits(),
        }


def _url_file_name(url: str | None) -> str | None:
    return (urlsplit(url).path.rsplit("/", 1)[-1] or None) if url else None
