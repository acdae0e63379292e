"""The emulated Telnyx account: its state and every operation on it, with plain arguments.

The HTTP routes (``routes/``), the fax inbox (``inbox/``) and the control API all call this module;
nothing here knows about requests or responses. Problems are raised as :class:`~telnyx_fax_emulator.errors.ApiError`,
which carries the status and Telnyx-shaped errors a route answers with. The faxes live here; media
storage, the Fax Application and the run-time controls are mixed in from their own modules.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telnyx_fax_emulator import outcomes
from telnyx_fax_emulator.account_controls import AccountControls
from telnyx_fax_emulator.applications import FaxApplication, FaxApplicationCalls
from telnyx_fax_emulator.channels import ChannelBook
from telnyx_fax_emulator.documents import (
    DocumentInfo,
    blank_tiff,
    fetch_document,
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
    not_found,
    too_many_faxes_in_flight,
    unprocessable,
)
from telnyx_fax_emulator.faults import FaultBook, TokenBucket
from telnyx_fax_emulator.lines import LineBook
from telnyx_fax_emulator.media_storage import MediaStorage
from telnyx_fax_emulator.state import PREVIEW, STORED_MEDIA, EmulatorStore, FaxRecord
from telnyx_fax_emulator.webhooks import EventDispatcher, WebhookSigner

if TYPE_CHECKING:
    from telnyx_fax_emulator.documents import UploadedFile
    from telnyx_fax_emulator.settings import EmulatorSettings

# "Link expires after 10 minutes" (the contract's Fax ``preview_url`` and ``stored_media_url``).
STORED_FILE_URL_TTL_SECS = 600.0


class Backend(MediaStorage, FaxApplicationCalls, AccountControls):
    """The emulator's live state: settings that can change at run time, the store, outcomes,
    faults, the rate limiter, the Fax Application, the line, channel and in-flight limits, and the
    webhook machinery.

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
        self.application_at_start = FaxApplication.at_start(settings, time.time())
        self.reset_fax_application()
        self.lines = LineBook()
        self.channels = ChannelBook()
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
        store_preview: bool = False,
        preview_format: str = "tiff",
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
        speed = self.settings.speed
        dial_at = outcomes.call_starts_at(start, speed)
        outcome, refused = self._outcome_of_call(to, connection_id, document, dial_at)
        failed = outcome not in (outcomes.DELIVERED, outcomes.STAYS_SENDING)
        fax = FaxRecord(
            id=self.store.new_id(),
            direction="outbound",
            connection_id=connection_id,
            from_=from_,
            to=to,
            created_at=start,
            timeline=outcomes.outbound_timeline(start, outcome, document.page_count, speed),
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
            store_preview=store_preview,
            preview_format=preview_format,
            file_secret=secrets.token_urlsafe(24) if store_media or store_preview else None,
            file_url_ttl=STORED_FILE_URL_TTL_SECS / speed,
            document=kept_document,
            document_content_type=document.content_type,
            document_name=contents.file_name if contents is not None else media_name or _url_file_name(media_url),
        )
        self.store.add_fax(fax)
        self.lines.track(fax)
        self.channels.track(fax, dial_at, refused=refused)
        self.dispatcher.schedule(fax)
        return fax

    def _outcome_of_call(self, to: str, connection_id: str, document: DocumentInfo, dial_at: float) -> tuple[str, bool]:
        """The outcome, and whether a limit refused the call.

        The document is processed before any call is placed, so its failures come first; then the
        account's limits (channels.py); then a line already on a call with one of ours is busy; then the
        number's own outcome. A refused call never reaches the number, so its outcome sequence stays put.
        """
        planned = self.outcomes.peek(to)
        if document.failure or planned in outcomes.MEDIA_FAILURES:
            self.outcomes.next_for(to)
            return (planned if planned in outcomes.MEDIA_FAILURES else str(document.failure)), False
        refusal = self.channels.refusal(connection_id, document.page_count, dial_at, self.channel_limits())
        if refusal is not None:
            return refusal, True
        planned = self.outcomes.next_for(to)
        if self.settings.busy_lines and self.lines.is_busy(to, dial_at):
            return outcomes.USER_BUSY, False
        return planned, False

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
        fax = self.live_fax(fax_id)
        fax.deleted_at = time.time()
        self.channels.hang_up(fax, fax.deleted_at)

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
        self.channels.hang_up(fax, now)
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

    async def stored_file(self, fax_id: str, name: str, expires: str, signature: str) -> tuple[bytes, str]:
        """The file behind a fax's ``preview_url`` or ``stored_media_url`` and its type, while the link is valid.

        The stored media is the document as sent (a one-page placeholder PDF when the emulator has no copy:
        an outside ``media_url`` is never fetched). The preview is that document when it is a PDF asked for
        as PDF, else a blank one-page page: the emulator renders no pages, a TIFF preview is a blank TIFF.
        """
        now = time.time()
        fax = self.store.live_fax(fax_id)
        kind = None if fax is None else {fax.stored_file_name(k): k for k in (PREVIEW, STORED_MEDIA)}.get(name)
        if fax is None or kind is None or fax.stored_file_url(kind, "", now) is None:
            raise forbidden("The link is not valid.")
        if not expires.isdigit() or not secrets.compare_digest(signature, fax.file_signature(name, int(expires))):
            raise forbidden("The link is not valid.")
        if now >= int(expires):
            raise forbidden("Request has expired. Read the fax again to get a new link.")
        document = await self.fax_document(fax) or placeholder_pdf()
        content_type = sniff_content_type(document) or "application/octet-stream"
        if kind == STORED_MEDIA:
            return document, content_type
        if fax.preview_format == "tiff":
            return blank_tiff(), "image/tiff"
        return (document if content_type == "application/pdf" else placeholder_pdf()), "application/pdf"

    def reset(self) -> None:
        """Forget every fax, media file, event, request, fault, call and run-time change."""
        self.dispatcher.cancel_all()
        self.store.clear()
        self.lines.clear()
        self.channels.clear()
        self.outcomes = outcomes.OutcomeBook(self.initial.outcomes)
        self.faults.clear()
        self.rate_limiter = TokenBucket(self.initial.rate_limit) if self.initial.rate_limit else None
        self.reset_fax_application()
        initial = self.initial
        for name in ("speed", "busy_lines", "max_in_flight", "channel_limit", "profile_channel_limit"):
            setattr(self.settings, name, getattr(initial, name))
        for name in ("daily_page_budget", "webhook_url", "webhook_failover_url", "webhook_timeout"):
            setattr(self.settings, name, getattr(initial, name))

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
