"""The control API under ``/_emulator/``: no auth, meant for tests, demos and the operator's console."""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response  # noqa: TC002 (FastAPI reads route annotations at runtime)

from telnyx_fax_emulator import outcomes
from telnyx_fax_emulator.api_faxes import json_response, runtime_of
from telnyx_fax_emulator.bodies import FieldErrors, parse_body
from telnyx_fax_emulator.documents import inspect_document, placeholder_pdf
from telnyx_fax_emulator.errors import BAD_REQUEST, ApiError, error_item, not_found
from telnyx_fax_emulator.faults import TokenBucket
from telnyx_fax_emulator.settings import parse_speed
from telnyx_fax_emulator.state import FaxRecord

router = APIRouter(prefix="/_emulator")


def _bad(detail: str) -> ApiError:
    return ApiError(422, [error_item(BAD_REQUEST, "Invalid control request", detail)])


async def _json(request: Request) -> dict[str, Any]:
    return (await parse_body(request, file_fields=())).fields


@router.get("/info")
async def info(request: Request) -> Response:
    runtime = runtime_of(request)
    return json_response({"data": runtime.info(request)})


@router.post("/reset")
async def reset(request: Request) -> Response:
    runtime_of(request).reset()
    return json_response({"data": {"result": "ok"}})


@router.get("/outcomes")
async def get_outcomes(request: Request) -> Response:
    return json_response({"data": runtime_of(request).outcomes.table()})


@router.post("/outcomes")
@router.put("/outcomes")
async def set_outcomes(request: Request) -> Response:
    """Body ``{"number": "+1...", "outcome": "user_busy"}`` or ``{"outcomes": {number: outcome}}``."""
    runtime = runtime_of(request)
    body = await _json(request)
    updates = body.get("outcomes") if "outcomes" in body else {body.get("number"): body.get("outcome")}
    if not isinstance(updates, dict) or not updates:
        raise _bad("send {'number': ..., 'outcome': ...} or {'outcomes': {number: outcome}}")
    for number, spec in updates.items():
        if not isinstance(number, str) or not number:
            raise _bad("each outcome needs a destination number")
        try:
            runtime.outcomes.set(number, outcomes.validate_outcome(spec))
        except ValueError as exc:
            raise _bad(str(exc)) from None
    return json_response({"data": runtime.outcomes.table()})


@router.delete("/outcomes/{number}")
async def delete_outcome(number: str, request: Request) -> Response:
    runtime = runtime_of(request)
    runtime.outcomes.remove(number)
    return json_response({"data": runtime.outcomes.table()})


@router.get("/faults")
async def list_faults(request: Request) -> Response:
    return json_response({"data": [fault.to_dict() for fault in runtime_of(request).faults.active()]})


@router.post("/faults")
async def add_fault(request: Request) -> Response:
    """Body ``{"method": "POST", "path": "/v2/faxes", "kind": "drop", "count": 1, ...options}``."""
    body = await _json(request)
    options = {key: value for key, value in body.items() if key not in ("method", "path", "kind", "count")}
    try:
        fault = runtime_of(request).faults.add(
            str(body.get("method", "*")), str(body.get("path", "")), str(body.get("kind", "")),
            body.get("count", 1), **options,
        )  # fmt: skip
    except ValueError as exc:
        raise _bad(str(exc)) from None
    return json_response({"data": fault.to_dict()}, 201)


@router.delete("/faults")
async def clear_faults(request: Request) -> Response:
    runtime_of(request).faults.clear()
    return json_response({"data": []})


@router.get("/rate-limit")
async def get_rate_limit(request: Request) -> Response:
    bucket = runtime_of(request).rate_limiter
    return json_response({"data": {"requests_per_second": bucket.rate if bucket else None}})


@router.post("/rate-limit")
@router.put("/rate-limit")
async def set_rate_limit(request: Request) -> Response:
    """Body ``{"requests_per_second": 5}``; ``null`` removes the limit."""
    runtime = runtime_of(request)
    rate = (await _json(request)).get("requests_per_second")
    if rate is None:
        runtime.rate_limiter = None
    else:
        if not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0:
            raise _bad("requests_per_second must be a positive number or null")
        runtime.rate_limiter = TokenBucket(float(rate))
    return await get_rate_limit(request)


