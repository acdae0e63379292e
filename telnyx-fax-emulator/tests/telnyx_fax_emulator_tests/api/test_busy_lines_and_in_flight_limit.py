"""What a batch meets on real lines: one call at a time per number, and at most 2,000 faxes in processing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import requests

from telnyx_fax_emulator import start_emulator
from telnyx_fax_emulator_tests.support import ApiSession, fax_body, send_fax

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess

TERMINAL = ("delivered", "failed")
SENDING_OR_DONE = ("sending", *TERMINAL)
LINE = "+15557650100"
OTHER_LINE = "+15557650200"
LIMIT_MESSAGE = "There is a limit for outbound faxes of {} faxes being processed at the same time"
DEFAULT_LIMITS = {
    "busy_lines": True,
    "max_in_flight": 2000,
    "channel_limit": 10,
    "application_channel_limit": None,
    "profile_channel_limit": None,
    "daily_page_budget": None,
}


def outcome(emulator: EmulatorProcess, fax_id: str) -> str:
    final = emulator.wait_for_status(fax_id, TERMINAL)
    return str(final["failure_reason"] or final["status"])


def test_a_second_fax_to_a_number_on_a_call_fails_busy_while_another_number_delivers(
    api: ApiSession, emulator: EmulatorProcess
) -> None:
    # The first fax stays on the line until cancelled, so the test does not race a real-time call.
    emulator.set_outcome(LINE, "stays_sending")
    first = send_fax(api, emulator, LINE)
    emulator.wait_for_status(first["id"], "sending")

    second = send_fax(api, emulator, LINE)
    elsewhere = send_fax(api, emulator, OTHER_LINE)

    assert outcome(emulator, second["id"]) == "user_busy"
    assert outcome(emulator, elsewhere["id"]) == "delivered"
    assert emulator.fax(first["id"])["status"] == "sending"
    busy = emulator.fax(second["id"])
    # A busy line fails at call setup, as the busy test number does: no "sending" in between.
    assert [step["status"] for step in busy["timeline"]] == ["queued", "media.processed", "failed"]
    assert busy["internal_failure_reason"] == "sip_486_busy_here"


def test_the_line_is_free_again_once_the_call_ends_or_is_cancelled(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.set_outcome(LINE, "stays_sending")
    on_the_line = send_fax(api, emulator, LINE)
    emulator.wait_for_status(on_the_line["id"], "sending")
    assert outcome(emulator, send_fax(api, emulator, LINE)["id"]) == "user_busy"

    assert api.post(f"/faxes/{on_the_line['id']}/actions/cancel").status_code == 202
    emulator.set_outcome(LINE, "delivered")
    after_cancel = send_fax(api, emulator, LINE)
    assert outcome(emulator, after_cancel["id"]) == "delivered"
    assert outcome(emulator, send_fax(api, emulator, LINE)["id"]) == "delivered"  # after it ended


def test_busy_lines_switch_off_from_the_control_api(api: ApiSession, emulator: EmulatorProcess) -> None:
    assert emulator.limits() == {**DEFAULT_LIMITS, "busy_lines": True}
    assert emulator.set_limits(busy_lines=False) == {**DEFAULT_LIMITS, "busy_lines": False}
    emulator.set_outcome(LINE, "stays_sending")

    faxes = [send_fax(api, emulator, LINE) for _ in range(3)]

    # All three on the line at once, none busy.
    assert [emulator.wait_for_status(fax["id"], SENDING_OR_DONE)["status"] for fax in faxes] == ["sending"] * 3
    emulator.reset()
    assert emulator.limits()["busy_lines"] is True


def test_the_2001st_fax_in_processing_is_refused_with_telnyxs_429(api: ApiSession, emulator: EmulatorProcess) -> None:
    # Ten times slower than a real line: none of the 2,000 can finish while the test sends them. The
    # account's channels are a limit of their own (test_channel_limits.py): off, so every call is up.
    emulator.set_speed(0.1)
    emulator.set_limits(channel_limit=None)
    with requests.Session() as unchecked:  # 2,000 contract validations would only slow the test down
        for index in range(2000):
            response = unchecked.post(
                f"{emulator.base_url}/faxes",
                json=fax_body(emulator, f"+1555066{index:04d}"),
                headers=emulator.auth_headers,
            )
            assert response.status_code == 202, (index, response.text)

    refused = api.post("/faxes", json=fax_body(emulator, "+15550669999"))

    assert refused.status_code == 429
    assert refused.json()["errors"][0]["detail"] == LIMIT_MESSAGE.format(2000)
    assert len(emulator.faxes()) == 2000
    # Cancelling one frees its place.
    first = emulator.faxes()[-1]
    assert api.post(f"/faxes/{first['id']}/actions/cancel").status_code == 202
    assert api.post("/faxes", json=fax_body(emulator, "+15550669999")).status_code == 202
    assert api.post("/faxes", json=fax_body(emulator, "+15550669998")).status_code == 429

    emulator.set_limits(max_in_flight=None)
    assert api.post("/faxes", json=fax_body(emulator, "+15550669998")).status_code == 202


def test_the_limits_come_from_the_command_line() -> None:
    handle = start_emulator(max_in_flight=2, busy_lines=False, outcomes={LINE: "stays_sending"})
    try:
        assert handle.limits() == {**DEFAULT_LIMITS, "busy_lines": False, "max_in_flight": 2}
        with ApiSession(handle.base_url, handle.api_key) as api:
            # Busy lines are off: two faxes to one number are both accepted and both on a call.
            first, second = (send_fax(api, handle, LINE) for _ in range(2))
            assert handle.wait_for_status(first["id"], SENDING_OR_DONE)["status"] == "sending"
            assert handle.wait_for_status(second["id"], SENDING_OR_DONE)["status"] == "sending"
            refused = api.post("/faxes", json=fax_body(handle, OTHER_LINE))
            assert refused.status_code == 429
            assert refused.json()["errors"][0]["detail"] == LIMIT_MESSAGE.format(2)
    finally:
        handle.stop()


@pytest.mark.parametrize("value", ["-1", "many"])
def test_a_bad_limit_is_refused(emulator: EmulatorProcess, value: str) -> None:
    with pytest.raises(RuntimeError, match="max_in_flight"):
        emulator.set_limits(max_in_flight=value)
    with pytest.raises(RuntimeError, match="busy_lines"):
        emulator.set_limits(busy_lines="sometimes")
