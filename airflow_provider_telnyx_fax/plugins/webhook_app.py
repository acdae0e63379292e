"""
The FastAPI app behind ``POST /telnyx-fax/webhooks/{conn_id}`` on the api-server.

Airflow does not authenticate plugin apps (apache/airflow#72655), and Telnyx sends no credentials
but its signature: the Ed25519 signature, checked against the connection's ``public_key`` extra
within the timestamp window, is the only gate. So the route reads at most
``[telnyx_fax] webhook_max_body_bytes`` (refusing a larger declared or streamed body before it is
read whole), answers 400 for a malformed request and 401 for one it cannot trust, and writes
nothing to the database until the signature holds. Answers never echo the body, the numbers or
the key; they say only which check failed.

Telnyx does not send an event to the primary URL again after a 5xx, so an event the route could not
record is answered ``503`` with ``Retry-After`` (it goes to the failover URL, if there is one, and
the catch-up listing finds it otherwise). No exception leaves this app: one that did would reach the
api-server's own database error handlers after this app had already answered, and Starlette then
fails the connection with "Caught handled exception, but response already started".
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from airflow_provider_telnyx_fax.assets import CONFIG_SECTION, fax_asset_uri
from airflow_provider_telnyx_fax.plugins.events import FaxEventError, asset_event_extra, event_id_of, event_kind
from airflow_provider_telnyx_fax.plugins.recording import DEFAULT_SEEN_EVENT_IDS, RecordingFailed, record_fax_event
from airflow_provider_telnyx_fax.webhooks import (
    DEFAULT_TOLERANCE_SECONDS,
    PUBLIC_KEY_EXTRA,
    WebhookHeaderError,
    WebhookPayloadError,
    WebhookVerificationError,
    verify_webhook,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 64 * 1024
# Telnyx ignores it; a failover endpoint or a proxy may not. Conflicts clear in well under a second.
RETRY_AFTER_SECONDS = 1
CONN_TYPE = "telnyx_fax"
# Connection ids as Airflow allows them; anything else cannot name a connection and is not looked up.
_CONN_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,250}$")


class BodyTooLarge(Exception):
    """The request body is, or announces itself as, larger than the configured cap."""


def _settings() -> tuple[int, int, int]:
    from airflow.configuration import conf

    return (
        conf.getint(CONFIG_SECTION, "webhook_max_body_bytes", fallback=DEFAULT_MAX_BODY_BYTES),
        conf.getint(CONFIG_SECTION, "webhook_tolerance_seconds", fallback=DEFAULT_TOLERANCE_SECONDS),
        conf.getint(CONFIG_SECTION, "webhook_seen_event_ids", fallback=DEFAULT_SEEN_EVENT_IDS),
    )


async def read_capped_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it is known to exceed ``limit`` bytes (header first, then while streaming)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise HTTPException(400, "Content-Length is not a number.")
        if int(declared) > limit:
            raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            # A chunked body (or one that lies about its length) is cut off here, not buffered whole.
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def public_key_of(conn_id: str) -> str | None:
    """The webhook public key of a Telnyx Fax connection; ``None`` when there is no such connection or key."""
    from airflow.models.connection import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        connection = Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException:
        return None
    if connection.conn_type != CONN_TYPE:
        # Only a Telnyx Fax connection may vouch for Telnyx events (and name their assets).
        return None
    key = connection.extra_dejson.get(PUBLIC_KEY_EXTRA)
    return str(key) if key else None


def _refuse(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"detail": reason}, status_code=status)


def unavailable(reason: str, **fields: Any) -> JSONResponse:
    """The ``503`` of an event that could not be recorded now: Telnyx sends it to the failover URL."""
    return JSONResponse(
        {"detail": reason, **fields}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    # Starlette's outermost middleware sends this answer, then raises the error on; LazyApp logs it and stops it.
    return unavailable("The event could not be handled; it was not recorded.")


def create_app() -> FastAPI:
    app = FastAPI(
        title="Telnyx Fax webhooks",
        description="Signed Telnyx fax events become Airflow asset events.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        exception_handlers={Exception: _unexpected_error},
    )

    @app.post("/webhooks/{conn_id}")
    async def receive_webhook(conn_id: str, request: Request) -> JSONResponse:
        max_body, tolerance, keep = _settings()
        if not _CONN_ID.match(conn_id):
            return _refuse(400, "Not a connection id.")
        try:
            body = await read_capped_body(request, max_body)
        except BodyTooLarge:
            log.warning("Refused a webhook for %s: body over %d bytes", conn_id, max_body)
            return _refuse(413, f"The body exceeds {max_body} bytes.")
        public_key = await run_in_threadpool(public_key_of, conn_id)
        if public_key is None:
            log.warning(
                "Refused a webhook for %s: no Telnyx Fax connection with a '%s' extra", conn_id, PUBLIC_KEY_EXTRA
            )
            return _refuse(401, "The webhook cannot be verified for this connection.")
        try:
            event = verify_webhook(body, request.headers, public_key, tolerance=tolerance)
            event_id = event_id_of(event)
        except (WebhookHeaderError, WebhookPayloadError, FaxEventError) as error:
            log.warning("Refused a webhook for %s: %s", conn_id, type(error).__name__)
            return _refuse(400, type(error).__name__)
        except WebhookVerificationError as error:
            # A bad signature, a stale timestamp or a broken stored key: none of them is to be trusted.
            log.warning("Refused a webhook for %s: %s", conn_id, type(error).__name__)
            return _refuse(401, type(error).__name__)
        kind = event_kind(event)
        if kind is None:
            return JSONResponse({"outcome": "ignored", "event_id": event_id})
        try:
            extra = asset_event_extra(event, conn_id)
        except FaxEventError as error:
            return _refuse(400, type(error).__name__)
        uri = fax_asset_uri(kind, conn_id)
        try:
            result = await run_in_threadpool(record_fax_event, uri, event_id, extra, keep=keep)
        except RecordingFailed as error:
            # The fax id is Telnyx's record id, no personal data; the numbers stay out (they are in extra, masked).
            log.error(
                "Webhook event %s (%s) of fax %s on %s not recorded, answered 503: %s",
                event_id,
                extra["event_type"],
                extra["fax_id"],
                uri,
                error,
                exc_info=error.__cause__,
            )
            return unavailable("The event could not be recorded now.", event_id=event_id)
        if result.outcome == "no_asset":
            # Answered 2xx all the same: Telnyx would only redeliver it, and no redelivery can find an asset
            # that no DAG declares.
            log.warning("No DAG schedules on %s: event %s of type %s not recorded", uri, event_id, extra["event_type"])
        else:
            log.info("Webhook event %s (%s) on %s: %s", event_id, extra["event_type"], uri, result.outcome)
        response: dict[str, Any] = {"outcome": result.outcome, "event_id": event_id, "asset_uri": uri}
        if result.asset_event_id is not None:
            response["asset_event_id"] = result.asset_event_id
        return JSONResponse(response)

    return app
