"""FaxSendRequest and FaxListQuery: API field names, the JSON and multipart forms, defaults, list paging."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
from airflow_provider_telnyx_fax.fax_request import FaxListQuery, FaxSendRequest, PreparedFaxSendRequest

TO = "+13125550123"
FROM = "+13125790015"
MEDIA_URL = "https://example.com/report.pdf"


def test_the_json_body_uses_the_api_names_and_leaves_out_unset_fields():
    request = FaxSendRequest(to=TO, media_url=MEDIA_URL, from_number=FROM, monochrome=False, black_threshold=None)

    assert request.json_body() == {"to": TO, "media_url": MEDIA_URL, "from": FROM, "monochrome": False}


def test_the_multipart_form_carries_text_values_beside_the_file():
    request = FaxSendRequest(to=TO, from_number=FROM, connection_id="123", quality="high", t38_enabled=True)

    assert request.multipart_form() == {
        "to": TO,
        "from": FROM,
        "connection_id": "123",
        "quality": "high",
        "t38_enabled": "true",
    }
    assert FaxSendRequest(to=TO, store_media=False).multipart_form() == {"to": TO, "store_media": "false"}


@pytest.mark.parametrize(
    "option",
    [{"webhook_url": "https://example.com/hook"}, {"client_state": "c3RhdGU="}, {"media_url": MEDIA_URL}],
)
def test_options_multipart_cannot_carry_are_refused_naming_them(option):
    with pytest.raises(TelnyxFaxValidationError) as raised:
        FaxSendRequest(to=TO, **option).multipart_form()

    assert raised.value.field == next(iter(option))
    assert "upload it with upload_media and send by media_name" in str(raised.value)


def test_connection_defaults_fill_only_what_the_request_leaves_out():
    bare = FaxSendRequest(to=TO, media_url=MEDIA_URL)
    own = FaxSendRequest(to=TO, media_url=MEDIA_URL, from_number="+13125550100", connection_id="own")

    filled = bare.with_defaults(from_number=FROM, connection_id=1293384261075731499)

    assert (filled.from_number, filled.connection_id) == (FROM, "1293384261075731499")
    assert own.with_defaults(from_number=FROM, connection_id="default") == own
    assert bare.with_defaults() == bare


def test_a_request_is_resolved_against_the_connection_once():
    extras = {"from_number": FROM, "connection_id": "1293384261075731499"}

    prepared = PreparedFaxSendRequest.resolved(FaxSendRequest(to=TO, media_url=MEDIA_URL), extras)

    assert isinstance(prepared, PreparedFaxSendRequest)
    assert (prepared.from_number, prepared.connection_id) == (FROM, "1293384261075731499")
    # A prepared request is final: other extras, or none, change nothing and check nothing again.
    assert PreparedFaxSendRequest.resolved(prepared, {}) is prepared
    with pytest.raises(TelnyxFaxValidationError) as raised:
        PreparedFaxSendRequest.resolved(FaxSendRequest(to=TO, media_url=MEDIA_URL, quality="superb"), extras)
    assert raised.value.field == "quality"


def test_a_request_for_a_multipart_send_is_checked_as_one_and_not_marked_prepared():
    extras = {"from_number": FROM, "connection_id": "app"}
    resolved = PreparedFaxSendRequest.resolved(FaxSendRequest(to=TO), extras, with_file=True)

    assert type(resolved) is FaxSendRequest
    assert resolved.from_number == FROM
    with pytest.raises(TelnyxFaxValidationError):
        PreparedFaxSendRequest.resolved(FaxSendRequest(to=TO, media_url=MEDIA_URL), extras, with_file=True)


def test_a_request_from_an_operators_attributes_treats_empty_renders_as_unset():
    operator = SimpleNamespace(to=TO, media_url="", media_name="report", quality=None, webhook_url="")

    request = FaxSendRequest.from_attributes(operator, client_state="c3RhdGU=")

    assert request == FaxSendRequest(to=TO, media_name="report", client_state="c3RhdGU=")
    assert "to" not in FaxSendRequest.option_names()
    assert {"from_number", "media_path"} & set(FaxSendRequest.option_names()) == {"from_number"}


def test_check_counts_an_uploaded_file_as_the_document():
    request = FaxSendRequest(to=TO, from_number=FROM, connection_id="123")

    request.check(with_file=True)
    with pytest.raises(TelnyxFaxValidationError, match="none was given"):
        request.check()
    with pytest.raises(TelnyxFaxValidationError) as raised:
        FaxSendRequest(to="3125550123", media_url=MEDIA_URL, from_number=FROM, connection_id="123").check()
    assert raised.value.field == "to"


def test_a_list_query_puts_filters_in_deep_object_form_and_pages():
    query = FaxListQuery.of(page_size=2, direction="inbound", to=TO, from_number=None, created_at_gte="2026-01-05")

    assert query.params(3) == {
        "filter[direction][eq]": "inbound",
        "filter[to][eq]": TO,
        "filter[created_at][gte]": "2026-01-05",
        "page[number]": 3,
        "page[size]": 2,
    }


def test_an_unknown_list_filter_is_refused():
    with pytest.raises(TelnyxFaxValidationError) as raised:
        FaxListQuery.of(status="delivered")

    assert raised.value.field == "status"


@pytest.mark.parametrize(
    ("body", "page", "following"),
    [
        ({"data": [{}], "meta": {"total_pages": 3}}, 1, 2),
        ({"data": [{}], "meta": {"total_pages": "3"}}, 2, 3),
        ({"data": [{}], "meta": {"total_pages": 3}}, 3, None),
        ({"data": [], "meta": {"total_pages": 3}}, 1, None),
        ({"data": [{}]}, 1, None),
        ({"data": [{}], "meta": None}, 1, None),
    ],
)
def test_the_walk_goes_on_until_the_last_page_or_an_empty_one(body, page, following):
    assert FaxListQuery.of().next_page(body, page) == following


def test_a_request_by_keyword_by_position_or_whole_is_the_same_request():
    whole = FaxSendRequest(to=TO, media_url=MEDIA_URL, quality="high")

    assert FaxSendRequest.of(to=TO, media_url=MEDIA_URL, quality="high") == whole
    assert FaxSendRequest.of(TO, media_url=MEDIA_URL, quality="high") == whole
    assert FaxSendRequest.of(whole) is whole


@pytest.mark.parametrize(
    ("field", "given", "fields"),
    [
        pytest.param("to", None, {"media_url": MEDIA_URL}, id="no-destination"),
        pytest.param("to", TO, {"to": TO, "media_url": MEDIA_URL}, id="destination-twice"),
        pytest.param("from", None, {"to": TO, "from": FROM}, id="api-name-instead-of-from_number"),
        pytest.param("quality", FaxSendRequest(to=TO, media_url=MEDIA_URL), {"quality": "high"}, id="beside-a-request"),
    ],
)
def test_a_request_that_cannot_be_built_is_refused_naming_the_field(field, given, fields):
    with pytest.raises(TelnyxFaxValidationError) as raised:
        FaxSendRequest.of(given, **fields)

    assert raised.value.field == field
