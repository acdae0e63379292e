"""Faults on demand (429, 500, 503, latency, dropped connections) and the steady rate limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import requests

from telnyx_fax_emulator_tests.support import fax_body, send_fax

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess
    from telnyx_fax_emulator_tests.support import ApiSession


def test_rate_limit_fault_answers_429_with_telnyx_headers(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.add_fault("GET", "/v2/faxes", "rate_limit", count=2, retry_after=7, limit=20)
    for _ in range(2):
        response = api.get("/faxes")
        assert response.status_code == 429
        assert response.headers["x-ratelimit-limit"] == "20"
        assert response.headers["x-ratelimit-remaining"] == "0"
        assert response.headers["x-ratelimit-reset"] == "7"
        assert response.headers["retry-after"] == "7"
        assert response.json()["errors"][0]["code"] == "10011"
    assert api.get("/faxes").status_code == 200  # count exhausted
    assert emulator.faults() == []


@pytest.mark.parametrize(("kind", "status"), [("server_error", 500), ("unavailable", 503), ("500", 500), ("503", 503)])
def test_server_error_faults(api: ApiSession, emulator: EmulatorProcess, kind: str, status: int) -> None:
    fax = send_fax(api, emulator)
    emulator.add_fault("GET", "/v2/faxes/*", kind)
    response = api.get(f"/faxes/{fax['id']}")
    assert response.status_code == status
    assert response.json()["errors"][0]["title"]
    assert api.get(f"/faxes/{fax['id']}").status_code == 200


def test_faults_match_method_and_path(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = send_fax(api, emulator)
    emulator.add_fault("POST", f"/v2/faxes/{fax['id']}/actions/cancel", "unavailable")
    assert api.get(f"/faxes/{fax['id']}").status_code == 200  # other method and path: untouched
    assert api.post(f"/faxes/{fax['id']}/actions/cancel").status_code == 503
    assert emulator.faults() == []


def test_failed_requests_do_not_reach_the_api(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.add_fault("POST", "/v2/faxes", "server_error")
    assert api.post("/faxes", json=fax_body(emulator)).status_code == 500
    assert emulator.faxes() == []
    assert emulator.request_count("POST", "/v2/faxes") == 1


def test_latency_delays_then_answers_normally(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.add_fault("GET", "/v2/faxes", "latency", seconds=2.0)
    # A client whose timeout is well under the added latency gives up...
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.get("/faxes", timeout=0.3)
    # ...and the next request, with the fault consumed, is answered as usual.
    emulator.add_fault("GET", "/v2/faxes", "latency", seconds=0.05)
    assert api.get("/faxes").status_code == 200
    assert emulator.faults() == []


def test_dropped_connection_still_creates_exactly_one_fax(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.add_fault("POST", "/v2/faxes", "drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post("/faxes", json=fax_body(emulator, client_state="a2V5LTE="))
    faxes = emulator.faxes()
    assert len(faxes) == 1
    assert faxes[0]["client_state"] == "a2V5LTE="
    # The client can find what it sent and carry on over a fresh connection.
    listed = api.get("/faxes").json()["data"]
    assert [fax["id"] for fax in listed] == [faxes[0]["id"]]
    log = emulator.requests()["entries"]
    assert [entry["status"] for entry in log if entry["method"] == "POST"] == ["dropped"]


def test_clear_faults(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.add_fault("*", "/v2/*", "server_error", count=5)
    assert len(emulator.faults()) == 1
    emulator.clear_faults()
    assert api.get("/faxes").status_code == 200


def test_bad_fault_definitions_are_rejected(emulator: EmulatorProcess) -> None:
    with pytest.raises(RuntimeError, match="unknown fault kind"):
        emulator.add_fault("GET", "/v2/faxes", "explode")
    with pytest.raises(RuntimeError, match="count"):
        emulator.add_fault("GET", "/v2/faxes", "drop", count=0)


def test_steady_rate_limit(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.set_rate_limit(2)
    answers = [api.get("/faxes") for _ in range(10)]
    limited = [r for r in answers if r.status_code == 429]
    assert limited, "ten back-to-back requests must exceed 2 per second"
    assert any(r.status_code == 200 for r in answers)
    assert limited[0].headers["x-ratelimit-limit"] == "2"
    assert int(limited[0].headers["retry-after"]) >= 1
    assert limited[0].json()["errors"][0]["code"] == "10011"
    emulator.set_rate_limit(None)
    assert all(api.get("/faxes").status_code == 200 for _ in range(10))
