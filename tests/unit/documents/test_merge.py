"""Several documents in one fax: merged in order behind the cover page, Telnyx's limits checked on the result."""

from __future__ import annotations

import io
import os

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, StreamObject

from airflow_provider_telnyx_fax.documents.cover_page import CoverPage
from airflow_provider_telnyx_fax.documents.merge import (
    CoverDetails,
    assemble_document,
    check_fax_limits,
    load_documents,
    merge_pdfs,
)
from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
from tests.support.documents import make_pdf

COVER = CoverDetails(cover=CoverPage(subject="Invoice"), to="+13125550123", from_number="+13125550100", date="1 June")


def bulky_pdf(path, megabytes: float):
    """A one-page PDF whose page content is ``megabytes`` of incompressible comment."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=612, height=792)
    stream = StreamObject()
    size = int(megabytes * 1024 * 1024)
    stream.set_data(b"% " + os.urandom(size // 2).hex().encode() + b"\n")
    page[NameObject("/Contents")] = writer._add_object(stream)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def test_the_merged_page_count_is_the_sum_of_the_inputs_plus_the_cover(tmp_path):
    paths = [make_pdf(tmp_path / "invoice.pdf", 2), make_pdf(tmp_path / "terms.pdf", 3)]

    document = assemble_document(media_paths=paths, cover=COVER)

    assert document is not None
    assert document.pages == 2 + 3 + 1
    assert len(PdfReader(io.BytesIO(document.content)).pages) == 6
    assert document.content_type == "application/pdf"


def test_the_cover_comes_first_and_the_documents_follow_in_order(tmp_path):
    paths = [make_pdf(tmp_path / "one.pdf", 1), make_pdf(tmp_path / "two.pdf", 2)]

    document = assemble_document(media_paths=paths, cover=COVER)

    pages = PdfReader(io.BytesIO(document.content)).pages
    assert "Invoice" in pages[0].extract_text()
    assert [page.extract_text() for page in pages[1:]] == ["", "", ""]


def test_the_same_inputs_merge_to_the_same_bytes_so_the_send_key_repeats(tmp_path):
    paths = [make_pdf(tmp_path / "a.pdf", 2), make_pdf(tmp_path / "b.pdf", 1)]

    first = assemble_document(media_paths=paths, cover=COVER)
    second = assemble_document(media_paths=paths, cover=COVER)
    other = assemble_document(
        media_paths=paths, cover=CoverDetails(cover=CoverPage(subject="Other"), to="+1", from_number=None, date="")
    )

    assert first.sha256 == second.sha256
    assert first.media_name == second.media_name
    assert other.sha256 != first.sha256


def test_one_document_without_a_cover_is_sent_as_it_is(tmp_path):
    path = make_pdf(tmp_path / "a.pdf", 2)

    document = assemble_document(media_path=path)

    assert document.content == path.read_bytes()
    assert assemble_document() is None


def test_a_merge_over_350_pages_is_refused(tmp_path):
    paths = [make_pdf(tmp_path / "a.pdf", 200), make_pdf(tmp_path / "b.pdf", 150)]

    with pytest.raises(TelnyxFaxValidationError, match="351 pages; Telnyx faxes at most 350") as raised:
        assemble_document(media_paths=paths, cover=COVER)

    assert raised.value.field == "media_paths"
    # Without the cover it fits exactly.
    assert assemble_document(media_paths=paths).pages == 350


def test_a_merge_over_20_mb_is_refused_for_upload(tmp_path):
    paths = [bulky_pdf(tmp_path / "a.pdf", 11), bulky_pdf(tmp_path / "b.pdf", 11)]

    with pytest.raises(TelnyxFaxValidationError, match="over the 20 MB upload limit; host the merged PDF") as raised:
        assemble_document(media_paths=paths)

    assert raised.value.field == "media_paths"


def test_the_url_limit_is_50_mb():
    check_fax_limits(size=49 * 1024 * 1024, pages=1, field="media_url", by_url=True)
    with pytest.raises(TelnyxFaxValidationError, match="over the 50 MB URL limit"):
        check_fax_limits(size=51 * 1024 * 1024, pages=1, field="media_url", by_url=True)
    with pytest.raises(TelnyxFaxValidationError, match="over the 20 MB upload limit"):
        check_fax_limits(size=21 * 1024 * 1024, pages=1, field="media_paths")


def test_a_file_that_cannot_be_merged_is_named_by_its_place_with_what_to_do(tmp_path):
    pdf = make_pdf(tmp_path / "a.pdf", 1)
    letter = tmp_path / "letter.docx"
    letter.write_bytes(b"PK\x03\x04 not really a document")

    with pytest.raises(TelnyxFaxValidationError) as raised:
        load_documents([pdf, letter])

    assert raised.value.field == "media_paths[1]"
    assert "convert it to PDF first, or send it alone with media_path" in str(raised.value)
    # The file's name stays out of the message, as it stays out of the logs.
    assert "letter" not in str(raised.value)


def test_a_missing_file_in_the_list_is_named_by_its_place(tmp_path):
    with pytest.raises(TelnyxFaxValidationError) as raised:
        load_documents([make_pdf(tmp_path / "a.pdf", 1), tmp_path / "missing.pdf"])

    assert raised.value.field == "media_paths[1]"


@pytest.mark.parametrize("value", ["a.pdf", [], None])
def test_media_paths_must_be_a_list(value):
    with pytest.raises(TelnyxFaxValidationError, match="non-empty list"):
        load_documents(value)


def test_media_path_and_media_paths_together_are_refused_naming_both(tmp_path):
    path = make_pdf(tmp_path / "a.pdf", 1)

    with pytest.raises(TelnyxFaxValidationError, match="cannot go with media_path") as raised:
        assemble_document(media_path=path, media_paths=[path])

    assert raised.value.field == "media_paths"


def test_a_cover_needs_a_local_document():
    with pytest.raises(TelnyxFaxValidationError, match="needs a local document") as raised:
        assemble_document(cover=COVER)

    assert raised.value.field == "cover_page"


def test_merge_pdfs_keeps_every_page(tmp_path):
    merged = merge_pdfs([make_pdf(tmp_path / "a.pdf", 2).read_bytes(), make_pdf(tmp_path / "b.pdf", 4).read_bytes()])

    assert len(PdfReader(io.BytesIO(merged)).pages) == 6


def test_object_storage_entries_are_read_like_media_path(tmp_path):
    local = make_pdf(tmp_path / "a.pdf", 1)
    (tmp_path / "bucket").mkdir()
    stored = make_pdf(tmp_path / "bucket" / "b.pdf", 2)

    # A file:// URL goes through ObjectStoragePath, as s3:// or gs:// would.
    document = assemble_document(media_paths=[str(local), stored.as_uri()], cover=COVER)

    assert document.pages == 1 + 2 + 1
