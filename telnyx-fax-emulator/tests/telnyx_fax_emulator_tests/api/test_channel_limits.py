"""A fax is a phone call: the account, its Fax Application and its outbound voice profile limit the calls
up at once, and the profile's daily spend. A call over a limit fails at call start; it is never queued."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telnyx_fax_emulator import start_emulator
from telnyx_fax_emulator.documents import blank_pdf
from telnyx_fax_emulator_tests.support import ApiSession, send_fax

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess

TERMINAL = ("delivered", "failed")
STAYS_SENDING = "+15550100011"
BUSY = "+15550100001"
FAILED_AT_CALL_START = ["queued", "media.processed", "failed"]


def numbers(count: int) -> list[str]:
    return [f"+15557651{index:03d}" for index in range(count)]


def final(emulator: EmulatorProcess, fax: dict[str, Any]) -> dict[str, Any]:
    return emulator.wait_for_status(fax["id"], TERMINAL)


def reason(emulator: EmulatorProcess, fax: dict[str, Any]) -> str:
    view = final(emulator, fax)
    return str(view["failure_reason"] or view["status"])


def on_the_line(api: ApiSession, emulator: EmulatorProcess) -> dict[str, Any]:
    """A call that holds its channel until cancelled (busy lines off: every call dials the same number)."""
    fax = send_fax(api, emulator, STAYS_SENDING)
    emulator.wait_for_status(fax["id"], "sending")
    return fax


def send_pages(api: ApiSession, emulator: EmulatorProcess, pages: int, to: str) -> dict[str, Any]:
    fields = {"connection_id": emulator.connection_id, "from": emulator.from_number, "to": to}
    response = api.post("/faxes", data=fields, files={"contents": ("doc.pdf", blank_pdf(pages), "application/pdf")})
    assert response.status_code == 202, response.text
    fax: dict[str, Any] = response.json()["data"]
    return fax


def test_at_two_channels_the_third_call_fails_at_call_start_and_a_later_one_delivers(
    api: ApiSession, emulator: EmulatorProcess
) -> None:
    # At 20x a call holds its channel 2.5 s, far longer than sending three faxes takes.
    emulator.set_speed(20)
    emulator.set_limits(channel_limit=2)
    first, second, third = (send_fax(api, emulator, number) for number in numbers(3))

    assert (reason(emulator, first), reason(emulator, second)) == ("delivered", "delivered")
    refused = final(emulator, third)
    assert refused["failure_reason"] == "user_channel_limit_exceeded"
    assert [step["status"] for step in refused["timeline"]] == FAILED_AT_CALL_START
    assert refused["internal_failure_reason"] == "account_outbound_channel_limit_reached"
    events = [event["event_type"] for event in emulator.wait_for_events(third["id"], 3)]
    assert events == ["fax.queued", "fax.media.processed", "fax.failed"]
    assert api.get(f"/faxes/{third['id']}").json()["data"]["failure_reason"] == "user_channel_limit_exceeded"

    # Both calls are over: a channel is free again.
    assert reason(emulator, send_fax(api, emulator, numbers(4)[3])) == "delivered"
    channels = emulator.channels()
    assert (channels["in_use"], channels["limit"], channels["peak"], channels["dials"]) == (0, 2, 2, 3)
    assert channels["refused_at_limit"] == {"user_channel_limit_exceeded": 1}


def test_cancelling_a_call_frees_its_channel(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.set_limits(channel_limit=1, busy_lines=False)
    holding = on_the_line(api, emulator)
    assert reason(emulator, send_fax(api, emulator, numbers(1)[0])) == "user_channel_limit_exceeded"

    assert api.post(f"/faxes/{holding['id']}/actions/cancel").status_code == 202

    assert reason(emulator, send_fax(api, emulator, numbers(1)[0])) == "delivered"
    assert emulator.channels()["peak"] == 1


def test_a_deleted_fax_frees_its_channel(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.set_limits(channel_limit=1, busy_lines=False)
    holding = on_the_line(api, emulator)

    assert api.delete(f"/faxes/{holding['id']}").status_code == 204

    assert reason(emulator, send_fax(api, emulator, numbers(1)[0])) == "delivered"


def test_the_application_limit_set_by_patch_fails_calls_with_connection_channel_limit_exceeded(
    api: ApiSession, emulator: EmulatorProcess
) -> None:
    emulator.set_limits(busy_lines=False)
    patched = api.patch(f"/fax_applications/{emulator.connection_id}", json={"outbound": {"channel_limit": 1}})
    assert patched.status_code == 200, patched.text
    on_the_line(api, emulator)

    refused = final(emulator, send_fax(api, emulator, numbers(1)[0]))

    assert refused["failure_reason"] == "connection_channel_limit_exceeded"
    assert [step["status"] for step in refused["timeline"]] == FAILED_AT_CALL_START
    assert emulator.channels()["application_limit"] == 1


def test_the_profile_limit_fails_calls_with_outbound_profile_channel_limit_exceeded(
    api: ApiSession, emulator: EmulatorProcess
) -> None:
    emulator.set_limits(busy_lines=False, profile_channel_limit=2)
    on_the_line(api, emulator)
    on_the_line(api, emulator)

    assert reason(emulator, send_fax(api, emulator, numbers(1)[0])) == "outbound_profile_channel_limit_exceeded"
    assert emulator.channels()["profile_limit"] == 2


def test_the_application_limit_is_checked_first_then_the_profile_then_the_account(
    api: ApiSession, emulator: EmulatorProcess
) -> None:
    emulator.set_limits(busy_lines=False, channel_limit=1, profile_channel_limit=1, application_channel_limit=1)
    on_the_line(api, emulator)
    seen = []
    for lifted in ("application_channel_limit", "profile_channel_limit", "channel_limit"):
        seen.append(reason(emulator, send_fax(api, emulator, numbers(1)[0])))
        emulator.set_limits(**{lifted: None})
    seen.append(reason(emulator, send_fax(api, emulator, numbers(1)[0])))

    assert seen == [
        "connection_channel_limit_exceeded",
        "outbound_profile_channel_limit_exceeded",
        "user_channel_limit_exceeded",
        "delivered",
    ]
    assert emulator.channels()["refused_at_limit"] == {
        "connection_channel_limit_exceeded": 1,
        "outbound_profile_channel_limit_exceeded": 1,
        "user_channel_limit_exceeded": 1,
    }


def test_a_document_failure_comes_before_the_limits(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.set_limits(busy_lines=False, channel_limit=1)
    on_the_line(api, emulator)

    assert reason(emulator, send_fax(api, emulator, "+15550100008")) == "file_format_invalid"


def test_the_daily_page_budget_fails_a_fax_that_would_go_over_and_spends_only_calls_that_get_through(
    api: ApiSession, emulator: EmulatorProcess
) -> None:
    emulator.set_limits(daily_page_budget=3)
    two_pages = send_pages(api, emulator, 2, numbers(1)[0])
    over = send_pages(api, emulator, 2, numbers(2)[1])
    busy = send_pages(api, emulator, 1, BUSY)
    last_page = send_pages(api, emulator, 1, numbers(3)[2])

    assert reason(emulator, two_pages) == "delivered"
    refused = final(emulator, over)
    assert refused["failure_reason"] == "outbound_profile_daily_spend_limit_exceeded"
    assert [step["status"] for step in refused["timeline"]] == FAILED_AT_CALL_START
    assert reason(emulator, busy) == "user_busy"  # failed at dial: spends nothing
    assert reason(emulator, last_page) == "delivered"
    channels = emulator.channels()
    assert (channels["daily_page_budget"], channels["pages_today"]) == (3, 3)
    assert channels["refused_at_limit"] == {"outbound_profile_daily_spend_limit_exceeded": 1}


def test_zero_or_none_means_no_channel_limit(api: ApiSession, emulator: EmulatorProcess) -> None:
    assert emulator.set_limits(channel_limit=0, busy_lines=False)["channel_limit"] is None
    # Twelve calls up at once, beyond the default of ten.
    held = [send_fax(api, emulator, STAYS_SENDING) for _ in range(12)]

    assert [emulator.wait_for_status(fax["id"], ("sending", *TERMINAL))["status"] for fax in held] == ["sending"] * 12
    channels = emulator.channels()
    assert (channels["in_use"], channels["peak"], channels["limit"]) == (12, 12, None)
    assert emulator.set_limits(channel_limit=None)["channel_limit"] is None


def test_the_peak_counts_calls_from_their_start_to_their_end(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.set_limits(busy_lines=False)
    held = [on_the_line(api, emulator) for _ in range(3)]
    for fax in held:
        assert api.post(f"/faxes/{fax['id']}/actions/cancel").status_code == 202
    # One after the other: never two up at once.
    for number in numbers(2):
        assert reason(emulator, send_fax(api, emulator, number)) == "delivered"
    # Cancelled before its call started (a real-speed fax dials after 5 s): it never dialled.
    emulator.set_speed("realistic")
    never_dialled = send_fax(api, emulator, numbers(3)[2])
    assert api.post(f"/faxes/{never_dialled['id']}/actions/cancel").status_code == 202

    channels = emulator.channels()
    assert (channels["in_use"], channels["peak"], channels["dials"]) == (0, 3, 5)


def test_a_reset_restores_the_start_up_limits_and_forgets_the_calls(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.set_limits(busy_lines=False, channel_limit=1, application_channel_limit=3, daily_page_budget=5)
    on_the_line(api, emulator)

    emulator.reset()

    assert emulator.limits()["channel_limit"] == 10
    assert emulator.limits()["application_channel_limit"] is None
    assert emulator.limits()["daily_page_budget"] is None
    channels = emulator.channels()
    assert (channels["in_use"], channels["peak"], channels["dials"], channels["pages_today"]) == (0, 0, 0, 0)
    assert emulator.info()["channel_limit"] == 10


def test_the_limits_come_from_the_command_line() -> None:
    handle = start_emulator(
        channel_limit=2, application_channel_limit=5, profile_channel_limit=4, daily_page_budget=100, busy_lines=False
    )
    try:
        limits = handle.limits()
        assert (limits["channel_limit"], limits["application_channel_limit"]) == (2, 5)
        assert (limits["profile_channel_limit"], limits["daily_page_budget"]) == (4, 100)
        with ApiSession(handle.base_url, handle.api_key) as api:
            on_the_line(api, handle)
            on_the_line(api, handle)
            assert reason(handle, send_fax(api, handle, numbers(1)[0])) == "user_channel_limit_exceeded"
    finally:
        handle.stop()
    unlimited = start_emulator(channel_limit=0)
    try:
        assert unlimited.limits()["channel_limit"] is None
    finally:
        unlimited.stop()
