"""The public error types: Telnyx's errors[] parsed, messages a person can act on, numbers masked."""

from __future__ import annotations

import pytest

from airflow_provider_telnyx_fax.exceptions import (
    TelnyxAPIError,
    TelnyxAuthenticationError,
    TelnyxErrorDetail,
    TelnyxFaxError,
    TelnyxFaxValidationError,
    TelnyxNotFoundError,
    TelnyxOutcomeUnknownError,
    TelnyxRateLimitError,
    TelnyxServerError,
    TelnyxTransportError,
    parse_error_body,
)

UNPROCESSABLE = {
    "errors": [
        {
            "code": 10016,
            "title": "Invalid phone number",
            "detail": "+13125550123 is not a dialable number.",
            "source": {"pointer": "/to"},
            "meta": {"url": "https://developers.telnyx.com/docs/overview/errors/10016"},
        }
    ]
}


def test_an_error_entry_is_read_with_its_code_as_text_and_its_source():
    (detail,) = parse_error_body(UNPROCESSABLE)

    assert detail.code == "10016"
    assert (detail.title, detail.pointer, detail.parameter) == ("Invalid phone number", "/to", None)
    assert detail.meta["url"].endswith("/10016")
    assert detail.field_name == "to"


def test_the_field_comes_from_the_pointer_or_else_the_parameter():
    assert TelnyxErrorDetail(pointer="/data/media_url").field_name == "media_url"
    assert TelnyxErrorDetail(pointer="/", parameter="page[size]").field_name == "page[size]"
    assert TelnyxErrorDetail().field_name is None


def test_describe_names_the_field_once():
    assert TelnyxErrorDetail(detail="must be set", pointer="/to").describe() == "'to': must be set"
    assert TelnyxErrorDetail(detail="to must be set", pointer="/to").describe() == "to must be set"
    assert TelnyxErrorDetail(title="Bad request").describe() == "Bad request"
    assert TelnyxErrorDetail().describe() == "no detail given"


@pytest.mark.parametrize("body", [None, "Bad Gateway", {"error": "x"}, {"errors": "x"}, []])
def test_bodies_that_are_not_telnyx_shaped_give_no_details(body):
    assert parse_error_body(body) == []


def test_a_non_mapping_entry_is_kept_as_its_text():
    assert parse_error_body({"errors": ["quota exceeded"]}) == [TelnyxErrorDetail(detail="quota exceeded")]


def test_an_api_error_message_names_status_code_and_field_with_numbers_masked():
    error = TelnyxAPIError(
        422, parse_error_body(UNPROCESSABLE), action="Telnyx rejected the fax", hint="Check the number.", retry_after=3
    )

    assert str(error).startswith("Telnyx rejected the fax (422, code 10016): 'to': ")
    assert str(error).endswith("is not a dialable number.. Check the number.")
    assert "13125550123" not in str(error)
    assert (error.status, error.codes, error.retry_after) == (422, ["10016"], 3)


def test_an_api_error_without_details_still_gives_the_status():
    error = TelnyxServerError(503)

    assert str(error) == "Telnyx rejected the request (503): HTTP 503"
    assert error.codes == []


def test_every_error_is_a_telnyx_fax_error_and_the_api_ones_share_a_base():
    for kind in (TelnyxAuthenticationError, TelnyxNotFoundError, TelnyxRateLimitError, TelnyxServerError):
        assert issubclass(kind, TelnyxAPIError)
    for kind in (TelnyxAPIError, TelnyxTransportError, TelnyxOutcomeUnknownError, TelnyxFaxValidationError):
        assert issubclass(kind, TelnyxFaxError)


def test_a_validation_error_is_a_value_error_naming_its_field():
    error = TelnyxFaxValidationError("quality", "'best' is not a quality")

    assert isinstance(error, ValueError)
    assert error.field == "quality"
    assert str(error) == "Invalid 'quality': 'best' is not a quality"


def test_an_unknown_outcome_carries_what_the_look_up_needs_and_masks_the_number():
    error = TelnyxOutcomeUnknownError(
        to="+13125550123", client_state="c3RhdGU=", sent_at="2026-01-05T10:00:00+00:00", reason="read timeout"
    )

    assert (error.to, error.client_state, error.sent_at, error.reason) == (
        "+13125550123",
        "c3RhdGU=",
        "2026-01-05T10:00:00+00:00",
        "read timeout",
    )
    assert "13125550123" not in str(error)
    assert "unknown (read timeout)" in str(error)
    assert "2026-01-05T10:00:00+00:00" in str(error)
