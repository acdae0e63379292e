"""
Fax documents: read and checked as Telnyx would check them (:mod:`.files`), merged into one PDF with an
optional cover page (:mod:`.merge`, :mod:`.cover_page`), and the transmission report written after the
fax is finished (:mod:`.report`).

Only :mod:`.files` is imported here; the cover page and the report need the ``documents`` extra
(reportlab, pypdfium2), imported when used.
"""

from __future__ import annotations

from airflow_provider_telnyx_fax.documents.files import (
    CONTENT_TYPES,
    MAX_PAGES,
    MAX_UPLOAD_BYTES,
    LocalDocument,
    as_path,
    count_pdf_pages,
    load_document,
)

__all__ = [
    "CONTENT_TYPES",
    "MAX_PAGES",
    "MAX_UPLOAD_BYTES",
    "LocalDocument",
    "as_path",
    "count_pdf_pages",
    "load_document",
]
