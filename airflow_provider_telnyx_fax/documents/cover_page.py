"""
The fax cover page: to, from, date, pages, subject, a message and a confidentiality notice, on one page.

Drawn with reportlab (the ``documents`` extra). Whatever the message's length, the page stays one
page: text is wrapped to the page's width and cut with an ellipsis where its box ends. The PDF is
written with reportlab's ``invariant`` mode (no creation time, no random document id), so the same
cover gives the same bytes and the send key recognises a rerun.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, fields
from typing import Any

from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError

EXTRA_HINT = "pip install 'airflow-provider-telnyx-fax[documents]'"
DEFAULT_NOTICE = (
    "CONFIDENTIALITY NOTICE: This fax, including any pages that follow, is intended only for the person or "
    "entity to which it is addressed and may contain information that is privileged, confidential or exempt "
    "from disclosure. If you are not the intended recipient, do not read, copy or distribute it; please "
    "notify the sender by telephone at once and destroy every page you received."
)
ELLIPSIS = "…"
PAGE_WIDTH, PAGE_HEIGHT = 612.0, 792.0  # US Letter, in points
MARGIN = 54.0
MESSAGE_FONT_SIZE = 12.0
MESSAGE_LEADING = 16.0
NOTICE_FONT_SIZE = 8.5
NOTICE_LEADING = 11.0
NOTICE_MAX_LINES = 8


def require_reportlab(feature: str) -> None:
    """Raise a clear error naming the extra when reportlab is not installed."""
    try:
        import reportlab  # noqa: F401
    except ImportError:
        raise TelnyxFaxValidationError(
            feature, f"needs reportlab to draw the PDF, which is not installed; {EXTRA_HINT}"
        ) from None


@dataclass(frozen=True, kw_only=True)
class CoverPage:
    """
    What the cover page says; every field is optional.

    :param subject: one line, e.g. ``Invoice 2026-06``.
    :param message: free text; wrapped, and cut with an ellipsis if it would not fit on the page.
    :param sender_name: who the fax is from (the number is the fax's ``from``).
    :param recipient_name: who it is for (the number is the fax's ``to``, shown as you gave it).
    :param notice: the confidentiality notice at the foot; ``None`` for the default, ``""`` for none.
    :param title: the page's heading.
    """

    subject: str = ""
    message: str = ""
    sender_name: str = ""
    recipient_name: str = ""
    notice: str | None = None
    title: str = "FAX"

    @classmethod
    def coerce(cls, value: Any) -> CoverPage | None:
        """A :class:`CoverPage` from a ``CoverPage``, a mapping of its fields (a DAG's dict), ``None`` or ``{}``."""
        if value is None or value == {} or value == "":
            return None
        if isinstance(value, CoverPage):
            return value
        if not isinstance(value, dict):
            raise TelnyxFaxValidationError("cover_page", "must be a CoverPage or a dict of its fields")
        known = {item.name for item in fields(cls)}
        unknown = sorted(str(name) for name in value if name not in known)
        if unknown:
            raise TelnyxFaxValidationError(
                "cover_page", f"has no field {', '.join(unknown)}; use {', '.join(sorted(known))}"
            )
        not_text = sorted(name for name, item in value.items() if item is not None and not isinstance(item, str))
        if not_text:
            raise TelnyxFaxValidationError("cover_page", f"{', '.join(not_text)} must be text")
        return cls(**value)

    @property
    def notice_text(self) -> str:
        return DEFAULT_NOTICE if self.notice is None else self.notice


def fit_lines(text: str, *, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """``text`` wrapped to ``width``, at most ``max_lines`` lines, the last cut with an ellipsis if more remained."""
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        for line in simpleSplit(paragraph, font, size, width) or [""]:
            # A word wider than the page (a long URL, a reference number) is broken where the page ends.
            while stringWidth(line, font, size) > width:
                cut = len(line) - 1
                while cut > 1 and stringWidth(line[:cut], font, size) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
            lines.append(line)
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    last = kept[-1].rstrip()
    while last and stringWidth(last + ELLIPSIS, font, size) > width:
        last = last[:-1].rstrip()
    kept[-1] = last + ELLIPSIS
    return kept


def fit_line(text: str, *, font: str, size: float, width: float) -> str:
    """One line of ``text``, cut with an ellipsis to fit ``width``."""
    return fit_lines(" ".join(text.split()), font=font, size=size, width=width, max_lines=1)[0]


def render_cover_page(
    cover: CoverPage,
    *,
    to: str,
    from_number: str | None,
    total_pages: int,
    date: str,
) -> bytes:
    """
    The cover page as a one-page PDF.

    :param to: the destination as the DAG gave it (the cover goes to that recipient, so it is not masked).
    :param from_number: the sending number.
    :param total_pages: every page of the fax, this cover included.
    :param date: the date to print (the run's date, so a rerun draws the same page).
    """
    require_reportlab("cover_page")
    from reportlab.lib import colors
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=1, pageCompression=1)
    page.setTitle(f"{cover.title} cover page")
    width = PAGE_WIDTH - 2 * MARGIN
    top = PAGE_HEIGHT - MARGIN

    page.setFont("Helvetica-Bold", 40)
    page.drawString(MARGIN, top - 36, fit_line(cover.title, font="Helvetica-Bold", size=40, width=width))
    page.setLineWidth(2)
    page.line(MARGIN, top - 50, PAGE_WIDTH - MARGIN, top - 50)

    rows = [
        ("To", _name_and_number(cover.recipient_name, to)),
        ("From", _name_and_number(cover.sender_name, from_number)),
        ("Date", date),
        ("Pages", f"{total_pages} (including this cover page)"),
        ("Subject", cover.subject),
    ]
    y = top - 86
    label_width = 80.0
    for label, value in rows:
        page.setFont("Helvetica-Bold", 13)
        page.drawString(MARGIN, y, f"{label}:")
        page.setFont("Helvetica", 13)
        page.drawString(MARGIN + label_width, y, fit_line(value, font="Helvetica", size=13, width=width - label_width))
        y -= 24
    page.setLineWidth(0.5)
    page.line(MARGIN, y + 6, PAGE_WIDTH - MARGIN, y + 6)

    notice_lines = (
        fit_lines(cover.notice_text, font="Helvetica", size=NOTICE_FONT_SIZE, width=width, max_lines=NOTICE_MAX_LINES)
        if cover.notice_text
        else []
    )
    notice_top = MARGIN + len(notice_lines) * NOTICE_LEADING
    message_top = y - 24
    if cover.message:
        page.setFont("Helvetica-Bold", 13)
        page.drawString(MARGIN, message_top, "Message:")
        room = message_top - 20 - (notice_top + 24)
        lines = fit_lines(
            cover.message,
            font="Helvetica",
            size=MESSAGE_FONT_SIZE,
            width=width,
            max_lines=max(1, int(room // MESSAGE_LEADING)),
        )
        text = page.beginText(MARGIN, message_top - 22)
        text.setFont("Helvetica", MESSAGE_FONT_SIZE, MESSAGE_LEADING)
        for line in lines:
            text.textLine(line)
        page.drawText(text)

    if notice_lines:
        page.setStrokeColor(colors.grey)
        page.line(MARGIN, notice_top + 8, PAGE_WIDTH - MARGIN, notice_top + 8)
        text = page.beginText(MARGIN, notice_top - NOTICE_FONT_SIZE + 2)
        text.setFont("Helvetica", NOTICE_FONT_SIZE, NOTICE_LEADING)
        text.setFillColor(colors.HexColor("#333333"))
        for line in notice_lines:
            text.textLine(line)
        page.drawText(text)

    page.showPage()
    page.save()
    return buffer.getvalue()


def _name_and_number(name: str, number: str | None) -> str:
    if name and number:
        return f"{name} ({number})"
    return name or number or ""
