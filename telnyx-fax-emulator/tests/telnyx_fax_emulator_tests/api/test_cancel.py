"""Cancelling a fax in each state: accepted (202) while in flight, refused (422) once finished."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from telnyx_fax_emulator_tests.support import send_fax

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess
    from telnyx_fax_emulator_tests.support import ApiSession


def assert_cancelled(api: ApiSession, emulator: EmulatorProcess, fax_id: str, cancelled_from: str) -> None:
    response = api.post(f"/faxes/{fax_id}/actions/cancel")
    assert response.status_code == 202
    assert response.json() == {"data": {"result": "ok"}}
    fax = api.get(f"/faxes/{fax_id}").json()["data"]
    assert (fax["status"], fax["failure_reason"]) == ("failed", "sender_canceled")
    view = emulator.fax(fax_id)
    assert [step["status"] for step in view["timeline"]][-2:] == [cancelled_from, "failed"]
    assert view["pending"] == []
    assert [event["event_type"] for event in view["events"]][-1] == "fax.failed"


@pytest.mark.parametrize("state", ["queued", "media.processed", "sending"])
def test_cancel_while_in_flight(api: ApiSession, emulator: EmulatorProcess, state: str) -> None:
    # At twice real speed each state lasts long enough to act on: 1 s queued, 1.5 s media.processed,
    # 15 s per page sending.
    emulator.set_speed(2)
    fax = send_fax(api, emulator)
    emulator.wait_for_status(fax["id"], state, timeout=15)
    assert_cancelled(api, emulator, fax["id"], state)


def test_cancel_the_stuck_sending_number(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = send_fax(api, emulator, "+15550100011")
    emulator.wait_for_status(fax["id"], "sending")
    assert_cancelled(api, emulator, fax["id"], "sending")


@pytest.mark.parametrize(("number", "final"), [("+15550100000", "delivered"), ("+15550100001", "failed")])
def test_cancel_after_the_end_is_refused(api: ApiSession, emulator: EmulatorProcess, number: str, final: str) -> None:
    fax = send_fax(api, emulator, number)
    emulator.wait_for_status(fax["id"], final)
    response = api.post(f"/faxes/{fax['id']}/actions/cancel")
    assert response.status_code == 422
    assert final in response.json()["errors"][0]["detail"]
    assert api.get(f"/faxes/{fax['id']}").json()["data"]["status"] == final


def test_cancel_twice_is_refused_the_second_time(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = send_fax(api, emulator, "+15550100011")
    assert api.post(f"/faxes/{fax['id']}/actions/cancel").status_code == 202
    assert api.post(f"/faxes/{fax['id']}/actions/cancel").status_code == 422


def test_cancel_inbound_fax_is_refused(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = emulator.simulate_inbound("+15551230000")
    assert api.post(f"/faxes/{fax['id']}/actions/cancel").status_code == 422


def test_cancel_unknown_fax_is_404(api: ApiSession) -> None:
    response = api.post("/faxes/00000000-0000-4000-8000-000000000000/actions/cancel")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "10005"
