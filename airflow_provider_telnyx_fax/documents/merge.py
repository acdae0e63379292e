"""
Several documents in one fax: the inputs merged in order into one PDF, a cover page in front, Telnyx's
limits checked on the result, all before anything is sent.

The merged bytes are what is uploaded and what the send key hashes, so they must come out the same
for the same inputs (pypdf's writer adds no random file id, reportlab draws the cover in invariant mode).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.documents.files import (
    MAX_PAGES,
    MAX_UPLOAD_BYTES,
    MAX_URL_BYTES,
    LocalDocument,
    load_document,
)
from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_telnyx_fax.documents.cover_page import CoverPage

MERGED_FILENAME = "fax.pdf"


def check_fax_limits(*, size: int, pages: int, field: str, by_url: bool = False) -> None:
    """Telnyx's limits on the whole fax: 350 pages, and 20 MB uploaded (50 MB fetched from a ``media_url``)."""
    check_page_limit(pages, field=field)
    limit, how = (MAX_URL_BYTES, "URL") if by_url else (MAX_UPLOAD_BYTES, "upload")
    if size > limit:
        hint = (
            "send fewer documents per fax"
            if by_url
            else "host the merged PDF and pass it as media_url (up to 50 MB), or send fewer documents per fax"
        )
        raise TelnyxFaxValidationError(
            field,
            f"the fax would be {size / 1024 / 1024:.1f} MB, over the {limit // 1024 // 1024} MB {how} limit; {hint}",
        )


def check_page_limit(pages: int, *, field: str) -> None:
    if pages > MAX_PAGES:
        raise TelnyxFaxValidationError(
            field, f"the fax would have {pages} pages; Telnyx faxes at most {MAX_PAGES}, send fewer documents per fax"
        )


def load_documents(media_paths: Sequence[Any]) -> list[LocalDocument]:
    """Read and check every entry of ``media_paths``; only PDFs can be merged here."""
    if isinstance(media_paths, (str, bytes)) or not media_paths:
        raise TelnyxFaxValidationError("media_paths", "must be a non-empty list of paths, merged in order")
    documents = []
    for index, media_path in enumerate(media_paths):
        field = f"media_paths[{index}]"
        document = load_document(media_path, field=field)
        if document.content_type != "application/pdf":
            suffix = Path(document.filename).suffix.lower()
            raise TelnyxFaxValidationError(
                field,
                f"is a {suffix} file, which cannot be merged here (only PDFs can); convert it to PDF first, "
                "or send it alone with media_path",
            )
        documents.append(document)
    return documents


def merge_pdfs(parts: Sequence[bytes]) -> bytes:
    """The PDFs in ``parts`` as one, pages in order; the same parts give the same bytes (no random file id)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@dataclass(frozen=True, kw_only=True)
class CoverDetails:
    """What the cover page shows beyond the ``CoverPage`` itself: the fax's numbers and the run's date."""

    cover: CoverPage
    to: str
    from_number: str | None
    date: str


def assemble_document(
    *,
    media_path: Any = None,
    media_paths: Sequence[Any] | None = None,
    cover: CoverDetails | None = None,
) -> LocalDocument | None:
    """
    The one document to upload: ``media_path`` alone, or ``media_paths`` merged, a cover page in front.

    Returns ``None`` when there is no local document (the fax goes by ``media_url`` or ``media_name``).
    Raises :class:`TelnyxFaxValidationError` naming the field before anything is sent.
    """
    if media_path and media_paths:
        raise TelnyxFaxValidationError(
            "media_paths", "cannot go with media_path; give one of them (media_paths may hold a single file)"
        )
    if not media_path and not media_paths:
        if cover is not None:
            raise TelnyxFaxValidationError(
                "cover_page", "needs a local document (media_path or media_paths) to put the cover page in front of"
            )
        return None
    documents = load_documents(media_paths) if media_paths else [load_document(media_path)]
    if cover is None and len(documents) == 1:
        return documents[0]
    field = "media_paths" if media_paths else "media_path"
    if documents[0].content_type != "application/pdf":
        raise TelnyxFaxValidationError(
            field, "a cover page can only go in front of a PDF; convert the document to PDF first"
        )
    pages = sum(document.pages or 0 for document in documents) + (1 if cover else 0)
    # Refused before drawing or merging anything; the size is known only once merged.
    check_page_limit(pages, field=field)
    parts = [document.content for document in documents]
    if cover is not None:
        from airflow_provider_telnyx_fax.documents.cover_page import render_cover_page

        parts.insert(
            0,
            render_cover_page(
                cover.cover, to=cover.to, from_number=cover.from_number, total_pages=pages, date=cover.date
            ),
        )
    merged = merge_pdfs(parts)
    check_fax_limits(size=len(merged), pages=pages, field=field)
    return LocalDocument(filename=MERGED_FILENAME, content=merged, content_type="application/pdf", pages=pages)
