"""The hook's media calls: Telnyx media storage (upload once by name, look up, delete) and received documents."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import requests

from airflow_provider_telnyx_fax.documents import MAX_UPLOAD_BYTES
from airflow_provider_telnyx_fax.exceptions import (
    TelnyxAPIError,
    TelnyxFaxValidationError,
    TelnyxNotFoundError,
    TelnyxTransportError,
)


class MediaStorageCalls:
    """
    Media storage and fax documents, as methods of :class:`~airflow_provider_telnyx_fax.hooks.fax.TelnyxFaxHook`.

    They go through the hook's ``_request`` (its retry policy and error mapping), apart from
    :meth:`download_media`, whose presigned link must never carry the API key.
    """

    if TYPE_CHECKING:
        connect_timeout: float
        read_timeout: float

        def _request(
            self, method: str, path: str, *, subject: str, resend_safe: bool = True, **request_kwargs: Any
        ) -> Any: ...

    def upload_media(
        self,
        document: bytes | str | Path,
        *,
        media_name: str | None = None,
        ttl_secs: int | None = None,
        filename: str | None = None,
    ) -> dict[str, Any]:
        """Store a document in Telnyx media storage (multipart, at most 20 MB) and return its record."""
        if isinstance(document, (str, Path)):
            filename = filename or Path(document).name
            document = Path(document).read_bytes()
        if len(document) > MAX_UPLOAD_BYTES:
            raise TelnyxFaxValidationError(
                "media", f"is {len(document)} bytes, over the 20 MB media storage limit; send it by media_url"
            )
        form: dict[str, str] = {}
        if media_name:
            form["media_name"] = media_name
        if ttl_secs is not None:
            form["ttl_secs"] = str(ttl_secs)
        files = {"media": (filename or media_name or "document", document)}
        # The file name is the user's document name: it stays out of messages.
        subject = f"the media upload '{media_name}'" if media_name else "the media upload"
        return dict(self._request("POST", "/media", data=form, files=files, subject=subject)["data"])

    def get_media(self, media_name: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/media/{media_name}", subject=f"media named '{media_name}'")["data"])

    def media_exists(self, media_name: str) -> bool:
        try:
            self.get_media(media_name)
        except TelnyxNotFoundError:
            return False
        return True

    def upload_media_once(self, document: bytes, *, media_name: str, filename: str | None = None) -> bool:
        """Upload ``document`` unless media storage has ``media_name``; True when this call uploaded it.

        For a name derived from the bytes: a 422 because a concurrent task (another worker, another map
        index) just stored the same name means the document is there, as wanted.
        """
        if self.media_exists(media_name):
            return False
        try:
            self.upload_media(document, media_name=media_name, filename=filename)
        except TelnyxAPIError as error:
            if error.status == 422 and self.media_exists(media_name):
                return False
            raise
        return True

    def delete_media(self, media_name: str) -> None:
        self._request("DELETE", f"/media/{media_name}", subject=f"media named '{media_name}'")

    def download_media(self, url: str, target: BinaryIO, *, chunk_size: int = 1024 * 1024) -> dict[str, Any]:
        """
        Stream a fax document from its temporary ``media_url`` into ``target``, in one attempt.

        The URL carries its own credential (a presigned link), so the request goes out on a plain
        session: the Telnyx API key must never reach the storage host. Returns ``{"bytes",
        "content_type"}``; a body shorter or longer than ``Content-Length`` raises. Messages never
        name the link: it is a credential for the document.

        :raises TelnyxAPIError: the link was refused (``status`` 403 once it expired: refresh the fax).
        :raises TelnyxTransportError: the storage host could not be reached or the body was cut short.
        """
        try:
            with requests.get(url, stream=True, timeout=(self.connect_timeout, self.read_timeout)) as response:
                if response.status_code >= 400:
                    action = "The fax media link was refused (expired or revoked)"
                    raise TelnyxAPIError(response.status_code, [], method="GET", path="media_url", action=action)
                written = 0
                for chunk in response.iter_content(chunk_size):
                    target.write(chunk)
                    written += len(chunk)
                # Content-Length counts encoded bytes; iter_content yields decoded ones.
                encoded = response.headers.get("Content-Encoding", "identity") != "identity"
                expected = None if encoded else response.headers.get("Content-Length")
                content_type = response.headers.get("Content-Type")
        except requests.RequestException as error:
            raise TelnyxTransportError(f"Downloading the fax document failed: {type(error).__name__}") from None
        if expected is not None and expected.isdigit() and int(expected) != written:
            raise TelnyxTransportError(f"Downloading the fax document got {written} bytes of the {expected} announced.")
        return {"bytes": written, "content_type": content_type.split(";")[0].strip() if content_type else None}
