"""Webhooks: Telnyx's event shapes, Ed25519 signatures, client_state, attempts and failover."""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from telnyx_fax_emulator_tests.support import send_fax
from tests.support.openapi_contract import validate_webhook

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess
    from telnyx_fax_emulator.webhook_receiver import ReceivedWebhook, WebhookReceiver
    from telnyx_fax_emulator_tests.support import ApiSession

OUTBOUND_EVENTS = ["fax.queued", "fax.media.processed", "fax.sending.started", "fax.delivered"]


def verify(public_key_b64: str, hook: ReceivedWebhook, body: bytes | None = None) -> None:
    """Verify as a Telnyx customer would: Ed25519 over ``f"{timestamp}|{body}"``."""
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    signed = hook.headers["telnyx-timestamp"].encode() + b"|" + (hook.body if body is None else body)
    key.verify(base64.b64decode(hook.headers["telnyx-signature-ed25519"]), signed)


def test_delivered_fax_sends_each_event_signed_and_in_order(
    api: ApiSession, emulator: EmulatorProcess, webhook_receiver: WebhookReceiver
) -> None:
    fax = send_fax(api, emulator, webhook_url=f"{webhook_receiver.url}/hooks", client_state="b3JkZXItNDI=")
    hooks = webhook_receiver.wait_for(4)
    assert [hook.json["data"]["event_type"] for hook in hooks] == OUTBOUND_EVENTS
    for hook in hooks:
        verify(emulator.public_key, hook)
        assert abs(int(hook.headers["telnyx-timestamp"]) - time.time()) < 300
        assert validate_webhook(hook.body)  # matches the spec's webhook schema
        data = hook.json["data"]
        assert data["record_type"] == "event"
        assert data["payload"]["fax_id"] == fax["id"]
        assert data["payload"]["client_state"] == "b3JkZXItNDI="
        assert hook.json["meta"] == {"attempt": 1, "delivered_to": f"{webhook_receiver.url}/hooks"}
    delivered = hooks[-1].json["data"]["payload"]
    assert delivered["page_count"] == 1
    # The real-line time Telnyx would report (a 20 s set-up and 30 s for the page), whatever the speed.
    assert delivered["call_duration_secs"] == 50


def test_tampered_body_fails_verification(
    api: ApiSession, emulator: EmulatorProcess, webhook_receiver: WebhookReceiver
) -> None:
    send_fax(api, emulator, webhook_url=webhook_receiver.url)
    hook = webhook_receiver.wait_for(1)[0]
    with pytest.raises(InvalidSignature):
        verify(emulator.public_key, hook, body=hook.body.replace(b"fax.queued", b"fax.delivered"))


def test_failed_fax_event_carries_failure_reasons(
    api: ApiSession, emulator: EmulatorProcess, webhook_receiver: WebhookReceiver
) -> None:
    send_fax(api, emulator, "+15550100004", webhook_url=webhook_receiver.url)
    hooks = webhook_receiver.wait_for(4)
    failed = hooks[-1].json["data"]
    assert failed["event_type"] == "fax.failed"
    assert failed["payload"]["failure_reason"] == "carrier_lost"
    assert failed["payload"]["internal_failure_reason"]
    assert validate_webhook(hooks[-1].body)


def test_non_2xx_goes_to_the_failover_url(
    api: ApiSession, emulator: EmulatorProcess, webhook_receiver: WebhookReceiver
) -> None:
    fax = send_fax(
        api,
        emulator,
        webhook_url=f"{webhook_receiver.url}/fail",
        webhook_failover_url=f"{webhook_receiver.url}/failover",
    )
    failover = webhook_receiver.wait_for(4, path="/failover")
    assert len(webhook_receiver.at("/fail")) == 4
    assert [hook.json["meta"]["attempt"] for hook in failover] == [2, 2, 2, 2]
    assert failover[0].json["meta"]["delivered_to"] == f"{webhook_receiver.url}/failover"
    verify(emulator.public_key, failover[0])
    # The event log records each attempt with its HTTP status.
    queued = emulator.fax(fax["id"])["events"][0]
    assert [(d["attempt"], d["status"]) for d in queued["deliveries"]] == [(1, 500), (2, 200)]


def test_unreachable_webhook_is_logged_not_fatal(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = send_fax(api, emulator, webhook_url="http://127.0.0.1:9/nobody-listens")
    emulator.wait_for_status(fax["id"], "delivered")
    events = emulator.wait_for_events(fax["id"], 4)
    deadline = time.monotonic() + 5
    while not all(event["deliveries"] for event in events) and time.monotonic() < deadline:
        time.sleep(0.05)
        events = emulator.events(fax["id"])
    delivery = events[0]["deliveries"][0]
    assert delivery["status"] is None
    assert delivery["error"]
    assert api.get(f"/faxes/{fax['id']}").json()["data"]["status"] == "delivered"


def test_events_recorded_even_without_a_webhook_url(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = send_fax(api, emulator)
    emulator.wait_for_status(fax["id"], "delivered")
    events = emulator.wait_for_events(fax["id"], 4)
    assert [event["event_type"] for event in events] == OUTBOUND_EVENTS
    assert all(event["deliveries"] == [] for event in events)
