"""Pre-send checks: what Telnyx would refuse is refused first, naming the field, with numbers masked."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
from airflow_provider_telnyx_fax.validation import (
    check_client_state,
    check_destination,
    check_e164,
    check_send_request,
)

VALID = {
    "to": "+13125550123",
    "from": "+13125790015",
    "connection_id": "1293384261075731499",
    "media_url": "https://example.com/report.pdf",
}


def refusal(check: Any, *args: Any) -> TelnyxFaxValidationError:
    with pytest.raises(TelnyxFaxValidationError) as raised:
        check(*args)
    return raised.value


@pytest.mark.parametrize("number", ["+13125550123", "+442071838750", "+12", "+123456789012345"])
def test_e164_numbers_are_accepted(number):
    assert check_e164("from", number) == number


@pytest.mark.parametrize(
    "number",
    [
        "13125550123",
        "+03125550123",
        "+1234567890123456",
        "+1 312 555 0123",
        "+1-312-555-0123",
        "+",
        "",
        None,
        13125550123,
    ],
)
def test_anything_else_is_refused_naming_the_field(number):
    error = refusal(check_e164, "from", number)

    assert error.field == "from"
    assert "is not an E.164 number" in str(error)


def test_the_refusal_does_not_repeat_the_full_number():
    error = refusal(check_e164, "from", "19175550188")

    assert "19175550188" not in str(error)
    assert "0188" in str(error)


@pytest.mark.parametrize("destination", ["+13125550123", "sip:fax@example.com", "sips:fax@pbx.example.com"])
def test_a_destination_is_an_e164_number_or_a_sip_uri(destination):
    assert check_destination(destination) == destination


@pytest.mark.parametrize("destination", ["sip:example.com", "sip:a@b@c", "fax@example.com", "3125550123", None])
def test_other_destinations_are_refused_as_to(destination):
    assert refusal(check_destination, destination).field == "to"


def test_client_state_must_be_non_empty_base64():
    state = base64.b64encode(b"order-42").decode()

    assert check_client_state(state) == state
    for bad in ("", None, "not base64!", "abc"):
        error = refusal(check_client_state, bad)
        assert error.field == "client_state"


def test_a_complete_request_passes():
    check_send_request(VALID)
    check_send_request(
        {**VALID, "quality": "very_high", "monochrome": True, "black_threshold": 100, "from_display_name": "Acme Labs"}
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"to": "555-0123"}, "to", "neither an E.164 number"),
        ({"from": None}, "from", "not an E.164 number"),
        ({"connection_id": ""}, "connection_id", "no Fax Application id"),
        ({"media_url": None}, "media_url", "none was given"),
        ({"media_name": "report"}, "media_url", "got media_url, media_name"),
        ({"media_url": None, "media_name": "report", "store_media": True}, "store_media", "store_media with"),
        ({"client_state": "not base64!"}, "client_state", "not valid base64"),
        ({"quality": "best"}, "quality", "'best' is not one of normal"),
        ({"preview_format": "png"}, "preview_format", "'png' is not one of pdf, tiff"),
        ({"from_display_name": "Acme <labs>"}, "from_display_name", "at most 128"),
        ({"from_display_name": "x" * 129}, "from_display_name", "at most 128"),
        ({"black_threshold": 0, "monochrome": True}, "black_threshold", "from 1 to 100"),
        ({"black_threshold": True, "monochrome": True}, "black_threshold", "from 1 to 100"),
        ({"black_threshold": 50}, "black_threshold", "only applies with monochrome"),
    ],
)
def test_each_problem_is_named_by_its_field(changes, field, message):
    error = refusal(check_send_request, {**VALID, **changes})

    assert error.field == field
    assert message in str(error)


def test_an_uploaded_file_counts_as_the_one_document():
    check_send_request({**VALID, "media_url": None, "contents": True})
    assert refusal(check_send_request, {**VALID, "contents": True}).field == "media_url"
