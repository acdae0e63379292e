"""``/v2/fax_applications``: the account's one Fax Application, read, listed and changed as the contract says."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
import requests

from telnyx_fax_emulator_tests.support import send_fax
from tests.support.openapi_contract import load_spec, validate_request

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess
    from telnyx_fax_emulator.webhook_receiver import WebhookReceiver
    from telnyx_fax_emulator_tests.support import ApiSession

CONTRACT_FIELDS = set(load_spec()["components"]["schemas"]["FaxApplication"]["properties"])


def assert_is_the_contracts_fax_application(data: dict[str, Any]) -> None:
    # The shared checker validates types but lets unknown fields pass on FaxApplication: check those here.
    assert set(data) <= CONTRACT_FIELDS, set(data) - CONTRACT_FIELDS
    assert set(data["inbound"]) <= {"channel_limit", "sip_subdomain", "sip_subdomain_receive_settings"}
    assert set(data["outbound"]) <= {"channel_limit", "outbound_voice_profile_id"}
    assert data["record_type"] == "fax_application"
    for stamp in ("created_at", "updated_at"):
        assert datetime.fromisoformat(data[stamp])


def patch(api: ApiSession, emulator: EmulatorProcess, body: dict[str, Any], app_id: str = "") -> requests.Response:
    url = f"/fax_applications/{app_id or emulator.connection_id}"
    return api.patch(url, json=body)


def test_the_account_has_one_application_whose_id_is_the_connection_id(
    api: ApiSession, emulator: EmulatorProcess
) -> None:
    listed = api.get("/fax_applications")
    assert listed.status_code == 200
    (application,) = listed.json()["data"]
    assert listed.json()["meta"] == {"page_number": 1, "page_size": 20, "total_pages": 1, "total_results": 1}
    assert_is_the_contracts_fax_application(application)
    assert application["id"] == emulator.connection_id
    assert application["application_name"] == "emulator-fax-app"
    assert application["active"] is True
    # No outbound.channel_limit until one is set: only the account's limit applies.
    assert "channel_limit" not in application["outbound"]
    assert application["outbound"]["outbound_voice_profile_id"]

    viewed = api.get(f"/fax_applications/{emulator.connection_id}")
    assert viewed.status_code == 200
    assert viewed.json()["data"] == application


def test_the_list_pages_and_filters(api: ApiSession, emulator: EmulatorProcess) -> None:
    second_page = api.get("/fax_applications", params={"page[number]": 2, "page[size]": 1}).json()
    assert second_page == {"data": [], "meta": {"page_number": 2, "page_size": 1, "total_pages": 1, "total_results": 1}}
    by_name = api.get("/fax_applications", params={"filter[application_name][contains]": "FAX-app"}).json()
    assert [app["id"] for app in by_name["data"]] == [emulator.connection_id]
    assert api.get("/fax_applications", params={"filter[application_name][contains]": "other"}).json()["data"] == []
    profile = by_name["data"][0]["outbound"]["outbound_voice_profile_id"]
    assert len(api.get("/fax_applications", params={"filter[outbound_voice_profile_id]": profile}).json()["data"]) == 1
    assert api.get("/fax_applications", params={"sort": "-application_name"}).status_code == 200
    for bad in ({"filter[application_name][contains]": "ab"}, {"sort": "color"}, {"page[size]": 0}):
        assert api.get("/fax_applications", params=bad).status_code == 400


def test_another_id_is_a_telnyx_shaped_404(api: ApiSession, emulator: EmulatorProcess) -> None:
    for response in (api.get("/fax_applications/999"), patch(api, emulator, {"active": False}, "999")):
        assert response.status_code == 404
        assert response.json()["errors"][0]["detail"] == "Fax Application '999' was not found."


def test_the_routes_need_the_api_key(anonymous_api: requests.Session, emulator: EmulatorProcess) -> None:
    assert anonymous_api.get(f"{emulator.base_url}/fax_applications").status_code == 401
    assert anonymous_api.get(f"{emulator.base_url}/fax_applications/{emulator.connection_id}").status_code == 401


def test_patch_changes_what_it_is_given_and_keeps_the_rest(api: ApiSession, emulator: EmulatorProcess) -> None:
    before = api.get(f"/fax_applications/{emulator.connection_id}").json()["data"]
    body = {
        "application_name": "fax-router",
        "webhook_event_url": "https://example.com/webhooks",
        "tags": ["billing"],
        "webhook_timeout_secs": 25,
        "inbound": {"channel_limit": 4},
        "outbound": {"channel_limit": 3, "outbound_voice_profile_id": "1293384261075731499"},
    }
    raw = json.dumps(body).encode()
    url = f"{emulator.base_url}/fax_applications/{emulator.connection_id}"
    validate_request("PATCH", url, headers=emulator.auth_headers, body=raw, content_type="application/json")

    response = patch(api, emulator, body)

    assert response.status_code == 200, response.text
    after = response.json()["data"]
    assert_is_the_contracts_fax_application(after)
    assert (after["application_name"], after["tags"], after["webhook_timeout_secs"]) == ("fax-router", ["billing"], 25)
    assert after["webhook_event_url"] == "https://example.com/webhooks"
    assert after["inbound"]["channel_limit"] == 4
    assert after["outbound"] == {"channel_limit": 3, "outbound_voice_profile_id": "1293384261075731499"}
    assert (after["active"], after["created_at"]) == (before["active"], before["created_at"])
    assert after["updated_at"] >= before["updated_at"]
    assert emulator.limits()["application_channel_limit"] == 3
    assert api.get(f"/fax_applications/{emulator.connection_id}").json()["data"] == after

    cleared = patch(api, emulator, {"outbound": {"channel_limit": None}, "active": False}).json()["data"]
    assert "channel_limit" not in cleared["outbound"]
    assert cleared["active"] is False
    assert emulator.limits()["application_channel_limit"] is None


def test_the_webhook_url_set_by_patch_receives_the_events(
    api: ApiSession, emulator: EmulatorProcess, webhook_receiver: WebhookReceiver
) -> None:
    assert patch(api, emulator, {"webhook_event_url": webhook_receiver.url}).status_code == 200
    fax = send_fax(api, emulator)

    hooks = webhook_receiver.wait_for(4)

    assert [hook.json["data"]["payload"]["fax_id"] for hook in hooks] == [fax["id"]] * 4
    assert emulator.info()["webhook_url"] == webhook_receiver.url


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"outbound": {"channel_limit": "many"}}, "/outbound/channel_limit"),
        ({"outbound": {"channel_limit": 0}}, "/outbound/channel_limit"),
        ({"outbound": 3}, "/outbound"),
        ({"inbound": {"channel_limit": True}}, "/inbound/channel_limit"),
        ({"outbound": {"outbound_voice_profile_id": 7}}, "/outbound/outbound_voice_profile_id"),
        ({"active": "maybe"}, "/active"),
        ({"tags": "billing"}, "/tags"),
        ({"application_name": ""}, "/application_name"),
        ({"webhook_event_url": "not a url"}, "/webhook_event_url"),
        ({"webhook_event_failover_url": 5}, "/webhook_event_failover_url"),
        ({"webhook_timeout_secs": 31}, "/webhook_timeout_secs"),
    ],
)
def test_a_bad_field_is_a_422_naming_it_and_changes_nothing(
    api: ApiSession, emulator: EmulatorProcess, body: dict[str, Any], pointer: str
) -> None:
    before = api.get(f"/fax_applications/{emulator.connection_id}").json()["data"]

    response = patch(api, emulator, {"application_name": "renamed", **body})

    assert response.status_code == 422
    assert [error["source"]["pointer"] for error in response.json()["errors"]] == [pointer]
    assert api.get(f"/fax_applications/{emulator.connection_id}").json()["data"] == before


def test_a_reset_restores_the_application(api: ApiSession, emulator: EmulatorProcess) -> None:
    before = api.get(f"/fax_applications/{emulator.connection_id}").json()["data"]
    body = {"application_name": "x-fax", "webhook_event_url": "https://example.com/h", "outbound": {"channel_limit": 2}}
    assert patch(api, emulator, body).status_code == 200

    emulator.reset()

    assert api.get(f"/fax_applications/{emulator.connection_id}").json()["data"] == before
    assert emulator.info()["webhook_url"] is None


def test_the_official_sdk_reads_and_updates_the_application(sdk: Any, emulator: EmulatorProcess) -> None:
    assert [app.id for app in sdk.fax_applications.list().data] == [emulator.connection_id]

    updated = sdk.fax_applications.update(
        emulator.connection_id,
        application_name="fax-router",
        webhook_event_url="https://example.com/webhooks",
        outbound={"channel_limit": 5},
    )

    assert updated.data.outbound.channel_limit == 5
    assert sdk.fax_applications.retrieve(emulator.connection_id).data.application_name == "fax-router"
