"""
Verify Telnyx fax webhooks exactly as Telnyx signs them.

Telnyx signs every webhook with Ed25519 over ``f"{timestamp}|{raw body}"`` and sends the base64
signature in ``telnyx-signature-ed25519`` and the Unix timestamp in ``telnyx-timestamp``. The public
key is shown in the Telnyx portal (Account settings > Keys & Credentials > Public Key); store it in
the ``public_key`` extra of the Telnyx Fax connection, or pass it in.

From a web app (FastAPI)::

    from fastapi import FastAPI, HTTPException, Request
    from airflow_provider_telnyx_fax.webhooks import WebhookVerificationError, verify_webhook

    app = FastAPI()

    @app.post("/telnyx/fax")
    async def telnyx_fax(request: Request) -> dict:
        try:
            event = verify_webhook(await request.body(), request.headers, PUBLIC_KEY)
        except WebhookVerificationError as error:
            raise HTTPException(400, str(error)) from None
        ...  # e.g. trigger a DAG run or update an asset for event["data"]["payload"]["fax_id"]
        return {"ok": True}
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

if TYPE_CHECKING:
    from collections.abc import Mapping

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
DEFAULT_TOLERANCE_SECONDS = 300
PUBLIC_KEY_EXTRA = "public_key"


class WebhookVerificationError(ValueError):
    """A webhook that must not be trusted; the subclass and the message say why."""


class WebhookHeaderError(WebhookVerificationError):
    """The signature or timestamp header is missing or malformed."""


class WebhookPublicKeyError(WebhookVerificationError):
    """The public key given (or stored on the connection) is not a base64 Ed25519 public key."""


class WebhookSignatureError(WebhookVerificationError):
    """The signature does not match the body and timestamp under the public key."""


class WebhookTimestampError(WebhookVerificationError):
    """A genuinely signed webhook, but signed too long ago (or in the future): a possible replay."""


class WebhookPayloadError(WebhookVerificationError):
    """A correctly signed body that is not a Telnyx event (not JSON, or no ``data`` object)."""


def public_key_from_connection(telnyx_conn_id: str = "telnyx_fax_default") -> str:
    """
    The base64 webhook public key stored in the connection's ``public_key`` extra.

    :raises WebhookPublicKeyError: the connection has no ``public_key`` extra.
    """
    from airflow.sdk import BaseHook

    key = BaseHook.get_connection(telnyx_conn_id).extra_dejson.get(PUBLIC_KEY_EXTRA)
    if not key:
        raise WebhookPublicKeyError(
            f"Airflow connection '{telnyx_conn_id}' has no '{PUBLIC_KEY_EXTRA}' extra; add the Telnyx "
            "webhook public key (Account settings > Keys & Credentials) or pass public_key."
        )
    return str(key)


def load_public_key(public_key: str) -> Ed25519PublicKey:
    """
    Parse a base64 Ed25519 public key (32 raw bytes, as Telnyx shows it).

    :raises WebhookPublicKeyError: not base64, or not 32 bytes.
    """
    try:
        raw = base64.b64decode(public_key.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookPublicKeyError("The webhook public key is not valid base64.") from None
    if len(raw) != 32:
        raise WebhookPublicKeyError(f"The webhook public key decodes to {len(raw)} bytes; an Ed25519 key has 32.")
    return Ed25519PublicKey.from_public_bytes(raw)


def _fingerprint(public_key: str) -> str:
    # Enough of the key to tell two keys apart in an error message, without printing it whole.
    stripped = public_key.strip()
    return f"{stripped[:6]}...{stripped[-4:]}"


def _read_headers(headers: Mapping[str, str]) -> tuple[int, bytes]:
    lowered = {str(name).lower(): value for name, value in headers.items()}
    signature_text = lowered.get(SIGNATURE_HEADER)
    timestamp_text = lowered.get(TIMESTAMP_HEADER)
    if not signature_text or not timestamp_text:
        missing = [name for name in (SIGNATURE_HEADER, TIMESTAMP_HEADER) if not lowered.get(name)]
        raise WebhookHeaderError(f"The webhook lacks the header(s) {', '.join(missing)}; it was not signed by Telnyx.")
    timestamp_text = str(timestamp_text).strip()
    if not timestamp_text.isdigit():
        raise WebhookHeaderError(f"The {TIMESTAMP_HEADER} header is not a Unix timestamp: {timestamp_text[:40]!r}.")
    try:
        signature = base64.b64decode(str(signature_text).strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookHeaderError(f"The {SIGNATURE_HEADER} header is not valid base64.") from None
    if len(signature) != 64:
        raise WebhookHeaderError(
            f"The {SIGNATURE_HEADER} header decodes to {len(signature)} bytes; an Ed25519 signature has 64."
        )
    return int(timestamp_text), signature


def verify_webhook(
    payload: bytes | str,
    headers: Mapping[str, str],
    public_key: str | None = None,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
    telnyx_conn_id: str = "telnyx_fax_default",
) -> dict[str, Any]:
    """
    Verify a Telnyx webhook and return the parsed event (``{"data": {...}, "meta": {...}}``).

    Checks run in this order, each failing with its own :class:`WebhookVerificationError` subclass:
    headers present and well-formed (:class:`WebhookHeaderError`), public key well-formed
    (:class:`WebhookPublicKeyError`), signature over ``f"{timestamp}|{payload}"``
    (:class:`WebhookSignatureError`: the body or timestamp was changed, or the key is not the one
    that signed it), timestamp within ``tolerance`` of ``now`` (:class:`WebhookTimestampError`: a
    genuine but old webhook, e.g. a replay), and the body being a JSON event
    (:class:`WebhookPayloadError`). The signature is checked before the age, so a stale-timestamp
    error always means a genuine message that arrived too late.

    :param payload: the raw request body, byte for byte as received (not re-serialised JSON).
    :param headers: the request headers; names are matched case-insensitively.
    :param public_key: the base64 Ed25519 public key; when ``None``, the ``public_key`` extra of
        the connection ``telnyx_conn_id``.
    :param tolerance: the largest accepted difference between ``telnyx-timestamp`` and ``now``, in seconds.
    :param now: the current Unix time (for tests); defaults to ``time.time()``.
    :param telnyx_conn_id: the connection holding the key when ``public_key`` is not given.
    :raises WebhookVerificationError: the webhook must not be trusted.
    """
    body = payload.encode() if isinstance(payload, str) else bytes(payload)
    timestamp, signature = _read_headers(headers)
    key_text = public_key if public_key is not None else public_key_from_connection(telnyx_conn_id)
    key = load_public_key(key_text)
    try:
        key.verify(signature, str(timestamp).encode() + b"|" + body)
    except InvalidSignature:
        raise WebhookSignatureError(
            f"The webhook signature does not match its body ({len(body)} bytes) and timestamp {timestamp} "
            f"under public key {_fingerprint(key_text)}: the body or timestamp was changed, or the key is "
            "not the one of the Telnyx account that sent it."
        ) from None
    current = time.time() if now is None else now
    age = current - timestamp
    if abs(age) > tolerance:
        direction = "old" if age > 0 else "in the future"
        raise WebhookTimestampError(
            f"The webhook timestamp {timestamp} is {abs(age):.0f}s {direction}, beyond the {tolerance}s "
            "tolerance: refusing a possible replay."
        )
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise WebhookPayloadError("The webhook body is signed but is not JSON.") from None
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise WebhookPayloadError("The webhook body is signed JSON but not a Telnyx event (no 'data' object).")
    return event
