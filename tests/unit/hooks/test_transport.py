"""One transport: the sync and async paths give the same outcome, after the same requests, for every scenario."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_provider_telnyx_fax.exceptions import (
    TelnyxAPIError,
    TelnyxAuthenticationError,
    TelnyxFaxValidationError,
    TelnyxNotFoundError,
    TelnyxOutcomeUnknownError,
    TelnyxTransportError,
)
from airflow_provider_telnyx_fax.fax_request import FaxSendRequest
from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
from airflow_provider_telnyx_fax.hooks.transport import RetryPolicy, api_base_url, retry_after_seconds
from tests.support.api import FAX_ID, connection_uri, fax_record
from tests.support.ports import free_port

FAX_PATH = f"/v2/faxes/{FAX_ID}"
SEND_PATH = "/v2/faxes"
SEND = FaxSendRequest(to="+13125550123", media_url="https://example.com/a.pdf")


def telnyx_error(code: str, detail: str, pointer: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "title": detail, "detail": detail}
    if pointer:
        error["source"] = {"pointer": pointer}
    return {"errors": [error]}


@dataclass(frozen=True)
class Scenario:
    """What the server answers, in order, and what the caller should see after how many requests."""

    call: str  # "read" (GET a fax) or "send" (POST a fax)
    answers: list[dict[str, Any]] = field(default_factory=list)
    expected: type[Exception] | None = None
    requests: int = 1
    refused: bool = False  # nothing listens: connect refused


RATE_LIMITED = {"status": 429, "json": telnyx_error("10011", "Too many requests")}
UNAVAILABLE = {"status": 503, "json": telnyx_error("10007", "Service unavailable")}
SLOW = {"delay": 1.0, "json": {"data": fax_record()}}
DROPPED = {"drop": True}
OK = {"json": {"data": fax_record()}}

SCENARIOS = {
    "429 with Retry-After, then 200": Scenario(
        "read", [{**RATE_LIMITED, "headers": {"Retry-After": "0"}}, OK], None, 2
    ),
    "429 with x-ratelimit-reset on a send, then 200": Scenario(
        "send", [{**RATE_LIMITED, "headers": {"x-ratelimit-reset": "0"}}, OK], None, 2
    ),
    "a 503 burst on a read, then 200": Scenario("read", [UNAVAILABLE, UNAVAILABLE, OK], None, 3),
    "a 503 on a send": Scenario("send", [UNAVAILABLE], TelnyxOutcomeUnknownError, 1),
    "connect refused on a read": Scenario("read", [], TelnyxTransportError, 0, refused=True),
    "connect refused on a send": Scenario("send", [], TelnyxTransportError, 0, refused=True),
    "read timeout on a read, then 200": Scenario("read", [SLOW, OK], None, 2),
    "read timeout on a send": Scenario("send", [SLOW], TelnyxOutcomeUnknownError, 1),
    "connection dropped after a send": Scenario("send", [DROPPED], TelnyxOutcomeUnknownError, 1),
    "401": Scenario(
        "read", [{"status": 401, "json": telnyx_error("10009", "Authentication failed")}], TelnyxAuthenticationError
    ),
    "404": Scenario(
        "read", [{"status": 404, "json": telnyx_error("10005", "Resource not found")}], TelnyxNotFoundError
    ),
    "422 on a send": Scenario(
        "send", [{"status": 422, "json": telnyx_error("10015", "Invalid value", "/to")}], TelnyxAPIError
    ),
}


def make_hook() -> TelnyxFaxHook:
    return TelnyxFaxHook(max_retries=3, backoff_base=0.01, backoff_max=0.02, read_timeout=0.3)


def call_sync(scenario: Scenario) -> Any:
    hook = make_hook()
    return hook.get_fax(FAX_ID) if scenario.call == "read" else hook.send_fax(SEND)


def call_async(scenario: Scenario) -> Any:
    async def run() -> Any:
        hook = make_hook()
        return await (hook.aget_fax(FAX_ID) if scenario.call == "read" else hook.asend_fax(SEND))

    return asyncio.run(run())


@pytest.mark.parametrize("side", [call_sync, call_async], ids=["sync", "async"])
@pytest.mark.parametrize("scenario", list(SCENARIOS.values()), ids=list(SCENARIOS))
def test_both_paths_give_the_same_outcome_after_the_same_requests(scenario, side, scripted_server, monkeypatch):
    path = FAX_PATH if scenario.call == "read" else SEND_PATH
    method = "GET" if scenario.call == "read" else "POST"
    if scenario.refused:
        monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", connection_uri(f"http://127.0.0.1:{free_port()}/v2"))
    for answer in scenario.answers:
        scripted_server.queue(method, path, **answer)

    if scenario.expected is None:
        assert side(scenario)["id"] == fax_record()["id"]
    else:
        with pytest.raises(scenario.expected):
            side(scenario)
    assert len(scripted_server.requests_to(method, path)) == scenario.requests


def test_a_422_on_a_send_names_the_field_telnyx_points_at(scripted_server):
    scripted_server.queue("POST", SEND_PATH, 422, telnyx_error("10015", "Invalid value", "/to"))

    with pytest.raises(TelnyxAPIError, match="'to': Invalid value") as raised:
        make_hook().send_fax(SEND)
    assert raised.value.status == 422


@pytest.mark.parametrize("side", ["sync", "async"])
def test_retries_log_the_same_line_on_both_sides(side, scripted_server, capsys):
    scripted_server.queue("GET", FAX_PATH, **{**RATE_LIMITED, "headers": {"Retry-After": "0"}})
    scripted_server.queue("GET", FAX_PATH, **OK)
    scenario = Scenario("read")

    (call_sync if side == "sync" else call_async)(scenario)

    [line] = [line for line in capsys.readouterr().out.splitlines() if "retrying in" in line]
    assert f"GET {FAX_PATH.removeprefix('/v2')} answered 429; retrying in " in line
    assert "(attempt 2 of 4)" in line


class TestRunFromProvidersHttp:
    """The generic ``run()`` inherited from providers-http cannot bypass the send rule."""

    def test_run_refuses_to_post_a_fax(self, scripted_server):
        hook = make_hook()
        hook.method = "POST"

        with pytest.raises(TelnyxFaxValidationError, match="send_fax"):
            hook.run("faxes", data=json.dumps({"to": "+13125550123"}))
        with pytest.raises(TelnyxFaxValidationError, match="send_fax"):
            hook.run_with_advanced_retry({"stop": None}, "/faxes/", data="{}")
        assert scripted_server.requests == []

    def test_run_reads_through_the_retry_policy(self, scripted_server):
        scripted_server.queue("GET", FAX_PATH, **UNAVAILABLE)
        scripted_server.queue("GET", FAX_PATH, **OK)

        body = make_hook().run(f"faxes/{FAX_ID}")

        assert body["data"]["id"] == fax_record()["id"]
        assert len(scripted_server.requests_to("GET", FAX_PATH)) == 2


class TestBaseUrl:
    """One rule for where a connection points, used by the sync and the async side alike."""

    @pytest.mark.parametrize(
        ("host", "expected"),
        [
            ("api.telnyx.com/v2", "https://api.telnyx.com/v2"),
            ("https://api.telnyx.com/v2", "https://api.telnyx.com/v2"),
            ("api.telnyx.com:8443/v2", "https://api.telnyx.com:8443/v2"),
            ("http://127.0.0.1:8089/v2", "http://127.0.0.1:8089/v2"),
            ("http://localhost:8089/v2", "http://localhost:8089/v2"),
            ("http://[::1]:8089/v2/", "http://[::1]:8089/v2"),
            (None, "https://api.telnyx.com/v2"),
        ],
    )
    def test_sync_and_async_sides_agree(self, host, expected, monkeypatch):
        monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", connection_uri(host))
        sync_hook = TelnyxFaxHook()
        sync_hook.get_conn()

        async def async_base_url() -> str:
            return (await TelnyxFaxHook()._settings())[0]

        assert sync_hook.base_url == expected
        assert asyncio.run(async_base_url()) == expected

    @pytest.mark.parametrize("side", ["sync", "async"])
    def test_plain_http_to_a_remote_host_is_refused_before_any_request(self, side, scripted_server, monkeypatch):
        # The scripted server stands in for the remote host: a proxy would carry the request there.
        monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", connection_uri("http://api.telnyx.com/v2"))
        monkeypatch.setenv("HTTP_PROXY", scripted_server.url)

        with pytest.raises(TelnyxFaxValidationError, match=r"'host'.*telnyx_fax_default.*allow_http"):
            (call_sync if side == "sync" else call_async)(Scenario("read"))
        assert scripted_server.requests == []

    def test_allow_http_accepts_it_with_one_warning(self, scripted_server, monkeypatch, capsys):
        monkeypatch.setenv(
            "AIRFLOW_CONN_TELNYX_FAX_DEFAULT", connection_uri("http://api.telnyx.invalid/v2", allow_http=True)
        )
        monkeypatch.setenv("HTTP_PROXY", scripted_server.url)
        scripted_server.queue("GET", FAX_PATH, **OK, times=2)
        hook = TelnyxFaxHook()

        hook.get_fax(FAX_ID)
        hook.get_fax(FAX_ID)

        assert len(scripted_server.requests_to("GET", FAX_PATH)) == 2
        warnings = [line for line in capsys.readouterr().out.splitlines() if "unencrypted" in line]
        assert len(warnings) == 1

    def test_a_port_given_apart_from_the_host_is_kept(self):
        assert api_base_url("127.0.0.1/v2", conn_id="c", port=8089) == "https://127.0.0.1:8089/v2"

    def test_nonsense_is_refused_naming_the_connection(self):
        with pytest.raises(TelnyxFaxValidationError, match=r"'host'.*'emulator'"):
            api_base_url("ftp://files.example.com", conn_id="emulator")


class TestRetryTiming:
    def test_retry_after_in_seconds(self):
        assert retry_after_seconds({"Retry-After": "7"}) == 7

    def test_ratelimit_reset_as_unix_time_becomes_seconds_from_now(self):
        assert retry_after_seconds({"x-ratelimit-reset": "1700000012"}, now=1_700_000_000) == 12

    def test_retry_after_as_http_date(self):
        now = 1_700_000_000  # 2023-11-14 22:13:20 GMT
        assert retry_after_seconds({"Retry-After": "Tue, 14 Nov 2023 22:13:25 GMT"}, now=now) == 5

    def test_no_or_unparseable_header_gives_none(self):
        assert retry_after_seconds({}) is None
        assert retry_after_seconds({"Retry-After": "soon"}) is None

    def test_backoff_grows_but_stays_under_the_cap(self):
        delays = [RetryPolicy(backoff_base=1, backoff_max=5).delay(attempt) for attempt in range(10) for _ in range(20)]
        assert all(0.5 <= delay <= 5 for delay in delays)
        assert RetryPolicy(backoff_base=0.01, backoff_max=30).delay(3, retry_after=4) >= 4
