"""Local and object-storage documents: checked as Telnyx would check them, before anything is sent."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# Telnyx fetches at most this much from a media_url.
MAX_URL_BYTES = 50 * 1024 * 1024
MAX_PAGES = 350
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".rtf": "application/rtf",
    ".txt": "text/plain",
}


@dataclass(frozen=True)
class LocalDocument:
    """A document read into memory, with the identity used for uploads and the send key."""

    filename: str
    content: bytes
    content_type: str
    pages: int | None

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def media_name(self) -> str:
        """Content-addressed, so a retry finds the earlier upload instead of uploading again."""
        return f"airflow-fax-{self.sha256[:40]}"


def as_path(media_path: Any) -> Any:
    """A local ``Path`` for plain paths, an ``ObjectStoragePath`` for URLs (``s3://``, ``file://``, ...)."""
    if isinstance(media_path, (str, Path)) and "://" not in str(media_path):
        return Path(media_path)
    if isinstance(media_path, str):
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(media_path)
    return media_path


def load_document(media_path: Any, field: str = "media_path") -> LocalDocument:
    """Read and check a document; raises :class:`TelnyxFaxValidationError` naming ``field``."""
    path = as_path(media_path)
    suffix = Path(str(path.name)).suffix.lower()
    if suffix not in CONTENT_TYPES:
        supported = ", ".join(sorted({ext.lstrip(".").upper() for ext in CONTENT_TYPES}))
        raise TelnyxFaxValidationError(
            field,
            f"the file's type ({suffix or 'no extension'}) is not one Telnyx can fax; use one of {supported}",
        )
    if not path.exists() or not path.is_file():
        raise TelnyxFaxValidationError(field, "no file at the given path; check the path and its template")
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise TelnyxFaxValidationError(
            field,
            f"the file is {size / 1024 / 1024:.1f} MB, over the 20 MB upload limit; host it and pass media_url instead",
        )
    content = path.read_bytes()
    pages = count_pdf_pages(content, field=field) if suffix == ".pdf" else None
    return LocalDocument(filename=path.name, content=content, content_type=CONTENT_TYPES[suffix], pages=pages)


def count_pdf_pages(content: bytes, label: str = "the PDF", field: str = "media_path") -> int:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        pages = len(PdfReader(io.BytesIO(content)).pages)
    except (PdfReadError, ValueError, OSError) as error:
        raise TelnyxFaxValidationError(field, f"{label} is not a readable PDF ({error})") from None
    if pages > MAX_PAGES:
        raise TelnyxFaxValidationError(field, f"{label} has {pages} pages; Telnyx faxes at most {MAX_PAGES}, split it")
    if pages == 0:
        raise TelnyxFaxValidationError(field, f"{label} has no pages")
    return pages
