"""Transmission reports: the fields a fax machine prints, the first page reduced, and a batch's line per row."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from airflow_provider_telnyx_fax.documents.cover_page import CoverPage, render_cover_page
from airflow_provider_telnyx_fax.documents.report import (
    parse_time,
    render_batch_report,
    render_transmission_report,
    report_fields,
    write_report,
)

FAX = {
    "id": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    "from": "+13125550100",
    "to": "+13125550123",
    "status": "delivered",
    "created_at": "2026-06-01T14:00:00.123Z",
    "updated_at": "2026-06-01T14:01:12.600Z",
}


def text_of(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, re.sub(r":[ \n]+", ": ", text)


@pytest.fixture
def cover_pdf() -> bytes:
    return render_cover_page(
        CoverPage(subject="Invoice"), to="+13125550123", from_number="+13125550100", total_pages=4, date="1 June"
    )


def test_the_report_holds_every_field_and_the_first_page(cover_pdf):
    reader, text = text_of(render_transmission_report(FAX, pages=4, document=cover_pdf))

    assert len(reader.pages) == 1
    for expected in (
        "Result: Delivered (OK)",
        f"Fax id: {FAX['id']}",
        "From: +13125550100",
        "Pages: 4",
        "Start: 2026-06-01 14:00:00 UTC",
        "End: 2026-06-01 14:01:12 UTC",
        "Duration: 1 min 12 s",
        "First page",
    ):
        assert expected in text, expected
    assert re.search(r"To: \+1\W+0123\n", text)
    assert "+13125550123" not in text
    [image] = reader.pages[0].images
    assert image.image.width > 300


def test_a_failed_fax_reports_its_reason_and_kind():
    fax = {**FAX, "status": "failed", "failure_reason": "user_busy"}

    _, text = text_of(render_transmission_report(fax, pages=None, document=None))

    assert "Result: Failed: user_busy (retryable)" in text
    assert "Pages: not known (sent by URL)" in text
    assert "not available (the document went by URL)" in text


def test_the_destination_is_shown_in_full_when_masking_is_off(monkeypatch):
    monkeypatch.setenv("AIRFLOW__TELNYX_FAX__MASK_NUMBERS", "False")

    assert ("To", "+13125550123") in report_fields(FAX, pages=1)


def test_the_page_count_telnyx_reports_wins():
    assert ("Pages", "9") in report_fields({**FAX, "page_count": 9}, pages=4)


def test_telnyx_timestamps_parse_with_any_fraction():
    assert parse_time("2026-06-01T14:00:00Z").isoformat() == "2026-06-01T14:00:00+00:00"
    assert parse_time("2026-06-01T14:00:00.1234567Z").microsecond == 123456
    assert parse_time(None) is None
    assert parse_time("not a time") is None


def test_a_batch_report_lists_every_row_over_as_many_pages_as_needed():
    lines = [
        {
            "row": index,
            "row_id": f"customer-{index:05d}",
            "to": "+1•••••0123",
            # As wide as a Telnyx fax id (a UUID) gets: digits are the widest of its characters.
            "fax_id": f"{index:08d}-0000-4000-8000-{index:012d}",
            "status": "failed" if index % 50 == 0 else "delivered",
            "failure_reason": "user_busy" if index % 50 == 0 else None,
            "attempts": 1,
        }
        for index in range(1, 121)
    ]

    reader, text = text_of(render_batch_report("batch-1", "120 rows: 118 delivered, 2 failed", lines))

    assert len(reader.pages) == 3
    assert "120 rows: 118 delivered, 2 failed" in text
    for line in lines:
        assert line["row_id"] in text
        assert line["fax_id"] in text
    assert text.count("user_busy") == 2
    assert "page 3 of 3" in text


def test_an_empty_batch_still_gets_its_one_page():
    reader, text = text_of(render_batch_report("batch-1", "0 rows", []))

    assert len(reader.pages) == 1
    assert "0 rows" in text


def test_a_report_is_written_locally_or_to_object_storage(tmp_path):
    local = tmp_path / "nested" / "report.pdf"
    stored = (tmp_path / "bucket" / "report.pdf").as_uri()

    assert write_report(local, b"%PDF-1.4") == str(local)
    assert write_report(stored, b"%PDF-1.4") == stored
    assert local.read_bytes() == (tmp_path / "bucket" / "report.pdf").read_bytes() == b"%PDF-1.4"


def test_the_report_renders_to_a_png_for_a_look(tmp_path, cover_pdf):
    import pypdfium2

    pdf = pypdfium2.PdfDocument(render_transmission_report(FAX, pages=4, document=cover_pdf))
    image = pdf[0].render(scale=1).to_pil()
    pdf.close()
    image.save(tmp_path / "transmission-report.png")

    # The reduced first page is drawn: a dark frame and text in the lower half.
    lower = image.convert("L").crop((0, 396, 612, 792)).histogram()
    assert sum(lower[:128]) > 500
