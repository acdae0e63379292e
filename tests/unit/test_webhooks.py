"""verify_webhook against the emulator's signed webhooks, as a receiving web app sees them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from airflow_provider_telnyx_fax.webhooks import (
    WebhookHeaderError,
    WebhookPayloadError,
    WebhookPublicKeyError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookVerificationError,
    public_key_from_connection,
    verify_webhook,
)


@pytest.fixture
def signed(emulator, receive, webhook_receiver) -> tuple[bytes, dict[str, str], str]:
    """The raw body and headers of the emulator's ``fax.received`` webhook, and its public key."""
    receive(1, webhook_url=webhook_receiver.url)
    deliveries = webhook_receiver.wait_for(3)  # receiving.started, media.processing.started, received
    hook = next(hook for hook in deliveries if hook.json["data"]["event_type"] == "fax.received")
    return hook.body, dict(hook.headers.items()), emulator.public_key


def stamp(headers: dict[str, str]) -> int:
    return int({k.lower(): v for k, v in headers.items()}["telnyx-timestamp"])


def other_key() -> str:
    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode()


def test_accepts_every_signed_event_and_returns_it_parsed(signed, webhook_receiver):
    body, headers, key = signed

    event = verify_webhook(body, headers, key)

    assert event["data"]["event_type"] == "fax.received"
    assert event["data"]["payload"]["status"] == "received"
    for hook in webhook_receiver.received:
        assert verify_webhook(hook.body, dict(hook.headers.items()), key)["data"]["record_type"] == "event"


def test_header_names_are_case_insensitive(signed):
    body, headers, key = signed

    assert verify_webhook(body, {k.upper(): v for k, v in headers.items()}, key)


def test_the_key_can_come_from_the_connection(signed, monkeypatch):
    body, headers, key = signed
    conn = {"conn_type": "telnyx_fax", "host": "http://x/v2", "extra": {"public_key": key}}
    monkeypatch.setenv("AIRFLOW_CONN_FAX_HOOKS", json.dumps(conn))

    assert public_key_from_connection("fax_hooks") == key
    assert verify_webhook(body, headers, telnyx_conn_id="fax_hooks")["data"]["event_type"] == "fax.received"


def rejection(body: bytes, headers: dict[str, str], key: str, **kwargs: Any) -> WebhookVerificationError:
    with pytest.raises(WebhookVerificationError) as raised:
        verify_webhook(body, headers, key, **kwargs)
    return raised.value


def test_each_kind_of_bad_webhook_is_rejected_with_its_own_error(signed):
    body, headers, key = signed
    lowered = {k.lower(): v for k, v in headers.items()}
    now = stamp(headers)

    changed_body = rejection(body.replace(b"received", b"rEceived", 1), headers, key, now=now)
    changed_time = rejection(body, {**lowered, "telnyx-timestamp": str(now + 1)}, key, now=now)
    stale = rejection(body, headers, key, now=now + 301)
    wrong_key = rejection(body, headers, other_key(), now=now)
    bad_key = rejection(body, headers, "not-a-key", now=now)
    garbage = rejection(body, {"telnyx-signature-ed25519": "%%%", "telnyx-timestamp": "soon"}, key, now=now)
    garbage_signature = rejection(body, {**lowered, "telnyx-signature-ed25519": "%%%"}, key, now=now)
    missing = rejection(body, {"content-type": "application/json"}, key, now=now)

    assert isinstance(changed_body, WebhookSignatureError)
    assert isinstance(changed_time, WebhookSignatureError)
    assert isinstance(wrong_key, WebhookSignatureError)
    assert isinstance(stale, WebhookTimestampError)
    assert isinstance(bad_key, WebhookPublicKeyError)
    assert all(isinstance(error, WebhookHeaderError) for error in (garbage, garbage_signature, missing))
    messages = [changed_body, changed_time, stale, wrong_key, bad_key, garbage, garbage_signature, missing]
    assert len({str(error) for error in messages}) == len(messages)
    assert "301s old" in str(stale)
    assert "lacks the header(s) telnyx-signature-ed25519, telnyx-timestamp" in str(missing)


def test_a_genuine_webhook_within_the_tolerance_passes_and_future_ones_do_not(signed):
    body, headers, key = signed

    assert verify_webhook(body, headers, key, now=stamp(headers) + 299)
    with pytest.raises(WebhookTimestampError, match="in the future"):
        verify_webhook(body, headers, key, now=stamp(headers) - 400)


def test_a_signed_body_that_is_not_an_event_is_rejected():
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key = base64.b64encode(raw).decode()

    def sign(body: bytes) -> dict[str, str]:
        return {
            "telnyx-timestamp": "1700000000",
            "telnyx-signature-ed25519": base64.b64encode(private.sign(b"1700000000|" + body)).decode(),
        }

    with pytest.raises(WebhookPayloadError, match="not JSON"):
        verify_webhook(b"<xml/>", sign(b"<xml/>"), key, now=1700000000)
    with pytest.raises(WebhookPayloadError, match="no 'data'"):
        verify_webhook(b"[1]", sign(b"[1]"), key, now=1700000000)
