"""DownloadFaxOperator: store a received fax's document in object storage, once."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from airflow.sdk import BaseOperator, ObjectStoragePath
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_telnyx_fax.models import FaxStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

MANIFEST_SUFFIX = ".telnyx-fax.json"
# Refresh a presigned link this long before its stated expiry, so it cannot lapse mid-download.
EXPIRY_MARGIN_SECONDS = 30.0


def link_expired(url: str, now: float | None = None) -> bool:
    """
    True when a presigned S3 link (``X-Amz-Date`` + ``X-Amz-Expires``) has expired or is about to.

    Links without those parameters are taken as valid: a 403 on download says otherwise.
    """
    query = parse_qs(urlsplit(url).query)
    signed, lifetime = query.get("X-Amz-Date"), query.get("X-Amz-Expires")
    if not signed or not lifetime:
        return False
    try:
        signed_at = datetime.strptime(signed[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()
        expires_at = signed_at + float(lifetime[0])
    except ValueError:
        return False
    return (time.time() if now is None else now) >= expires_at - EXPIRY_MARGIN_SECONDS


class DownloadFaxOperator(BaseOperator):
    """
    Save the document of a received fax to a local path or object storage (s3, gcs, ...), idempotently.

    The operator fetches the fax, refreshes its temporary ``media_url`` first when that has expired
    (by the link's own expiry, or when the storage answers 403), streams the document to a temporary
    name in the target directory, checks the size, and renames it into place, so the target path never
    holds a partial file. Next to it, ``<name>.telnyx-fax.json`` records the fax id, size and SHA-256:
    a rerun that finds a matching file skips the download (no request for the media).

    With ``delete_after_download=True`` the fax is deleted on Telnyx (DeleteFax) after a verified
    download, for accounts that must not keep faxes there; a fax already gone counts as deleted.

    Returns ``{"path", "bytes", "fax_id", "sha256", "content_type", "downloaded", "deleted"}``
    (``downloaded`` is ``False`` when the file was already there).

    :param fax_id: the id of a received inbound fax. Templated.
    :param path: the target file, or a directory when it ends with ``/`` (the file is then named
        ``<fax_id>.pdf``); a local path, a URL such as ``s3://bucket/faxes/`` or an
        ``ObjectStoragePath``. Templated.
    :param telnyx_conn_id: the Airflow connection id.
    :param storage_conn_id: the Airflow connection for the object store, when ``path`` is a string.
    :param delete_after_download: delete the fax on Telnyx once its document is safely stored.
    :param chunk_size: bytes per read while streaming.
    """

    template_fields: Sequence[str] = ("fax_id", "path")
    ui_color = "#00c08b"

    def __init__(
        self,
        *,
        fax_id: str,
        path: str | ObjectStoragePath,
        telnyx_conn_id: str = "telnyx_fax_default",
        storage_conn_id: str | None = None,
        delete_after_download: bool = False,
        chunk_size: int = 1024 * 1024,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.fax_id = fax_id
        self.path = path
        self.telnyx_conn_id = telnyx_conn_id
        self.storage_conn_id = storage_conn_id
        self.delete_after_download = delete_after_download
        self.chunk_size = chunk_size

    @cached_property
    def hook(self) -> TelnyxFaxHook:
        from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

        return TelnyxFaxHook(self.telnyx_conn_id)

    def target(self) -> ObjectStoragePath:
        """The file to write: ``path`` itself, or ``<fax_id>.pdf`` in it when it names a directory."""
        if isinstance(self.path, ObjectStoragePath):
            return self.path
        text = str(self.path)
        if text.endswith("/"):
            # Telnyx delivers received faxes as PDF.
            return ObjectStoragePath(text, conn_id=self.storage_conn_id) / f"{self.fax_id}.pdf"
        return ObjectStoragePath(text, conn_id=self.storage_conn_id)

    @staticmethod
    def manifest_of(target: ObjectStoragePath) -> ObjectStoragePath:
        return target.with_name(target.name + MANIFEST_SUFFIX)

    def already_stored(self, target: ObjectStoragePath) -> dict[str, Any] | None:
        """The manifest of an earlier complete download of this fax to ``target``, if the file still matches it."""
        manifest = self.manifest_of(target)
        try:
            if not manifest.exists() or not target.exists():
                return None
            recorded = json.loads(manifest.read_text())
            size = target.stat().st_size
        except (OSError, ValueError):
            return None
        if not isinstance(recorded, dict) or recorded.get("fax_id") != self.fax_id or recorded.get("bytes") != size:
            return None
        return recorded

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.fax_id:
            raise AirflowFailException("DownloadFaxOperator needs a fax_id.")
        target = self.target()
        stored = self.already_stored(target)
        if stored is not None:
            self.log.info("Fax %s is already stored at %s; not downloading it again", self.fax_id, target)
            result = {**stored, "path": str(target), "downloaded": False}
        else:
            result = {**self.download(target), "downloaded": True}
        result["deleted"] = self.delete_after_download and self._delete()
        return result

    def _fresh_media_url(self, refresh: bool) -> str:
        from airflow_provider_telnyx_fax.exceptions import TelnyxNotFoundError

        try:
            if refresh:
                self.log.info("Refreshing the media link of fax %s", self.fax_id)
                self.hook.refresh_fax(self.fax_id)
            fax = self.hook.get_fax(self.fax_id)
        except TelnyxNotFoundError as error:
            message = f"Telnyx has no fax {self.fax_id} (deleted, or another account): {error}"
            raise AirflowFailException(message) from error
        if fax.get("direction") != "inbound" or fax.get("status") != FaxStatus.RECEIVED.value:
            raise AirflowException(
                f"Fax {self.fax_id} is {fax.get('direction')} and {fax.get('status')}: only a received inbound fax "
                "has a document to download."
            )
        media_url = fax.get("media_url")
        if not media_url:
            raise AirflowException(f"Telnyx gave no media_url for received fax {self.fax_id}.")
        if not refresh and link_expired(str(media_url)):
            return self._fresh_media_url(refresh=True)
        return str(media_url)

    def download(self, target: ObjectStoragePath) -> dict[str, Any]:
        from airflow_provider_telnyx_fax.exceptions import TelnyxAPIError

        media_url = self._fresh_media_url(refresh=False)
        try:
            return self._store(media_url, target)
        except TelnyxAPIError as error:
            if error.status not in (401, 403, 404):
                raise
            self.log.info("The media link of fax %s was refused (%s); refreshing it", self.fax_id, error.status)
        return self._store(self._fresh_media_url(refresh=True), target)

    def _store(self, media_url: str, target: ObjectStoragePath) -> dict[str, Any]:
        """Stream to a temporary name beside ``target``, verify, then rename into place."""
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
        digest = _HashingWriter()
        try:
            with temp.open("wb") as file:
                digest.file = file
                answer = self.hook.download_media(media_url, digest, chunk_size=self.chunk_size)  # type: ignore[arg-type]
            size = temp.stat().st_size
            if size != answer["bytes"] or size != digest.bytes:
                raise AirflowException(f"Stored {size} bytes of fax {self.fax_id} but received {answer['bytes']}.")
            if size == 0:
                raise AirflowException(f"The document of fax {self.fax_id} is empty.")
            temp.replace(target)
        except BaseException:
            # Whatever went wrong, the temporary file goes; the target was never touched.
            try:
                temp.unlink(missing_ok=True)
            except OSError:
                self.log.warning("Could not remove the partial download %s", temp)
            raise
        final_size = target.stat().st_size
        if final_size != size:
            raise AirflowException(f"{target} holds {final_size} bytes after the rename, expected {size}.")
        record = {
            "fax_id": self.fax_id,
            "path": str(target),
            "bytes": size,
            "sha256": digest.hexdigest(),
            "content_type": answer.get("content_type"),
        }
        # Written last: a manifest only ever describes a complete, verified file.
        self.manifest_of(target).write_text(json.dumps(record))
        self.log.info("Stored fax %s at %s (%d bytes)", self.fax_id, target, size)
        return record

    def _delete(self) -> bool:
        from airflow_provider_telnyx_fax.exceptions import TelnyxNotFoundError

        try:
            self.hook.delete_fax(self.fax_id)
        except TelnyxNotFoundError:
            self.log.info("Fax %s was already deleted on Telnyx", self.fax_id)
        else:
            self.log.info("Deleted fax %s on Telnyx after a verified download", self.fax_id)
        return True


class _HashingWriter:
    """A write-only file wrapper that counts and hashes what passes through it."""

    def __init__(self) -> None:
        self.file: Any = None
        self.bytes = 0
        self._sha256 = hashlib.sha256()

    def write(self, chunk: bytes) -> int:
        self._sha256.update(chunk)
        self.bytes += len(chunk)
        written: int = self.file.write(chunk)
        return written

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()
