"""
The transmission report: the page a fax machine prints after sending, kept as proof of delivery.

One report per fax (fax id, from, to, pages, duration, start and end, the status or failure reason,
and the first page of what was sent, reduced), or one summary for a batch with a line per row,
over as many pages as the rows need. Drawn with reportlab; the first page is rendered with
pypdfium2 (both in the ``documents`` extra).

The destination is masked as everything this package shows is (``[telnyx_fax] mask_numbers``);
the sending number is the account's own and is printed in full.
"""

from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.documents.cover_page import EXTRA_HINT, fit_line, require_reportlab
from airflow_provider_telnyx_fax.documents.files import as_path
from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
from airflow_provider_telnyx_fax.models import classify_failure
from airflow_provider_telnyx_fax.privacy import mask_number

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from reportlab.pdfgen.canvas import Canvas

PAGE_WIDTH, PAGE_HEIGHT = 612.0, 792.0
MARGIN = 54.0
FIRST_PAGE_WIDTH = 250.0  # points: the first page reduced to about 40 %
ROW_HEIGHT = 14.0
# The batch summary's columns: heading, manifest field, width in points.
BATCH_COLUMNS = (
    ("Row", "row", 24.0),
    ("Row id", "row_id", 76.0),
    ("To", "to", 62.0),
    # Wide enough for a whole Telnyx fax id (a UUID) at 8.5 pt.
    ("Fax id", "fax_id", 176.0),
    ("Status", "status", 48.0),
    ("Failure reason", "failure_reason", 92.0),
    ("Tries", "attempts", 26.0),
)


def parse_time(value: Any) -> datetime | None:
    """A Telnyx timestamp (``2026-06-01T09:00:00.123Z``) as an aware datetime, or ``None``."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    # Python 3.10 parses only 3- or 6-digit fractions.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def describe_duration(seconds: float) -> str:
    whole = round(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def report_fields(fax: Mapping[str, Any], *, pages: int | None) -> list[tuple[str, str]]:
    """The report's lines: ``(label, value)``, numbers masked as configured."""
    started, ended = parse_time(fax.get("created_at")), parse_time(fax.get("updated_at"))
    status = str(fax.get("status"))
    result = "Delivered (OK)" if status == "delivered" else status.capitalize()
    if status == "failed":
        reason = fax.get("failure_reason")
        result = f"Failed: {reason or 'no failure reason given'} ({classify_failure(reason).value})"
    page_count = fax.get("page_count") or pages
    return [
        ("Result", result),
        ("Fax id", str(fax.get("id"))),
        ("From", str(fax.get("from") or "")),
        ("To", mask_number(fax.get("to"))),
        ("Pages", str(page_count) if page_count else "not known (sent by URL)"),
        ("Start", f"{started:%Y-%m-%d %H:%M:%S} UTC" if started else "not known"),
        ("End", f"{ended:%Y-%m-%d %H:%M:%S} UTC" if ended else "not known"),
        ("Duration", describe_duration((ended - started).total_seconds()) if started and ended else "not known"),
    ]


def first_page_image(document: bytes, *, width: float = FIRST_PAGE_WIDTH) -> Any:
    """The document's first page as a PIL image about ``width`` points wide, at fax resolution."""
    try:
        import pypdfium2
    except ImportError:
        raise TelnyxFaxValidationError(
            "report_path", f"needs pypdfium2 to show the first page, which is not installed; {EXTRA_HINT}"
        ) from None
    pdf = pypdfium2.PdfDocument(document)
    try:
        page = pdf[0]
        # Twice the printed size, so the reduced page stays legible.
        scale = 2 * width / page.get_width()
        return page.render(scale=scale, grayscale=True).to_pil()
    finally:
        pdf.close()


def _heading(canvas: Canvas, title: str, subtitle: str) -> float:
    canvas.setFont("Helvetica-Bold", 22)
    canvas.drawString(MARGIN, PAGE_HEIGHT - MARGIN - 20, title)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(MARGIN, PAGE_HEIGHT - MARGIN - 38, subtitle)
    canvas.setLineWidth(1.5)
    canvas.line(MARGIN, PAGE_HEIGHT - MARGIN - 48, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - MARGIN - 48)
    return PAGE_HEIGHT - MARGIN - 74


