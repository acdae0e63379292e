"""The control API under ``/_emulator/``: no auth, meant for tests, demos and the operator's console."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response  # noqa: TC002 (FastAPI reads route annotations at runtime)

from telnyx_fax_emulator.account_controls import UNCHANGED
from telnyx_fax_emulator.bodies import INBOUND_FILE_FIELDS, inbound_arguments, parse_body
from telnyx_fax_emulator.errors import invalid_control
from telnyx_fax_emulator.web import backend_of, json_response

router = APIRouter(prefix="/_emulator")


async def _json(request: Request) -> dict[str, Any]:
    return (await parse_body(request, file_fields=())).fields


@router.get("/info")
async def info(request: Request) -> Response:
    return json_response({"data": backend_of(request).info()})


@router.post("/reset")
async def reset(request: Request) -> Response:
    backend_of(request).reset()
    return json_response({"data": {"result": "ok"}})


@router.get("/outcomes")
async def get_outcomes(request: Request) -> Response:
    return json_response({"data": backend_of(request).outcome_table()})


@router.post("/outcomes")
@router.put("/outcomes")
async def set_outcomes(request: Request) -> Response:
    """Body ``{"number": "+1...", "outcome": "user_busy"}`` or ``{"outcomes": {number: outcome}}``."""
    backend = backend_of(request)
    body = await _json(request)
    updates = body.get("outcomes") if "outcomes" in body else {body.get("number"): body.get("outcome")}
    if not isinstance(updates, dict) or not updates:
        raise invalid_control("send {'number': ..., 'outcome': ...} or {'outcomes': {number: outcome}}")
    for number, spec in updates.items():
        backend.set_outcome(number, spec)
    return json_response({"data": backend.outcome_table()})


@router.delete("/outcomes/{number}")
async def delete_outcome(number: str, request: Request) -> Response:
    backend = backend_of(request)
    backend.remove_outcome(number)
    return json_response({"data": backend.outcome_table()})


@router.get("/faults")
async def list_faults(request: Request) -> Response:
    return json_response({"data": [fault.to_dict() for fault in backend_of(request).faults.active()]})


@router.post("/faults")
async def add_fault(request: Request) -> Response:
    """Body ``{"method": "POST", "path": "/v2/faxes", "kind": "drop", "count": 1, ...options}``."""
    body = await _json(request)
    options = {key: value for key, value in body.items() if key not in ("method", "path", "kind", "count")}
    fault = backend_of(request).add_fault(
        str(body.get("method", "*")), str(body.get("path", "")), str(body.get("kind", "")),
        body.get("count", 1), **options,
    )  # fmt: skip
    return json_response({"data": fault.to_dict()}, 201)


@router.delete("/faults")
async def clear_faults(request: Request) -> Response:
    backend_of(request).clear_faults()
    return json_response({"data": []})


@router.get("/rate-limit")
async def get_rate_limit(request: Request) -> Response:
    bucket = backend_of(request).rate_limiter
    return json_response({"data": {"requests_per_second": bucket.rate if bucket else None}})


@router.post("/rate-limit")
@router.put("/rate-limit")
async def set_rate_limit(request: Request) -> Response:
    """Body ``{"requests_per_second": 5}``; ``null`` removes the limit."""
    rate = backend_of(request).set_rate_limit((await _json(request)).get("requests_per_second"))
    return json_response({"data": {"requests_per_second": rate}})


@router.get("/speed")
async def get_speed(request: Request) -> Response:
    return json_response({"data": {"speed": backend_of(request).settings.speed}})


@router.post("/speed")
@router.put("/speed")
async def set_speed(request: Request) -> Response:
    """Body ``{"speed": "fast" | "realistic" | 25}``; applies to faxes created from now on."""
    speed = backend_of(request).set_speed((await _json(request)).get("speed"))
    return json_response({"data": {"speed": speed}})


@router.get("/limits")
async def get_limits(request: Request) -> Response:
    return json_response({"data": backend_of(request).limits()})


@router.post("/limits")
@router.put("/limits")
async def set_limits(request: Request) -> Response:
    """Body ``{"busy_lines": false}`` and/or any of ``max_in_flight``, ``channel_limit``,
    ``application_channel_limit``, ``profile_channel_limit``, ``daily_page_budget`` (``null`` or 0: no limit)."""
    body = await _json(request)
    counted = {name: value for name, value in body.items() if name != "busy_lines"}
    limits = backend_of(request).set_limits(busy_lines=body.get("busy_lines", UNCHANGED), **counted)
    return json_response({"data": limits})


@router.get("/channels")
async def channels(request: Request) -> Response:
    """Calls up now against the limits, the exact peak, dials and refusals (see ``Backend.channel_report``)."""
    return json_response({"data": backend_of(request).channel_report()})


@router.post("/inbound")
async def simulate_inbound(request: Request) -> Response:
    """A fax arrives: multipart (``from``, ``to``, file ``document``) or JSON with ``document_base64``."""
    backend = backend_of(request)
    body = await parse_body(request, file_fields=INBOUND_FILE_FIELDS)
    fax = backend.simulate_inbound(**inbound_arguments(body))
    return json_response({"data": fax.to_control(fax.created_at, backend.root_url)}, 201)


@router.get("/faxes")
async def control_faxes(request: Request) -> Response:
    backend = backend_of(request)
    now = time.time()
    faxes = backend.store.all_faxes_newest_first()
    return json_response({"data": [fax.to_control(now, backend.root_url) for fax in faxes]})


@router.get("/faxes/{fax_id}")
async def control_fax(fax_id: str, request: Request) -> Response:
    backend = backend_of(request)
    fax = backend.any_fax(fax_id)
    data = fax.to_control(time.time(), backend.root_url)
    data["events"] = [event.to_control() for event in backend.store.events_for(fax_id)]
    return json_response({"data": data})


@router.get("/events")
async def control_events(request: Request, fax_id: str | None = None) -> Response:
    events = backend_of(request).store.events
    return json_response({"data": [event.to_control() for event in events if fax_id is None or event.fax_id == fax_id]})


@router.get("/requests")
async def control_requests(request: Request, limit: int = 1000) -> Response:
    store = backend_of(request).store
    entries = list(store.requests)[-limit:] if limit > 0 else []
    return json_response({"data": {"entries": entries, "counts": dict(store.request_counts)}})
