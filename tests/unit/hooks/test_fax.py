"""TelnyxFaxHook against a scripted Telnyx stand-in: requests on the wire, retries, errors, secrets."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
import requests

from airflow_provider_telnyx_fax import __version__
from airflow_provider_telnyx_fax.exceptions import (
    TelnyxAPIError,
    TelnyxAuthenticationError,
    TelnyxFaxValidationError,
    TelnyxNotFoundError,
    TelnyxOutcomeUnknownError,
    TelnyxServerError,
    TelnyxTransportError,
)
from airflow_provider_telnyx_fax.fax_request import FaxSendRequest, PreparedFaxSendRequest
from airflow_provider_telnyx_fax.hooks import transport as transport_module
from airflow_provider_telnyx_fax.hooks.fax import MAX_UPLOAD_BYTES, TelnyxFaxHook
from tests.support.api import CONNECTION_ID, FAX_ID, FROM_NUMBER, SECRET_KEY, connection_uri, fax_record, telnyx_error
from tests.support.ports import free_port

if TYPE_CHECKING:
    from tests.support.scripted_server import ScriptedServer

FAX_PATH = f"/v2/faxes/{FAX_ID}"
TO = "+13127367276"
CLIENT_STATE = "aGF2ZSBhIG5pY2UgZGF5ID1d"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def hook(scripted_server: ScriptedServer, fast_hook_kwargs: dict[str, Any]) -> TelnyxFaxHook:
    return TelnyxFaxHook(**fast_hook_kwargs)


def fax_page(ids: list[str], *, page_number: int, total_pages: int) -> dict[str, Any]:
    return {
        "data": [fax_record(id=fax_id) for fax_id in ids],
        "meta": {
            "page_number": page_number,
            "page_size": len(ids),
            "total_pages": total_pages,
            "total_results": total_pages * len(ids),
        },
    }


# -- requests each method builds ----------------------------------------------------------------


class TestSendFax:
    def test_every_json_field_is_sent_as_given(self, hook, scripted_server):
        scripted_server.queue("POST", "/v2/faxes", 202, {"data": fax_record()})

        hook.send_fax(
            TO,
            media_url="https://example.com/report.pdf",
            from_number="+13125550123",
            connection_id="999",
            quality="very_high",
            t38_enabled=False,
            monochrome=True,
            black_threshold=80,
            store_media=True,
            store_preview=True,
            preview_format="pdf",
            from_display_name="Acme Billing",
            webhook_url="https://example.com/hooks",
            client_state=CLIENT_STATE,
        )

        (request,) = scripted_server.requests
        assert request.method == "POST"
        assert request.path == "/v2/faxes"
        assert request.content_type.startswith("application/json")
        assert request.json() == {
            "to": TO,
            "from": "+13125550123",
            "connection_id": "999",
            "media_url": "https://example.com/report.pdf",
            "quality": "very_high",
            "t38_enabled": False,
            "monochrome": True,
            "black_threshold": 80,
            "store_media": True,
            "store_preview": True,
            "preview_format": "pdf",
            "from_display_name": "Acme Billing",
            "webhook_url": "https://example.com/hooks",
            "client_state": CLIENT_STATE,
        }

    def test_from_and_connection_id_default_to_connection_extras_and_unset_fields_are_omitted(
        self, hook, scripted_server
    ):
        scripted_server.queue("POST", "/v2/faxes", 202, {"data": fax_record()})

        hook.send_fax(TO, media_name="report-2024-05-01")

        assert scripted_server.requests[0].json() == {
            "to": TO,
            "from": FROM_NUMBER,
            "connection_id": CONNECTION_ID,
            "media_name": "report-2024-05-01",
        }

    def test_returns_the_accepted_fax_record(self, hook, scripted_server):
        accepted = fax_record(status="queued", to=TO)
        scripted_server.queue("POST", "/v2/faxes", 202, {"data": accepted})

        assert hook.send_fax(TO, media_url="https://example.com/a.pdf") == accepted

    def test_sip_uri_destination_is_accepted(self, hook, scripted_server):
        scripted_server.queue("POST", "/v2/faxes", 202, {"data": fax_record()})

        hook.send_fax("sip:fax@example.com", media_url="https://example.com/a.pdf")

        assert scripted_server.requests[0].json()["to"] == "sip:fax@example.com"

    def test_contents_go_as_multipart_with_the_file_and_form_fields(self, hook, scripted_server):
        scripted_server.queue("POST", "/v2/faxes", 202, {"data": fax_record()})

        hook.send_fax(
            TO,
            contents=PDF,
            filename="invoice.pdf",
            quality="normal",
            t38_enabled=False,
            monochrome=True,
            store_media=True,
            store_preview=False,
        )

        (request,) = scripted_server.requests
        assert request.content_type.startswith("multipart/form-data")
        parts = request.multipart()
        assert parts["contents"] == ("invoice.pdf", PDF)
        assert request.form_fields() == {
            "to": TO,
            "from": FROM_NUMBER,
            "connection_id": CONNECTION_ID,
            "quality": "normal",
            "t38_enabled": "false",
            "monochrome": "true",
            "store_media": "true",
            "store_preview": "false",
        }

    def test_contents_refuse_fields_telnyx_does_not_take_in_multipart(self, hook, scripted_server):
        with pytest.raises(TelnyxFaxValidationError) as raised:
            hook.send_fax(TO, contents=PDF, webhook_url="https://example.com/hooks")

        assert raised.value.field == "webhook_url"
        assert scripted_server.requests == []

    def test_contents_over_20_mb_fail_before_any_request(self, hook, scripted_server):
        with pytest.raises(TelnyxFaxValidationError) as raised:
            hook.send_fax(TO, contents=b"x" * (MAX_UPLOAD_BYTES + 1))

        assert raised.value.field == "contents"
        assert "20 MB" in str(raised.value)
        assert scripted_server.requests == []


class TestReadsAndActions:
    def test_get_fax(self, hook, scripted_server):
        record = fax_record(status="delivered")
        scripted_server.queue("GET", FAX_PATH, json={"data": record})

        assert hook.get_fax(FAX_ID) == record
        (request,) = scripted_server.requests
        assert (request.method, request.path, request.body) == ("GET", FAX_PATH, b"")

    def test_cancel_fax_posts_the_cancel_action(self, hook, scripted_server):
        scripted_server.queue("POST", f"{FAX_PATH}/actions/cancel", 202, {"data": {"result": "ok"}})

        assert hook.cancel_fax(FAX_ID) == {"result": "ok"}
        assert [r.method for r in scripted_server.requests_to("POST", f"{FAX_PATH}/actions/cancel")] == ["POST"]

    def test_refresh_fax_posts_the_refresh_action(self, hook, scripted_server):
        scripted_server.queue("POST", f"{FAX_PATH}/actions/refresh", 200, {"data": {"result": "ok"}})

        assert hook.refresh_fax(FAX_ID) == {"result": "ok"}
        assert len(scripted_server.requests_to("POST", f"{FAX_PATH}/actions/refresh")) == 1

    def test_delete_fax_accepts_an_empty_204(self, hook, scripted_server):
        scripted_server.queue("DELETE", FAX_PATH, 204)

        assert hook.delete_fax(FAX_ID) is None
        assert len(scripted_server.requests_to("DELETE", FAX_PATH)) == 1


class TestListFaxes:
    def test_each_filter_is_sent_in_deep_object_form(self, hook, scripted_server):
        scripted_server.queue("GET", "/v2/faxes", json=fax_page([FAX_ID], page_number=1, total_pages=1))

        list(
            hook.list_faxes(
                direction="outbound",
                to=TO,
                from_number=FROM_NUMBER,
                created_at_gte="2024-05-01T00:00:00Z",
                created_at_gt="2024-05-01T00:00:01Z",
                created_at_lte="2024-05-02T00:00:00Z",
                created_at_lt="2024-05-02T00:00:01Z",
                page_size=25,
            )
        )

        assert scripted_server.requests[0].query == {
            "filter[direction][eq]": ["outbound"],
            "filter[to][eq]": [TO],
            "filter[from][eq]": [FROM_NUMBER],
            "filter[created_at][gte]": ["2024-05-01T00:00:00Z"],
            "filter[created_at][gt]": ["2024-05-01T00:00:01Z"],
            "filter[created_at][lte]": ["2024-05-02T00:00:00Z"],
            "filter[created_at][lt]": ["2024-05-02T00:00:01Z"],
            "page[number]": ["1"],
            "page[size]": ["25"],
        }

    def test_pages_are_fetched_lazily_and_walking_stops_at_total_pages(self, hook, scripted_server):
        for number, ids in enumerate([["a1", "a2"], ["b1", "b2"], ["c1"]], start=1):
            scripted_server.queue("GET", "/v2/faxes", json=fax_page(ids, page_number=number, total_pages=3))

        faxes = hook.list_faxes(page_size=2)
        first_page = [next(faxes)["id"], next(faxes)["id"]]
        # The caller has not asked past page 1 yet: page 2 must not have been fetched.
        assert len(scripted_server.requests) == 1
        rest = [fax["id"] for fax in faxes]

        assert first_page + rest == ["a1", "a2", "b1", "b2", "c1"]
        assert [r.query["page[number]"] for r in scripted_server.requests] == [["1"], ["2"], ["3"]]

    def test_an_empty_page_ends_the_walk(self, hook, scripted_server):
        scripted_server.queue("GET", "/v2/faxes", json={"data": [], "meta": {"total_pages": 0}})

        assert list(hook.list_faxes()) == []
        assert len(scripted_server.requests) == 1


# -- headers, session, base URL -------------------------------------------------------------------


class TestConnectionAndHeaders:
    def test_bearer_key_and_user_agent_are_sent_and_extras_are_not(self, scripted_server, monkeypatch):
        monkeypatch.setenv(
            "AIRFLOW_CONN_TELNYX_FAX_DEFAULT", connection_uri(scripted_server.base_url, **{"X-Evil": "1"})
        )
        scripted_server.queue("GET", FAX_PATH, json={"data": fax_record()})
        scripted_server.queue("POST", "/v2/faxes", 202, {"data": fax_record()})
        hook = TelnyxFaxHook()

        hook.get_fax(FAX_ID)
        hook.send_fax(TO, media_url="https://example.com/a.pdf")

        for request in scripted_server.requests:
            assert request.header("authorization") == f"Bearer {SECRET_KEY}"
            assert request.header("user-agent") == f"airflow-provider-telnyx-fax/{__version__}"
            assert "x-evil" not in request.headers
            assert "connection_id" not in request.headers
            assert "from_number" not in request.headers
            assert CONNECTION_ID not in request.headers.values()

    def test_one_pooled_session_and_one_tcp_connection_for_sequential_calls(self, hook, scripted_server):
        scripted_server.queue("GET", FAX_PATH, json={"data": fax_record()}, times=4)

        session = hook.get_conn()
        for _ in range(4):
            hook.get_fax(FAX_ID)

        assert hook.get_conn() is session
        assert len(scripted_server.requests) == 4
        assert len(scripted_server.client_ports) == 1

    def test_empty_host_means_the_public_telnyx_api(self, monkeypatch):
        monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", connection_uri(None))
        hook = TelnyxFaxHook()

        hook.get_conn()

        assert hook.base_url == "https://api.telnyx.com/v2"

    def test_a_trailing_slash_on_the_host_does_not_double_up(self, scripted_server, monkeypatch):
        monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", connection_uri(scripted_server.base_url + "/"))
        scripted_server.queue("GET", FAX_PATH, json={"data": fax_record()})

        TelnyxFaxHook().get_fax(FAX_ID)

        assert scripted_server.requests[0].path == FAX_PATH

    def test_a_named_connection_is_used(self, scripted_server, monkeypatch):
        monkeypatch.setenv(
            "AIRFLOW_CONN_TELNYX_FAX_BILLING",
            connection_uri(scripted_server.base_url, password="KEYbilling", from_number="+442071234567"),
        )
        scripted_server.queue("POST", "/v2/faxes", 202, {"data": fax_record()})

        TelnyxFaxHook(telnyx_conn_id="telnyx_fax_billing").send_fax(TO, media_url="https://e.com/a.pdf")

        request = scripted_server.requests[0]
        assert request.header("authorization") == "Bearer KEYbilling"
        assert request.json()["from"] == "+442071234567"


# -- validation before any request ---------------------------------------------------------------

MEDIA = {"media_url": "https://example.com/a.pdf"}


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        pytest.param("to", {"to": "3125550123", **MEDIA}, id="to-not-e164-nor-sip"),
        pytest.param("to", {"to": "fax@example.com", **MEDIA}, id="to-sip-without-scheme"),
        pytest.param("from", {"from_number": "13125550123", **MEDIA}, id="from-without-plus"),
        pytest.param("media_url", {}, id="no-media"),
        pytest.param("media_url", {"media_url": "https://e.com/a.pdf", "media_name": "doc"}, id="two-media-sources"),
        pytest.param("media_url", {"media_url": "https://e.com/a.pdf", "contents": PDF}, id="url-and-file"),
        pytest.param("client_state", {"client_state": "not base64!", **MEDIA}, id="client-state"),
        pytest.param("quality", {"quality": "superb", **MEDIA}, id="quality"),
        pytest.param("preview_format", {"preview_format": "png", **MEDIA}, id="preview-format"),
        pytest.param("from_display_name", {"from_display_name": "Acme <Billing>", **MEDIA}, id="name-char"),
        pytest.param("from_display_name", {"from_display_name": "A" * 129, **MEDIA}, id="name-too-long"),
        pytest.param("black_threshold", {"black_threshold": 0, "monochrome": True, **MEDIA}, id="bt-0"),
        pytest.param("black_threshold", {"black_threshold": 101, "monochrome": True, **MEDIA}, id="bt-101"),
        pytest.param("black_threshold", {"black_threshold": 50, **MEDIA}, id="bt-without-monochrome"),
        pytest.param("store_media", {"store_media": True, "media_name": "doc"}, id="store-media-by-name"),
    ],
)
def test_bad_send_input_fails_before_any_request_naming_the_field(hook, scripted_server, field, kwargs):
    to = kwargs.pop("to", TO)

    with pytest.raises(TelnyxFaxValidationError) as raised:
        hook.send_fax(to, **kwargs)

    assert raised.value.field == field
    assert f"'{field}'" in str(raised.value)
    assert scripted_server.requests == []


def test_missing_connection_id_fails_before_any_request(scripted_server, monkeypatch):
    connection = json.loads(connection_uri(scripted_server.base_url))
    del connection["extra"]["connection_id"]
    monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", json.dumps(connection))

    with pytest.raises(TelnyxFaxValidationError) as raised:
        TelnyxFaxHook().send_fax(TO, **MEDIA)

    assert raised.value.field == "connection_id"
    assert "connection_id" in str(raised.value)
    assert scripted_server.requests == []


def test_boundary_values_are_accepted(hook, scripted_server):
    scripted_server.queue("POST", "/v2/faxes", 202, {"data": fax_record()}, times=2)

    hook.send_fax(TO, black_threshold=1, monochrome=True, from_display_name="A" * 128, **MEDIA)
    hook.send_fax(TO, black_threshold=100, monochrome=True, from_display_name="-_~!.+ ok", **MEDIA)

    assert len(scripted_server.requests) == 2


# -- sending by keyword, and no way around the send rule (against the emulator) ------------------

DELIVERS = "+15550100000"
REPORT_URL = "https://example.com/report.pdf"


def api_requests(emulator: Any) -> int:
    """Every request the emulator logged: its own control API (reset, these counts) stays out of the log."""
    return sum(emulator.requests(limit=0)["counts"].values())


def send_by(how: str, **fields: Any) -> dict[str, Any]:
    hook = TelnyxFaxHook()
    if how == "asend_fax":
        return asyncio.run(hook.asend_fax(**fields))
    return hook.send_fax(**fields)


@pytest.mark.parametrize("how", ["send_fax", "asend_fax"])
def test_to_and_the_options_by_keyword_send_one_fax(telnyx_fax_emulator, how):
    fax = send_by(how, to=DELIVERS, media_url=REPORT_URL, quality="normal", client_state=CLIENT_STATE)

    assert telnyx_fax_emulator.request_count("POST", "/v2/faxes") == 1
    [sent] = telnyx_fax_emulator.faxes()
    assert sent["id"] == fax["id"]
    assert (sent["to"], sent["quality"], sent["client_state"]) == (DELIVERS, "normal", CLIENT_STATE)


def test_a_whole_request_is_still_taken(telnyx_fax_emulator):
    TelnyxFaxHook().send_fax(FaxSendRequest(to=DELIVERS, media_url=REPORT_URL))

    assert telnyx_fax_emulator.request_count("POST", "/v2/faxes") == 1


@pytest.mark.parametrize("how", ["send_fax", "asend_fax"])
@pytest.mark.parametrize(
    ("field", "fields"),
    [
        pytest.param("to", {"to": "3125550123", "media_url": REPORT_URL}, id="to-not-e164"),
        pytest.param("to", {"media_url": REPORT_URL}, id="to-missing"),
        pytest.param("quality", {"to": DELIVERS, "media_url": REPORT_URL, "quality": "superb"}, id="quality"),
        pytest.param("client_state", {"to": DELIVERS, "media_url": REPORT_URL, "client_state": "hi!"}, id="state"),
        pytest.param("media_url", {"to": DELIVERS}, id="no-media"),
        pytest.param("media_url", {"to": DELIVERS, "media_url": "/srv/reports/report.pdf"}, id="url-is-a-path"),
        pytest.param("media_url", {"to": DELIVERS, "media_url": Path("report.pdf")}, id="url-is-a-path-object"),
        pytest.param("media_name", {"to": DELIVERS, "media_name": Path("report")}, id="name-is-a-path-object"),
        pytest.param("qualty", {"to": DELIVERS, "media_url": REPORT_URL, "qualty": "high"}, id="misspelt-option"),
    ],
)
def test_a_bad_field_by_keyword_is_named_before_any_request(telnyx_fax_emulator, how, field, fields):
    with pytest.raises(TelnyxFaxValidationError) as raised:
        send_by(how, **fields)

    assert raised.value.field == field
    assert f"'{field}'" in str(raised.value)
    assert api_requests(telnyx_fax_emulator) == 0


@pytest.mark.parametrize("how", ["send_fax", "asend_fax"])
def test_a_prepared_request_is_sent_without_resolving_the_connection_again(telnyx_fax_emulator, monkeypatch, how):
    hook = TelnyxFaxHook()
    prepared = hook.prepare_send(FaxSendRequest(to=DELIVERS, media_url=REPORT_URL))
    resolutions: list[FaxSendRequest] = []
    resolve = PreparedFaxSendRequest.resolved

    def counted(cls: type, request: FaxSendRequest, *args: Any, **kwargs: Any) -> FaxSendRequest:
        resolutions.append(request)
        return resolve(request, *args, **kwargs)

    monkeypatch.setattr(PreparedFaxSendRequest, "resolved", classmethod(counted))

    fax = asyncio.run(hook.asend_fax(prepared)) if how == "asend_fax" else hook.send_fax(prepared)

    assert resolutions == []
    assert (fax["from"], fax["connection_id"]) == (prepared.from_number, prepared.connection_id)


def test_run_and_check_refuses_a_prepared_send(telnyx_fax_emulator):
    hook = TelnyxFaxHook()
    session = hook.get_conn()
    send = requests.Request("POST", f"{hook.base_url}/faxes", json={"to": DELIVERS, "media_url": REPORT_URL})

    with pytest.raises(TelnyxFaxValidationError) as raised:
        hook.run_and_check(session, session.prepare_request(send), {})

    assert raised.value.field == "prepped_request"
    assert api_requests(telnyx_fax_emulator) == 0


# -- retries -------------------------------------------------------------------------------------


class TestRetries:
    @pytest.mark.parametrize(
        "headers", [{"x-ratelimit-reset": "1"}, {"Retry-After": "1"}], ids=["x-ratelimit-reset", "retry-after"]
    )
    def test_429_waits_as_long_as_telnyx_asks_then_succeeds(self, hook, scripted_server, headers):
        scripted_server.queue(
            "GET", FAX_PATH, 429, telnyx_error("10011", "Too many requests", "slow down"), headers=headers
        )
        scripted_server.queue("GET", FAX_PATH, json={"data": fax_record()})

        assert hook.get_fax(FAX_ID)["id"] == FAX_ID

        first, second = scripted_server.requests
        # The hook's own backoff here is ~0.01 s, so a ~1 s gap can only come from the header.
        assert second.received_at - first.received_at >= 0.95

    def test_503_burst_on_a_read_is_retried(self, hook, scripted_server):
        scripted_server.queue("GET", FAX_PATH, 503, times=3)
        scripted_server.queue("GET", FAX_PATH, json={"data": fax_record()})

        assert hook.get_fax(FAX_ID)["id"] == FAX_ID
        assert len(scripted_server.requests) == 4

    def test_retries_are_bounded_and_end_in_a_server_error(self, hook, scripted_server):
        scripted_server.queue("GET", FAX_PATH, 503, times=10)

        with pytest.raises(TelnyxServerError) as raised:
            hook.get_fax(FAX_ID)

        assert raised.value.status == 503
        assert len(scripted_server.requests) == hook.max_retries + 1

    def test_503_on_send_is_outcome_unknown_after_exactly_one_request(self, hook, scripted_server):
        scripted_server.queue("POST", "/v2/faxes", 503, times=3)

        with pytest.raises(TelnyxOutcomeUnknownError) as raised:
            hook.send_fax(TO, client_state=CLIENT_STATE, **MEDIA)

        assert len(scripted_server.requests) == 1
        assert raised.value.to == TO
        assert raised.value.client_state == CLIENT_STATE
        assert raised.value.sent_at
        assert "503" in str(raised.value)

    def test_read_timeout_on_send_is_outcome_unknown_after_exactly_one_request(self, scripted_server, fast_hook_kwargs):
        hook = TelnyxFaxHook(**{**fast_hook_kwargs, "read_timeout": 0.5})
        scripted_server.queue("POST", "/v2/faxes", 202, {"data": fax_record()}, delay=3, times=3)

        with pytest.raises(TelnyxOutcomeUnknownError) as raised:
            hook.send_fax(TO, client_state=CLIENT_STATE, **MEDIA)

        assert len(scripted_server.requests) == 1
        assert raised.value.client_state == CLIENT_STATE
        assert "ReadTimeout" in str(raised.value)

    def test_dropped_connection_on_send_is_outcome_unknown_after_exactly_one_request(self, hook, scripted_server):
        scripted_server.queue("POST", "/v2/faxes", drop=True, times=3)

        with pytest.raises(TelnyxOutcomeUnknownError) as raised:
            hook.send_fax(TO, **MEDIA)

        assert len(scripted_server.requests) == 1
        assert raised.value.to == TO
        assert raised.value.client_state is None

    def test_429_on_send_is_retried_because_telnyx_did_not_process_it(self, hook, scripted_server):
        scripted_server.queue("POST", "/v2/faxes", 429, telnyx_error("10011", "Too many requests", "wait"))
        scripted_server.queue("POST", "/v2/faxes", 202, {"data": fax_record(id="new-fax")})

        assert hook.send_fax(TO, **MEDIA)["id"] == "new-fax"
        assert len(scripted_server.requests) == 2

    def test_connection_refused_on_send_is_retried_then_a_transport_error(self, monkeypatch, fast_hook_kwargs):
        monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", connection_uri(f"http://127.0.0.1:{free_port()}/v2"))
        hook = TelnyxFaxHook(**fast_hook_kwargs)
        session = hook.get_conn()
        attempts: list[str] = []
        real_request = session.request

        def counting_request(method, url, **kwargs):
            attempts.append(method)
            return real_request(method, url, **kwargs)

        monkeypatch.setattr(session, "request", counting_request)

        with pytest.raises(TelnyxTransportError) as raised:
            hook.send_fax(TO, **MEDIA)

        # Nothing was listening, so the fax cannot have been sent: resending is safe.
        assert attempts == ["POST"] * (hook.max_retries + 1)
        assert "127.0.0.1" in str(raised.value)


# -- errors a person can act on ------------------------------------------------------------------


class TestErrors:
    def test_422_names_the_code_and_the_field(self, hook, scripted_server):
        body = telnyx_error("10016", "Invalid phone number", "Not a dialable number.", pointer="/to")
        scripted_server.queue("POST", "/v2/faxes", 422, body)

        with pytest.raises(TelnyxAPIError) as raised:
            hook.send_fax(TO, **MEDIA)

        error = raised.value
        assert str(error).startswith("Telnyx rejected the fax (422, code 10016): 'to': Not a dialable number.")
        assert error.status == 422
        assert error.codes == ["10016"]
        assert error.errors[0].pointer == "/to"
        assert error.errors[0].title == "Invalid phone number"
        assert len(scripted_server.requests) == 1

    @pytest.mark.parametrize("status", [401, 403])
    def test_auth_errors_name_the_connection_and_the_api_key(self, hook, scripted_server, status):
        scripted_server.queue(
            "GET", FAX_PATH, status, telnyx_error("10009", "Authentication failed", "Bad credentials.")
        )

        with pytest.raises(TelnyxAuthenticationError) as raised:
            hook.get_fax(FAX_ID)

        assert "telnyx_fax_default" in str(raised.value)
        assert "API key" in str(raised.value)
        assert len(scripted_server.requests) == 1  # a wrong key does not get better by retrying

    def test_404_names_the_fax_id(self, hook, scripted_server):
        scripted_server.queue("GET", FAX_PATH, 404, telnyx_error("404", "Not Found", "does not exist"))

        with pytest.raises(TelnyxNotFoundError) as raised:
            hook.get_fax(FAX_ID)

        assert FAX_ID in str(raised.value)
        assert raised.value.status == 404

    def test_a_non_json_error_body_still_gives_the_status(self, hook, scripted_server):
        scripted_server.queue(
            "DELETE", FAX_PATH, 400, body=b"<html>Bad Request</html>", headers={"Content-Type": "text/html"}
        )

        with pytest.raises(TelnyxAPIError) as raised:
            hook.delete_fax(FAX_ID)

        assert raised.value.status == 400
        assert "400" in str(raised.value)


# -- async -----------------------------------------------------------------------------------------


@pytest.fixture
def no_requests_library(monkeypatch):
    """The async path must never block the loop on ``requests``."""

    def refuse(*args, **kwargs):
        raise AssertionError("the async path called requests")

    monkeypatch.setattr(requests.Session, "request", refuse)


@pytest.mark.usefixtures("no_requests_library")
class TestAsync:
    async def test_aget_fax_uses_the_environment_connection(self, scripted_server, fast_hook_kwargs):
        record = fax_record(status="sending")
        scripted_server.queue("GET", FAX_PATH, json={"data": record})

        assert await TelnyxFaxHook(**fast_hook_kwargs).aget_fax(FAX_ID) == record

        request = scripted_server.requests[0]
        assert request.header("authorization") == f"Bearer {SECRET_KEY}"
        assert request.header("user-agent") == f"airflow-provider-telnyx-fax/{__version__}"
        assert "connection_id" not in request.headers

    async def test_alist_faxes_walks_pages_with_filters(self, scripted_server, fast_hook_kwargs):
        scripted_server.queue("GET", "/v2/faxes", json=fax_page(["a1", "a2"], page_number=1, total_pages=2))
        scripted_server.queue("GET", "/v2/faxes", json=fax_page(["b1"], page_number=2, total_pages=2))
        hook = TelnyxFaxHook(**fast_hook_kwargs)

        ids = [fax["id"] async for fax in hook.alist_faxes(direction="outbound", to=TO, page_size=2)]

        assert ids == ["a1", "a2", "b1"]
        queries = [request.query for request in scripted_server.requests]
        assert [q["page[number]"] for q in queries] == [["1"], ["2"]]
        assert all(q["filter[direction][eq]"] == ["outbound"] for q in queries)
        assert all(q["filter[to][eq]"] == [TO] for q in queries)
        assert all(q["page[size]"] == ["2"] for q in queries)

    async def test_503_burst_is_retried(self, scripted_server, fast_hook_kwargs):
        scripted_server.queue("GET", FAX_PATH, 503, times=3)
        scripted_server.queue("GET", FAX_PATH, json={"data": fax_record()})

        assert (await TelnyxFaxHook(**fast_hook_kwargs).aget_fax(FAX_ID))["id"] == FAX_ID
        assert len(scripted_server.requests) == 4

    async def test_404_is_not_found(self, scripted_server, fast_hook_kwargs):
        scripted_server.queue("GET", FAX_PATH, 404, telnyx_error("404", "Not Found", "does not exist"))

        with pytest.raises(TelnyxNotFoundError) as raised:
            await TelnyxFaxHook(**fast_hook_kwargs).aget_fax(FAX_ID)

        assert FAX_ID in str(raised.value)
        assert len(scripted_server.requests) == 1

    async def test_concurrent_calls_from_many_hooks_share_one_client_session(
        self, scripted_server, fast_hook_kwargs, monkeypatch
    ):
        hooks = [TelnyxFaxHook(**fast_hook_kwargs) for _ in range(3)]
        calls_per_hook = 5
        # A delay keeps every call in flight at once, so sharing (not reuse after close) is tested.
        scripted_server.queue(
            "GET", FAX_PATH, json={"data": fax_record()}, delay=0.3, times=len(hooks) * calls_per_hook
        )
        created: list[aiohttp.ClientSession] = []
        real_init = aiohttp.ClientSession.__init__

        def counting_init(self, *args, **kwargs):
            created.append(self)
            real_init(self, *args, **kwargs)

        monkeypatch.setattr(aiohttp.ClientSession, "__init__", counting_init)
        observed_users: list[int] = []
        loop = asyncio.get_running_loop()

        async def watch_shared_sessions():
            while True:
                entry = transport_module._shared_sessions.get(loop)
                if entry is not None:
                    assert entry[0] is created[0]
                    observed_users.append(entry[1])
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch_shared_sessions())
        try:
            results = await asyncio.gather(*(hook.aget_fax(FAX_ID) for hook in hooks for _ in range(calls_per_hook)))
        finally:
            watcher.cancel()

        assert len(results) == len(hooks) * calls_per_hook
        assert len(created) == 1
        assert max(observed_users) > 1
        # Released by the last user: closed, and no longer handed out.
        assert created[0].closed
        assert loop not in transport_module._shared_sessions


# -- test_connection (the UI's Test button) ------------------------------------------------------


APPLICATION_PATH = f"/v2/fax_applications/{CONNECTION_ID}"


def fax_application(channel_limit: int | None) -> dict:
    return {
        "data": {
            "id": CONNECTION_ID,
            "record_type": "fax_application",
            "application_name": "pharmacy-faxes",
            "outbound": {"channel_limit": channel_limit, "outbound_voice_profile_id": "42"},
        }
    }


class TestTestConnection:
    def test_success_reads_the_fax_application_and_reports_its_channels(self, hook, scripted_server):
        scripted_server.queue("GET", APPLICATION_PATH, json=fax_application(4))

        ok, message = hook.test_connection()

        assert ok is True
        assert scripted_server.base_url in message
        assert "Fax Application 'pharmacy-faxes', outbound channel limit 4" in message
        (request,) = scripted_server.requests
        assert (request.method, request.path) == ("GET", APPLICATION_PATH)

    def test_an_application_without_a_limit_names_the_accounts(self, hook, scripted_server):
        scripted_server.queue("GET", APPLICATION_PATH, json=fax_application(None))

        ok, message = hook.test_connection()

        assert ok is True
        assert "no outbound channel limit of its own" in message
        assert "10 once verified" in message

    def test_a_wrong_application_id_fails_and_names_the_extra(self, hook, scripted_server):
        scripted_server.queue("GET", APPLICATION_PATH, 404, telnyx_error("10005", "Resource not found", "Not found."))

        ok, message = hook.test_connection()

        assert ok is False
        assert f"no Fax Application '{CONNECTION_ID}'" in message
        assert "connection_id extra" in message
        assert all(request.method == "GET" for request in scripted_server.requests)

    def test_without_an_application_id_only_the_key_is_checked(self, scripted_server, monkeypatch, fast_hook_kwargs):
        monkeypatch.setenv("AIRFLOW_CONN_NO_APP", connection_uri(scripted_server.base_url, connection_id=None))
        scripted_server.queue("GET", "/v2/faxes", json=fax_page([FAX_ID], page_number=1, total_pages=9))

        ok, message = TelnyxFaxHook("no_app", **fast_hook_kwargs).test_connection()

        assert ok is True
        assert "Set the connection_id extra" in message
        (request,) = scripted_server.requests
        assert (request.method, request.path, request.query["page[size]"]) == ("GET", "/v2/faxes", ["1"])

    def test_bad_key_names_the_connection(self, hook, scripted_server):
        scripted_server.queue(
            "GET", APPLICATION_PATH, 401, telnyx_error("10009", "Authentication failed", "Bad credentials.")
        )

        ok, message = hook.test_connection()

        assert ok is False
        assert "telnyx_fax_default" in message
        assert "API key" in message
        assert all(request.method == "GET" for request in scripted_server.requests)

    def test_unknown_host(self, monkeypatch, fast_hook_kwargs):
        monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", connection_uri("https://no-such-host.invalid/v2"))

        ok, message = TelnyxFaxHook(**{**fast_hook_kwargs, "max_retries": 1}).test_connection()

        assert ok is False
        assert "no-such-host.invalid" in message
        assert "base URL" in message

    def test_timeout(self, scripted_server, fast_hook_kwargs):
        scripted_server.queue("GET", APPLICATION_PATH, json=fax_application(2), delay=3, times=2)
        hook = TelnyxFaxHook(**{**fast_hook_kwargs, "read_timeout": 0.3, "max_retries": 1})

        ok, message = hook.test_connection()

        assert ok is False
        assert "Timeout" in message
        assert all(request.method == "GET" for request in scripted_server.requests)


# -- secrets ---------------------------------------------------------------------------------------


def exception_chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def test_the_api_key_leaks_into_no_log_error_or_repr(scripted_server, fast_hook_kwargs, monkeypatch, caplog, capsys):
    # Airflow's hook loggers go through structlog to stdout; libraries (urllib3) to logging.
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_REFUSED", connection_uri(f"http://127.0.0.1:{free_port()}/v2"))
    hook = TelnyxFaxHook(**fast_hook_kwargs)
    errors: list[BaseException] = []

    scripted_server.queue("GET", FAX_PATH, 503)  # a retry, logged as a warning
    scripted_server.queue("GET", FAX_PATH, json={"data": fax_record()})
    hook.get_fax(FAX_ID)
    scripted_server.queue("GET", f"{FAX_PATH}-2", 401, telnyx_error("10009", "Auth failed", "Bad key."))
    scripted_server.queue(
        "POST", "/v2/faxes", 422, telnyx_error("10016", "Invalid phone number", "Bad.", pointer="/to")
    )
    scripted_server.queue("POST", "/v2/faxes", 503)
    attempts = [
        lambda: hook.get_fax(f"{FAX_ID}-2"),
        lambda: hook.send_fax(TO, **MEDIA),
        lambda: hook.send_fax(TO, **MEDIA),
        lambda: TelnyxFaxHook("telnyx_fax_refused", **fast_hook_kwargs).get_fax(FAX_ID),
    ]
    for attempt in attempts:
        with pytest.raises(Exception) as raised:  # noqa: PT011 - each attempt raises a different type
            attempt()
        errors.append(raised.value)
    ok, reason = hook.test_connection()  # unqueued: a 500 burst, then a failure reason

    assert [type(error) for error in errors] == [
        TelnyxAuthenticationError,
        TelnyxAPIError,
        TelnyxOutcomeUnknownError,
        TelnyxTransportError,
    ]
    captured = capsys.readouterr()
    log_text = caplog.text + captured.out + captured.err
    assert "retrying" in log_text  # the capture works, so its silence below means something
    assert "HTTP connection" in caplog.text  # urllib3's DEBUG lines are in, too
    assert SECRET_KEY not in log_text
    for record in caplog.records:
        assert SECRET_KEY not in record.getMessage()
    for error in errors:
        for link in exception_chain(error):
            assert SECRET_KEY not in str(link)
            assert SECRET_KEY not in repr(link)
    assert ok is False
    assert SECRET_KEY not in reason
    assert SECRET_KEY not in repr(hook)
    assert SECRET_KEY not in str(hook)
