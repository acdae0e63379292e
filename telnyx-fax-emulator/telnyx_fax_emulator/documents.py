"""What the emulator learns from a fax document: format, page count, and limit failures."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import logging
import mimetypes
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

import aiohttp

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # multipart ``contents`` / ``media`` limit
MAX_FAX_BYTES = 50 * 1024 * 1024  # beyond this a fax fails with file_size_limit_exceeded
MAX_FAX_PAGES = 350  # beyond this a fax fails with page_count_limit_exceeded
# A URL the emulator cannot (or must not) fetch is assumed to hold a one-page document.
DEFAULT_PAGE_COUNT = 1

_MAGIC = (
    (b"%PDF", "application/pdf"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xd0\xcf\x11\xe0", "application/msword"),
    (b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"{\\rtf", "application/rtf"),
)


class UploadedFile(NamedTuple):
    """A file that came with a request: its name and declared type as the client sent them, and its bytes."""

    file_name: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class DocumentInfo:
    """The outcome of inspecting a document.

    :param page_count: pages the fax will carry.
    :param content_type: the sniffed type, or ``None`` when the format is not supported.
    :param failure: a Telnyx failure reason the document alone causes, or ``None``.
    """

    page_count: int
    content_type: str | None
    failure: str | None = None


def sniff_content_type(data: bytes) -> str | None:
    """Identify one of the formats Telnyx faxes (PDF, TIFF, JPEG, PNG, DOC, DOCX, RTF, TXT)."""
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    if not data:
        return None
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"


def count_pdf_pages(data: bytes) -> int | None:
    """The real page count of a PDF, or ``None`` when pypdf cannot read it."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        return len(PdfReader(io.BytesIO(data)).pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError):
        return None


def inspect_document(data: bytes) -> DocumentInfo:
    """Page count and limit failures of a document, as Telnyx's media processing would report."""
    content_type = sniff_content_type(data)
    if len(data) > MAX_FAX_BYTES:
        return DocumentInfo(DEFAULT_PAGE_COUNT, content_type, "file_size_limit_exceeded")
    if content_type is None:
        return DocumentInfo(DEFAULT_PAGE_COUNT, None, "file_format_invalid")
    if content_type != "application/pdf":
        # Only PDFs are paginated here; images and text are treated as one page.
        return DocumentInfo(DEFAULT_PAGE_COUNT, content_type)
    pages = count_pdf_pages(data)
    if pages is None or pages == 0:
        return DocumentInfo(DEFAULT_PAGE_COUNT, content_type, "file_format_invalid")
    if pages > MAX_FAX_PAGES:
        return DocumentInfo(pages, content_type, "page_count_limit_exceeded")
    return DocumentInfo(pages, content_type)


def is_fetchable(url: str) -> bool:
    """Only ``file://`` and loopback ``http(s)`` URLs are fetched, so the emulator never goes online."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return True
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def guess_content_type(url: str) -> str:
    return mimetypes.guess_type(urlsplit(url).path)[0] or "application/pdf"


@dataclass(frozen=True)
class FetchResult:
    """A fetched document, or the reason it could not be fetched."""

    data: bytes | None
    too_large: bool = False
    error: str | None = None


async def fetch_document(url: str, *, timeout: float = 10.0) -> FetchResult:
    """Fetch a ``file://`` or loopback URL, reading at most :data:`MAX_FAX_BYTES` + 1 bytes."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
        try:
            if os.path.getsize(path) > MAX_FAX_BYTES:
                return FetchResult(None, too_large=True)
            return FetchResult(await asyncio.to_thread(path.read_bytes))
        except OSError as exc:
            return FetchResult(None, error=f"{type(exc).__name__}: {exc}")
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.get(url) as response,
        ):
            if response.status >= 400:
                return FetchResult(None, error=f"HTTP {response.status}")
            data = await response.content.read(MAX_FAX_BYTES + 1)
            if len(data) > MAX_FAX_BYTES:
                return FetchResult(None, too_large=True)
            return FetchResult(data)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return FetchResult(None, error=f"{type(exc).__name__}: {exc}")


async def inspect_url(url: str) -> DocumentInfo:
    """Inspect the document behind a ``media_url`` (the default page count when not fetchable)."""
    if not is_fetchable(url):
        return DocumentInfo(DEFAULT_PAGE_COUNT, guess_content_type(url))
    fetched = await fetch_document(url)
    if fetched.too_large:
        return DocumentInfo(DEFAULT_PAGE_COUNT, guess_content_type(url), "file_size_limit_exceeded")
    if fetched.data is None:
        log.info("media_url %s could not be fetched: %s", url, fetched.error)
        return DocumentInfo(DEFAULT_PAGE_COUNT, None, "file_download_failed")
    return inspect_document(fetched.data)


def blank_pdf(pages: int = 1) -> bytes:
    """A PDF of ``pages`` blank US Letter pages (a placeholder document, and a handy test document)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def placeholder_pdf() -> bytes:
    """A one-page PDF standing in for media the emulator was told about but cannot fetch."""
    return blank_pdf(1)


def blank_tiff(width: int = 1728, height: int = 2200) -> bytes:
    """A one-page blank bilevel TIFF the size of a fine-mode fax page (1728 dots across at 204 x 196 dpi).

    Written by hand so the emulator needs no imaging library: one strip, each white row PackBits-encoded.
    """
    row = b""
    left = (width + 7) // 8
    while left:  # runs of up to 128 zero bytes: a header (257 - n repeats, or 0 for one literal byte), then 0
        run = min(128, left)
        row += bytes([257 - run if run > 1 else 0, 0])
        left -= run
    strip = row * height
    entries = [  # (tag, type, value): type 3 SHORT, 4 LONG, 5 RATIONAL (value then an offset, filled in below)
        (256, 4, width),
        (257, 4, height),
        (258, 3, 1),  # bits per sample
        (259, 3, 32773),  # PackBits
        (262, 3, 0),  # white is zero
        (273, 4, 8),  # the strip starts right after the header
        (277, 3, 1),  # samples per pixel
        (278, 4, height),  # rows per strip
        (279, 4, len(strip)),
        (282, 5, 204),
        (283, 5, 196),
        (296, 3, 2),  # resolution in inches
    ]
    ifd_at = 8 + len(strip) + len(strip) % 2
    rationals_at = ifd_at + 2 + 12 * len(entries) + 4
    ifd = struct.pack("<H", len(entries))
    rationals = b""
    for tag, kind, value in entries:
        if kind == 5:
            ifd += struct.pack("<HHII", tag, kind, 1, rationals_at + len(rationals))
            rationals += struct.pack("<II", value, 1)
        elif kind == 3:
            ifd += struct.pack("<HHIHH", tag, kind, 1, value, 0)
        else:
            ifd += struct.pack("<HHII", tag, kind, 1, value)
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", ifd_at) + strip + b"\x00" * (len(strip) % 2) + ifd + rationals