@router.get("/speed")
async def get_speed(request: Request) -> Response:
    return json_response({"data": {"speed": runtime_of(request).settings.speed}})


@router.post("/speed")
@router.put("/speed")
async def set_speed(request: Request) -> Response:
    """Body ``{"speed": "fast" | "realistic" | 25}``; applies to faxes created from now on."""
    runtime = runtime_of(request)
    try:
        runtime.settings.speed = parse_speed((await _json(request)).get("speed"))
    except ValueError as exc:
        raise _bad(str(exc)) from None
    return await get_speed(request)


@router.post("/inbound")
async def simulate_inbound(request: Request) -> Response:
    """A fax arrives: multipart (``from``, ``to``, file ``document``) or JSON with ``document_base64``."""
    runtime = runtime_of(request)
    body = await parse_body(request, file_fields=("document", "contents", "file"))
    check = FieldErrors()
    from_ = check.phone(body.fields, "from")
    to = check.phone(body.fields, "to") if "to" in body.fields else runtime.settings.from_number
    webhook_url = check.url(body.fields, "webhook_url")
    # An empty file part counts as no file: an HTML form with no file chosen still sends one.
    uploads = (body.files.get(name) for name in ("document", "contents", "file"))
    upload = next((file for file in uploads if file is not None and file[2]), None)
    document: bytes | None = upload[2] if upload else None
    content_type = upload[1] if upload else body.fields.get("content_type")
    encoded = body.fields.get("document_base64")
    if document is None and encoded is not None:
        try:
            document = base64.b64decode(str(encoded), validate=True)
        except (binascii.Error, ValueError):
            check.invalid("document_base64", "document_base64 must be valid base64")
    check.raise_if_any()
    assert from_ is not None
    assert to is not None
    document = document if document is not None else placeholder_pdf()
    inspected = inspect_document(document)
    start = time.time()
    speed = runtime.settings.speed
    timeline = outcomes.inbound_timeline(start, inspected.page_count, speed)
    fax = FaxRecord(
        id=runtime.store.new_id(),
        direction="inbound",
        connection_id=runtime.settings.connection_id,
        from_=from_,
        to=to,
        created_at=start,
        timeline=timeline,
        page_count=inspected.page_count,
        outcome="received",
        webhook_url=webhook_url,
        document=document,
        document_content_type=inspected.content_type or (str(content_type) if content_type else None),
        document_name=upload[0] if upload else None,
        media_token=secrets.token_urlsafe(24),
        media_token_expires_at=timeline[-1].at + outcomes.INBOUND_MEDIA_URL_TTL_SECS / speed,
    )
    runtime.store.add_fax(fax)
    runtime.dispatcher.schedule(fax)
    return json_response({"data": fax.to_control(start, runtime.root_for(request))}, 201)


@router.get("/faxes")
async def control_faxes(request: Request) -> Response:
    runtime = runtime_of(request)
    now = time.time()
    root = runtime.root_for(request)
    return json_response({"data": [fax.to_control(now, root) for fax in runtime.store.all_faxes_newest_first()]})


@router.get("/faxes/{fax_id}")
async def control_fax(fax_id: str, request: Request) -> Response:
    runtime = runtime_of(request)
    fax = runtime.store.faxes.get(fax_id)
    if fax is None:
        raise not_found(f"Fax '{fax_id}' was never created.")
    data = fax.to_control(time.time(), runtime.root_for(request))
    data["events"] = [event.to_control() for event in runtime.store.events_for(fax_id)]
    return json_response({"data": data})


@router.get("/events")
async def control_events(request: Request, fax_id: str | None = None) -> Response:
    events = runtime_of(request).store.events
    return json_response({"data": [event.to_control() for event in events if fax_id is None or event.fax_id == fax_id]})


@router.get("/requests")
async def control_requests(request: Request, limit: int = 1000) -> Response:
    store = runtime_of(request).store
    entries = list(store.requests)[-limit:] if limit > 0 else []
    return json_response({"data": {"entries": entries, "counts": dict(store.request_counts)}})
