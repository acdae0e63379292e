"""``/v2/faxes`` routes: send, view, list, delete, cancel and refresh faxes."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from telnyx_fax_emulator.bodies import FieldErrors, parse_body
from telnyx_fax_emulator.errors import unprocessable
from telnyx_fax_emulator.web import backend_of, json_response, page_meta, query_page

if TYPE_CHECKING:
    from telnyx_fax_emulator.bodies import ParsedBody

router = APIRouter()

QUALITIES = ("normal", "high", "very_high", "ultra_light", "ultra_dark")
_DISPLAY_NAME_RE = re.compile(r"^[A-Za-z0-9 \-_~!.+]{1,128}$")
_OK = b'{"data":{"result":"ok"}}'


@router.post("/v2/faxes")
async def send_fax(request: Request) -> Response:
    backend = backend_of(request)
    arguments = send_fax_arguments(await parse_body(request, file_fields=("contents",)))
    fax = await backend.send_fax(**arguments)
    return json_response({"data": fax.to_api(fax.created_at, backend.root_url)}, 202)


def send_fax_arguments(body: ParsedBody) -> dict[str, Any]:
    """``Backend.send_fax``'s arguments from a JSON or multipart body.

    :raises ApiError: 422 naming every bad field at once, as Telnyx does.
    """
    fields = body.fields
    check = FieldErrors()
    arguments: dict[str, Any] = {
        "connection_id": check.string(fields, "connection_id", required=True),
        "from_": check.phone(fields, "from"),
        "to": check.phone(fields, "to", allow_sip=True),
        "media_url": check.url(fields, "media_url", schemes=("http", "https", "file")),
        "media_name": check.string(fields, "media_name"),
        "contents": body.files.get("contents"),
        "quality": check.choice(fields, "quality", QUALITIES) or "high",
        "client_state": check.base64_string(fields, "client_state"),
        "webhook_url": check.url(fields, "webhook_url"),
        "webhook_failover_url": check.url(fields, "webhook_failover_url"),
        "store_media": check.boolean(fields, "store_media", False),
        "store_preview": check.boolean(fields, "store_preview", False),
        "preview_format": check.choice(fields, "preview_format", ("pdf", "tiff")) or "tiff",
        "from_display_name": check.string(fields, "from_display_name"),
    }
    # Accepted and checked like Telnyx does, but they change nothing the emulator shows.
    for flag, default in (("monochrome", False), ("t38_enabled", True)):
        check.boolean(fields, flag, default)
    check.integer(fields, "black_threshold", 1, 100)
    display_name = arguments["from_display_name"]
    if display_name is not None and not _DISPLAY_NAME_RE.match(display_name):
        check.invalid(
            "from_display_name",
            "from_display_name allows up to 128 letters, numbers, spaces and -_~!.+ characters.",
        )
    sources = [name for name in ("media_url", "media_name", "contents") if arguments[name]]
    if body.multipart and arguments["contents"] is None:
        check.missing("contents")
    elif not sources:
        check.add(
            "10004", "Missing required parameter", "One of media_url, media_name or contents is required.", "media_url"
        )
    elif len(sources) > 1:
        check.invalid(sources[1], f"{' and '.join(sources)} can't be submitted together.")
    if arguments["store_media"] and arguments["media_name"]:
        check.invalid("store_media", "store_media does not support media_name; they can't be submitted together.")
    check.raise_if_any()
    return arguments


def _query_datetime(params: Any, key: str) -> datetime | None:
    value = params.get(key)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise unprocessable(f"'{value}' is not an ISO 8601 date-time.", parameter=key) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@router.get("/v2/faxes")
async def list_faxes(request: Request) -> Response:
    backend = backend_of(request)
    params = request.query_params
    direction = params.get("filter[direction][eq]")
    if direction is not None and direction not in ("inbound", "outbound"):
        raise unprocessable("filter[direction][eq] must be inbound or outbound.", parameter="filter[direction][eq]")
    page_number, page_size = query_page(params)
    matching = backend.list_faxes(
        direction=direction,
        to=params.get("filter[to][eq]"),
        from_=params.get("filter[from][eq]"),
        **{f"created_{op}": _query_datetime(params, f"filter[created_at][{op}]") for op in ("gte", "gt", "lte", "lt")},
    )
    now = time.time()
    page = matching[(page_number - 1) * page_size : page_number * page_size]
    meta = page_meta(page_number, page_size, len(matching))
    return json_response({"data": [fax.to_api(now, backend.root_url) for fax in page], "meta": meta})


async def view_fax(request: Request) -> Response:
    backend = backend_of(request)
    fax = backend.live_fax(request.path_params["fax_id"])
    return json_response({"data": fax.to_api(time.time(), backend.root_url)})


# A plain Starlette route: this is the polled hot path, and FastAPI's per-request parameter
# solving is a measurable share of its cost.
router.add_route("/v2/faxes/{fax_id}", view_fax, methods=["GET"])


@router.delete("/v2/faxes/{fax_id}")
async def delete_fax(fax_id: str, request: Request) -> Response:
    backend_of(request).delete_fax(fax_id)
    return Response(status_code=204)


@router.post("/v2/faxes/{fax_id}/actions/cancel")
async def cancel_fax(fax_id: str, request: Request) -> Response:
    backend_of(request).cancel_fax(fax_id)
    return Response(_OK, 202, media_type="application/json")


@router.post("/v2/faxes/{fax_id}/actions/refresh")
async def refresh_fax(fax_id: str, request: Request) -> Response:
    backend_of(request).refresh_fax(fax_id)
    return Response(_OK, 200, media_type="application/json")
