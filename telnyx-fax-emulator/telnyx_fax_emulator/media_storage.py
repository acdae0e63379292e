"""The Media Storage API (``/v2/media``): files kept by name for faxes to send by ``media_name``."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from telnyx_fax_emulator.documents import (
    fetch_document,
    guess_content_type,
    is_fetchable,
    placeholder_pdf,
    sniff_content_type,
)
from telnyx_fax_emulator.errors import not_found, unprocessable
from telnyx_fax_emulator.state import MediaRecord

if TYPE_CHECKING:
    from telnyx_fax_emulator.documents import UploadedFile
    from telnyx_fax_emulator.state import EmulatorStore

DEFAULT_MEDIA_TTL_SECS = 2 * 24 * 3600


class MediaStorage:
    """Media storage, as methods of :class:`~telnyx_fax_emulator.backend.Backend`."""

    if TYPE_CHECKING:
        store: EmulatorStore

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
