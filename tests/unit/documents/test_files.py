"""Documents checked as Telnyx would check them: type, size, page count, and a content-addressed name."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_telnyx_fax.documents import (
    MAX_PAGES,
    MAX_UPLOAD_BYTES,
    as_path,
    count_pdf_pages,
    load_document,
)
from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
from tests.support.documents import make_pdf


def refusal(media_path: object) -> str:
    with pytest.raises(TelnyxFaxValidationError) as raised:
        load_document(media_path)
    assert raised.value.field == "media_path"
    return str(raised.value)


def test_a_pdf_is_read_with_its_pages_type_and_size(tmp_path):
    path = make_pdf(tmp_path / "report.pdf", pages=3)

    document = load_document(path)

    assert (document.filename, document.content_type, document.pages) == ("report.pdf", "application/pdf", 3)
    assert document.content == path.read_bytes()
    assert document.size == path.stat().st_size


def test_the_media_name_depends_on_the_content_only(tmp_path):
    first = load_document(make_pdf(tmp_path / "a.pdf", pages=1))
    renamed = load_document(make_pdf(tmp_path / "b.pdf", pages=1))
    other = load_document(make_pdf(tmp_path / "c.pdf", pages=2))

    assert first.media_name == renamed.media_name == f"airflow-fax-{first.sha256[:40]}"
    assert other.media_name != first.media_name


def test_the_suffix_sets_the_type_and_only_pdfs_are_counted(tmp_path):
    scan = tmp_path / "SCAN.TIFF"
    scan.write_bytes(b"II*\x00not really a tiff")

    document = load_document(str(scan))

    assert (document.content_type, document.pages) == ("image/tiff", None)


def test_a_type_telnyx_cannot_fax_is_refused_listing_those_it_can(tmp_path):
    archive = tmp_path / "report.zip"
    archive.write_bytes(b"PK")

    message = refusal(archive)

    assert "(.zip) is not one Telnyx can fax" in message
    assert "PDF" in message
    assert "no extension" in refusal(tmp_path / "README")


def test_a_missing_file_is_refused(tmp_path):
    assert "no file at the given path" in refusal(tmp_path / "missing.pdf")
    (tmp_path / "folder.pdf").mkdir()
    assert "no file at the given path" in refusal(tmp_path / "folder.pdf")


def test_the_20_mb_upload_limit_is_checked_before_reading(tmp_path):
    at_limit, over = tmp_path / "at.png", tmp_path / "over.png"
    with at_limit.open("wb") as handle:
        handle.truncate(MAX_UPLOAD_BYTES)
    with over.open("wb") as handle:
        handle.truncate(MAX_UPLOAD_BYTES + 1)

    assert load_document(at_limit).size == MAX_UPLOAD_BYTES
    assert "over the 20 MB upload limit" in refusal(over)


def test_page_limits_and_unreadable_pdfs(tmp_path):
    assert count_pdf_pages(make_pdf(tmp_path / "max.pdf", pages=MAX_PAGES).read_bytes()) == MAX_PAGES
    assert f"has {MAX_PAGES + 1} pages" in refusal(make_pdf(tmp_path / "long.pdf", pages=MAX_PAGES + 1))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 and then nothing")
    assert "is not a readable PDF" in refusal(broken)


def test_plain_paths_stay_local_and_urls_go_to_object_storage(tmp_path):
    from airflow.sdk import ObjectStoragePath

    assert as_path(str(tmp_path / "a.pdf")) == tmp_path / "a.pdf"
    assert isinstance(as_path(tmp_path), Path)
    remote = as_path(f"file://{tmp_path}/a.pdf")
    assert isinstance(remote, ObjectStoragePath)
    assert as_path(remote) is remote
