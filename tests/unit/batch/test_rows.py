"""Batch rows: read from a list, JSON text, CSV or JSON Lines, and each one checked before anything is sent."""

from __future__ import annotations

import base64

import pytest

from airflow_provider_telnyx_fax.batch.rows import (
    NAMED_IN_MESSAGE,
    InvalidRow,
    describe_invalid_rows,
    read_recipients,
    read_recipients_file,
)
from airflow_provider_telnyx_fax.documents import load_document
from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
from airflow_provider_telnyx_fax.idempotency import decode_client_state, user_client_state
from tests.support.batch_rows import BATCH_ID, MEDIA_URL, checked
from tests.support.documents import make_pdf

A, B, C = "+13125550101", "+13125550102", "+13125550103"


def refused(field: str, *args: object) -> str:
    with pytest.raises(TelnyxFaxValidationError) as raised:
        read_recipients(*args)
    assert raised.value.field == field
    return str(raised.value)


class TestReading:
    def test_a_list_or_its_json_text(self):
        assert read_recipients([A, {"to": B}], None) == [A, {"to": B}]
        assert read_recipients(f'["{A}", {{"to": "{B}"}}]', None) == [A, {"to": B}]
        assert read_recipients((number for number in (A, B)), "") == [A, B]

    def test_exactly_one_source(self, tmp_path):
        assert "exactly one of" in refused("recipients", None, None)
        assert "exactly one of" in refused("recipients", [A], tmp_path / "rows.csv")

    @pytest.mark.parametrize("recipients", ["not json", A, {"to": A}, 42])
    def test_anything_but_a_list_is_refused(self, recipients):
        refused("recipients", recipients, None)

    def test_a_csv_with_a_header_and_empty_cells_left_out(self, tmp_path):
        path = tmp_path / "rows.csv"
        path.write_bytes(f"\ufeffto,media_url,row_id\n{A},,first\n{B},https://example.com/b.pdf,\n".encode())

        assert read_recipients(None, str(path)) == [
            {"to": A, "row_id": "first"},
            {"to": B, "media_url": "https://example.com/b.pdf"},
        ]

    @pytest.mark.parametrize("header", ["number,media_url", "to,colour"])
    def test_a_csv_header_must_name_to_and_only_row_fields(self, tmp_path, header):
        path = tmp_path / "rows.csv"
        path.write_text(f"{header}\n{A},x\n")

        with pytest.raises(TelnyxFaxValidationError, match="CSV header must name 'to'"):
            read_recipients_file(path)

    def test_json_lines_skip_blank_lines_and_name_a_bad_one(self, tmp_path):
        good, bad = tmp_path / "rows.jsonl", tmp_path / "bad.ndjson"
        good.write_text(f'"{A}"\n\n{{"to": "{B}"}}\n')
        bad.write_text(f'"{A}"\n{{oops\n')

        assert read_recipients_file(good) == [A, {"to": B}]
        with pytest.raises(TelnyxFaxValidationError, match="line 2 is not JSON"):
            read_recipients_file(bad)

    def test_the_file_must_exist_and_be_csv_or_json_lines(self, tmp_path):
        with pytest.raises(TelnyxFaxValidationError, match=r"must end in \.csv, \.jsonl or \.ndjson, not \.xlsx"):
            read_recipients_file(tmp_path / "rows.xlsx")
        with pytest.raises(TelnyxFaxValidationError, match="no file at the given path"):
            read_recipients_file(tmp_path / "rows.csv")


class TestChecking:
    def test_each_row_gets_the_batch_document_its_own_id_and_a_send_key(self):
        own_state = base64.b64encode(b"invoice-7").decode()

        rows, invalid = checked([A, {"to": B, "row_id": "acme", "client_state": own_state}], try_number=2)

        assert invalid == []
        assert [(row.number, row.row_id, row.to) for row in rows] == [(1, "1", A), (2, "acme", B)]
        assert all(row.request.media_url == MEDIA_URL for row in rows)
        assert rows[0].request.from_number == "+13125790015"
        state = decode_client_state(rows[1].request.client_state)
        assert state is not None
        assert (state["batch"], state["row"], state["attempt"], state["key"]) == (
            BATCH_ID,
            "acme",
            2,
            rows[1].key.digest,
        )
        assert user_client_state(rows[1].request.client_state) == own_state

    def test_the_same_number_twice_is_two_rows_with_two_keys(self):
        rows, _ = checked([A, A])

        assert rows[0].key.digest != rows[1].key.digest

    def test_a_rows_own_document_replaces_the_batchs(self, tmp_path):
        pdf = make_pdf(tmp_path / "own.pdf", pages=2)

        rows, invalid = checked([{"to": A, "media_name": "stored"}, {"to": B, "media_path": str(pdf)}, C])

        assert invalid == []
        assert (rows[0].request.media_url, rows[0].request.media_name) == (None, "stored")
        assert rows[1].document is not None
        assert rows[1].document.pages == 2
        assert rows[1].request.media_name == rows[1].document.media_name
        assert rows[2].request.media_url == MEDIA_URL

    def test_rows_sharing_a_file_read_it_once(self, tmp_path):
        pdf = make_pdf(tmp_path / "shared.pdf", pages=1)

        rows, _ = checked([{"to": A, "media_path": str(pdf)}, {"to": B, "media_path": str(pdf)}])

        assert rows[0].document is rows[1].document

    def test_a_batch_file_document_is_uploaded_by_name(self, tmp_path):
        document = load_document(make_pdf(tmp_path / "batch.pdf", pages=1))

        rows, _ = checked([A], media_url=None, document=document)

        assert (rows[0].document, rows[0].request.media_name) == (document, document.media_name)

    def test_bad_rows_are_named_with_their_field_and_the_rest_kept(self):
        rows, invalid = checked(
            [
                A,
                "3125550102",
                {"to": C, "colour": "red"},
                {"to": C, "media_url": MEDIA_URL, "media_name": "x"},
                {"to": C, "row_id": "1"},
                {"row_id": "no-number"},
                {"to": C, "row_id": "x" * 65},
                {"to": C, "client_state": "not base64!"},
                ["not", "a", "row"],
            ]
        )

        assert [row.number for row in rows] == [1]
        assert [(bad.number, bad.field) for bad in invalid] == [
            (2, "to"),
            (3, "colour"),
            (4, "media_name"),
            (5, "row_id"),
            (6, "to"),
            (7, "row_id"),
            (8, "client_state"),
            (9, "to"),
        ]
        assert invalid[3].message == "repeats the row_id of row 1"
        assert "3125550102" not in " ".join(bad.message for bad in invalid)

    def test_a_row_without_a_document_in_a_batch_without_one_is_invalid(self):
        _, invalid = checked([A], media_url=None)

        assert [(bad.field, bad.message) for bad in invalid] == [
            ("media_url", "is missing: the row names no document and the batch has none")
        ]

    def test_the_message_names_the_first_bad_rows_and_counts_the_rest(self):
        invalid = [InvalidRow(number, str(number), "to", "is missing") for number in range(1, NAMED_IN_MESSAGE + 6)]
        invalid[0] = InvalidRow(1, "acme", "to", "is missing")

        message = describe_invalid_rows(invalid, 10_000)

        assert message.startswith(
            f"{NAMED_IN_MESSAGE + 5} of 10,000 rows are invalid: row 1 (acme): to is missing; row 2:"
        )
        assert message.endswith("; and 5 more")
        assert f"row {NAMED_IN_MESSAGE + 1}:" not in message
