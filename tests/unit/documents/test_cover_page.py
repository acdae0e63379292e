"""The cover page: its text is in the PDF, and whatever the message's length it stays one page."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from airflow_provider_telnyx_fax.documents.cover_page import (
    DEFAULT_NOTICE,
    ELLIPSIS,
    CoverPage,
    fit_lines,
    render_cover_page,
    require_reportlab,
)
from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError

COVER = CoverPage(
    subject="Invoice 2026-06 and terms",
    message="Please find attached our invoice for June.\nPayment is due within 30 days.",
    sender_name="Acme Billing",
    recipient_name="Dr. Ada Smith",
)


def render(cover: CoverPage, **overrides) -> bytes:
    arguments = {"to": "+13125550123", "from_number": "+13125550100", "total_pages": 6, "date": "1 June 2026"}
    return render_cover_page(cover, **{**arguments, **overrides})


def text_of(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_the_cover_page_says_who_what_how_many_pages_and_the_notice():
    pages, text = text_of(render(COVER))

    assert pages == 1
    for expected in (
        "FAX",
        "To: Dr. Ada Smith (+13125550123)",
        "From: Acme Billing (+13125550100)",
        "Date: 1 June 2026",
        "Pages: 6 (including this cover page)",
        "Subject: Invoice 2026-06 and terms",
        "Please find attached our invoice for June.",
        "Payment is due within 30 days.",
        "CONFIDENTIALITY NOTICE",
    ):
        assert expected in text, expected


def test_a_long_message_is_wrapped_and_cut_with_an_ellipsis_never_a_second_page():
    message = " ".join(f"word{index}" for index in range(5000))

    pages, text = text_of(render(CoverPage(subject="Long", message=message)))

    assert pages == 1
    assert "word0 word1 word2" in text
    assert "word4999" not in text
    assert ELLIPSIS in text
    assert "CONFIDENTIALITY NOTICE" in text, "the notice keeps its place at the foot"


def test_many_short_lines_are_cut_too():
    pages, text = text_of(render(CoverPage(message="\n".join(f"line {index}" for index in range(300)))))

    assert pages == 1
    assert "line 0" in text
    assert "line 299" not in text


def test_a_long_subject_and_names_stay_on_their_line():
    long = "x" * 500

    pages, text = text_of(render(CoverPage(subject=long, sender_name=long, recipient_name=long)))

    assert pages == 1
    assert "x" * 500 not in text


def test_the_notice_can_be_replaced_or_left_out():
    _, custom = text_of(render(CoverPage(notice="Private and confidential.")))
    _, none = text_of(render(CoverPage(notice="")))

    assert "Private and confidential." in custom
    assert "CONFIDENTIALITY" not in custom
    assert "CONFIDENTIALITY" not in none
    assert CoverPage().notice_text == DEFAULT_NOTICE


def test_the_same_cover_draws_the_same_bytes():
    assert render(COVER) == render(COVER)
    assert render(COVER) != render(COVER, total_pages=7)


def test_a_dict_becomes_a_cover_page_and_a_wrong_field_is_named():
    assert CoverPage.coerce({"subject": "Hi"}) == CoverPage(subject="Hi")
    assert CoverPage.coerce(None) is None
    assert CoverPage.coerce({}) is None
    assert CoverPage.coerce(COVER) is COVER
    with pytest.raises(TelnyxFaxValidationError, match="has no field subjet") as raised:
        CoverPage.coerce({"subjet": "Hi"})
    assert raised.value.field == "cover_page"
    with pytest.raises(TelnyxFaxValidationError, match="message must be text"):
        CoverPage.coerce({"message": 3})
    with pytest.raises(TelnyxFaxValidationError, match="must be a CoverPage or a dict"):
        CoverPage.coerce(["subject"])


def test_fit_lines_keeps_short_text_whole():
    assert fit_lines("short", font="Helvetica", size=12, width=400, max_lines=3) == ["short"]


def test_without_reportlab_the_error_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_reportlab(name, *args, **kwargs):
        if name == "reportlab" or name.startswith("reportlab."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_reportlab)
    with pytest.raises(TelnyxFaxValidationError, match=r"pip install 'airflow-provider-telnyx-fax\[documents\]'"):
        require_reportlab("cover_page")


def test_the_cover_page_renders_to_a_png_for_a_look(tmp_path):
    import pypdfium2

    pdf = pypdfium2.PdfDocument(render(COVER))
    image = pdf[0].render(scale=1).to_pil()
    pdf.close()
    image.save(tmp_path / "cover-page.png")

    assert image.size == (612, 792)
    # Mostly white paper with black text on it.
    histogram = image.convert("L").histogram()
    assert histogram[255] > 0.8 * sum(histogram)
    assert sum(histogram[:64]) > 1000
