"""Inbound faxes: receiving → media.processing → received, with an expiring, refreshable media_url."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import requests

from telnyx_fax_emulator.documents import blank_pdf

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess
    from telnyx_fax_emulator.webhook_receiver import WebhookReceiver
    from telnyx_fax_emulator_tests.support import ApiSession

CALLER = "+15551230000"


def test_inbound_lifecycle_and_media_download(
    api: ApiSession, emulator: EmulatorProcess, webhook_receiver: WebhookReceiver
) -> None:
    document = blank_pdf(2)
    fax = emulator.simulate_inbound(CALLER, document=document, webhook_url=webhook_receiver.url)
    assert fax["status"] == "receiving"
    received = emulator.wait_for_status(fax["id"], "received")
    assert [step["status"] for step in received["timeline"]] == ["receiving", "media.processing", "received"]
    assert received["page_count"] == 2

    seen = api.get(f"/faxes/{fax['id']}").json()["data"]
    assert seen["direction"] == "inbound"
    assert seen["connection_id"] == emulator.connection_id
    assert (seen["from"], seen["to"]) == (CALLER, emulator.from_number)
    # Like a presigned URL: no bearer needed, the token in the URL is the credential.
    download = requests.get(seen["media_url"], timeout=10)
    assert download.status_code == 200
    assert download.content == document

    hooks = webhook_receiver.wait_for(3)
    assert [hook.json["data"]["event_type"] for hook in hooks] == [
        "fax.receiving.started",
        "fax.media.processing.started",
        "fax.received",
    ]
    assert hooks[-1].json["data"]["payload"]["media_url"] == seen["media_url"]
    assert hooks[-1].json["data"]["payload"]["page_count"] == 2

    listed = api.get("/faxes", params={"filter[direction][eq]": "inbound"}).json()["data"]
    assert [item["id"] for item in listed] == [fax["id"]]


def test_media_url_is_absent_until_received(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.set_speed("realistic")
    fax = emulator.simulate_inbound(CALLER)
    seen = api.get(f"/faxes/{fax['id']}").json()["data"]
    assert seen["status"] == "receiving"
    assert "media_url" not in seen


def test_media_url_expires_and_refresh_renews_it(api: ApiSession, emulator: EmulatorProcess) -> None:
    # 10 minutes at real speed; at 2000x that is 0.3 s.
    emulator.set_speed(2000)
    fax = emulator.simulate_inbound(CALLER, document=blank_pdf(1))
    emulator.wait_for_status(fax["id"], "received")
    old_url = api.get(f"/faxes/{fax['id']}").json()["data"]["media_url"]
    time.sleep(0.5)
    expired = requests.get(old_url, timeout=10)
    assert expired.status_code == 403
    assert "expired" in expired.json()["errors"][0]["detail"]

    emulator.set_speed("fast")  # the renewed URL lives 6 s
    assert api.post(f"/faxes/{fax['id']}/actions/refresh").json() == {"data": {"result": "ok"}}
    new_url = api.get(f"/faxes/{fax['id']}").json()["data"]["media_url"]
    assert new_url != old_url
    assert requests.get(new_url, timeout=10).status_code == 200
    assert requests.get(old_url, timeout=10).status_code == 403


def test_tampered_token_is_forbidden(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = emulator.simulate_inbound(CALLER)
    emulator.wait_for_status(fax["id"], "received")
    url = api.get(f"/faxes/{fax['id']}").json()["data"]["media_url"]
    assert requests.get(url + "x", timeout=10).status_code == 403


def test_inbound_by_base64_json(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = emulator.simulate_inbound_base64(CALLER, blank_pdf(3), to="+15550101234")
    received = emulator.wait_for_status(fax["id"], "received")
    assert (received["page_count"], received["to"]) == (3, "+15550101234")


def test_inbound_simulation_validates_numbers(emulator: EmulatorProcess) -> None:
    response = requests.post(f"{emulator.root_url}/_emulator/inbound", json={"from": "555"}, timeout=10)
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == {"pointer": "/from"}