def _new_canvas(buffer: io.BytesIO, title: str) -> Canvas:
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=1, pageCompression=1)
    page.setTitle(title)
    return page


def render_transmission_report(fax: Mapping[str, Any], *, pages: int | None, document: bytes | None) -> bytes:
    """
    One fax's transmission report as a one-page PDF.

    :param fax: the finished fax record (delivered or failed).
    :param pages: the pages sent, when known locally (Telnyx's record may not say).
    :param document: the PDF that was sent, for its first page; ``None`` when it went by URL.
    """
    require_reportlab("report_path")
    from reportlab.lib.utils import ImageReader

    buffer = io.BytesIO()
    canvas = _new_canvas(buffer, "Fax transmission report")
    y = _heading(canvas, "Fax transmission report", "Telnyx Programmable Fax, sent from Apache Airflow")
    for label, value in report_fields(fax, pages=pages):
        canvas.setFont("Helvetica-Bold", 12)
        canvas.drawString(MARGIN, y, f"{label}:")
        canvas.setFont("Helvetica", 12)
        canvas.drawString(
            MARGIN + 90, y, fit_line(value, font="Helvetica", size=12, width=PAGE_WIDTH - 2 * MARGIN - 90)
        )
        y -= 20
    y -= 10
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(MARGIN, y, "First page:")
    if document is None:
        canvas.setFont("Helvetica", 12)
        canvas.drawString(MARGIN + 90, y, "not available (the document went by URL)")
    else:
        image = first_page_image(document)
        height = FIRST_PAGE_WIDTH * image.height / image.width
        height = min(height, y - MARGIN - 10)
        width = height * image.width / image.height
        left = MARGIN + 90
        canvas.drawImage(ImageReader(image), left, y - height + 10, width=width, height=height)
        canvas.setLineWidth(0.5)
        canvas.rect(left, y - height + 10, width, height)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_batch_report(batch_id: str, summary: str, lines: Sequence[Mapping[str, Any]]) -> bytes:
    """
    A batch's summary report: the roll-up, then one line per row (numbers as the manifest has them).

    :param batch_id: the batch's id.
    :param summary: the roll-up in words (``describe_rollup``).
    :param lines: the manifest lines, one per row.
    """
    require_reportlab("report_path")
    buffer = io.BytesIO()
    canvas = _new_canvas(buffer, "Fax batch transmission report")
    chunks = list(_pages_of(lines))
    for number, chunk in enumerate(chunks, start=1):
        y = _heading(
            canvas,
            "Fax batch transmission report",
            f"Batch {batch_id}: page {number} of {len(chunks)}",
        )
        if number == 1:
            canvas.setFont("Helvetica", 10)
            canvas.drawString(MARGIN, y, fit_line(summary, font="Helvetica", size=10, width=PAGE_WIDTH - 2 * MARGIN))
            y -= 22
        y = _table_row(canvas, y, [heading for heading, _, _ in BATCH_COLUMNS], bold=True)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, y + ROW_HEIGHT - 3, PAGE_WIDTH - MARGIN, y + ROW_HEIGHT - 3)
        for line in chunk:
            values = ["" if line.get(name) is None else str(line.get(name)) for _, name, _ in BATCH_COLUMNS]
            y = _table_row(canvas, y, values, bold=False)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _pages_of(lines: Sequence[Mapping[str, Any]]) -> Iterable[Sequence[Mapping[str, Any]]]:
    usable = PAGE_HEIGHT - 2 * MARGIN - 74 - 30
    first = int((usable - 22) // ROW_HEIGHT)
    rest = int(usable // ROW_HEIGHT)
    yield lines[:first]
    for start in range(first, len(lines), rest):
        yield lines[start : start + rest]


def _table_row(canvas: Canvas, y: float, values: Sequence[str], *, bold: bool) -> float:
    font = "Helvetica-Bold" if bold else "Helvetica"
    canvas.setFont(font, 8.5)
    x = MARGIN
    for value, (_, _, width) in zip(values, BATCH_COLUMNS, strict=True):
        canvas.drawString(x, y, fit_line(value, font=font, size=8.5, width=width - 4) if value else "")
        x += width
    return y - ROW_HEIGHT


def write_report(report_path: Any, content: bytes) -> str:
    """Write a report to ``report_path`` (local or object storage), replacing it; return where it went."""
    path = as_path(report_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(content)
    return str(report_path)
