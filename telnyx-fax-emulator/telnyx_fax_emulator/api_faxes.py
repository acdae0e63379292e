"""``/v2/faxes`` routes: send, view, list, delete, cancel and refresh faxes."""

from __future__ import annotations

import json
import math
import re
import secrets
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.responses import Response

from telnyx_fax_emulator import outcomes
from telnyx_fax_emulator.bodies import FieldErrors, parse_body
from telnyx_fax_emulator.documents import DocumentInfo, inspect_document, inspect_url
from telnyx_fax_emulator.errors import BAD_REQUEST, ApiError, error_item, not_found, unprocessable
from telnyx_fax_emulator.state import FaxRecord

if TYPE_CHECKING:
    from telnyx_fax_emulator.app import Runtime

router = APIRouter()

QUALITIES = ("normal", "high", "very_high", "ultra_light", "ultra_dark")
_DISPLAY_NAME_RE = re.compile(r"^[A-Za-z0-9 \-_~!.+]{1,128}$")
_OK = b'{"data":{"result":"ok"}}'


def json_response(payload: Any, status: int = 200) -> Response:
    # Pre-serialised bytes instead of pydantic models: this is the benchmarked hot path.
    return Response(json.dumps(payload, separators=(",", ":")).encode(), status, media_type="application/json")


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.post("/v2/faxes")
async def send_fax(request: Request) -> Response:
    runtime = runtime_of(request)
    body = await parse_body(request, file_fields=("contents",))
    fields = body.fields
    check = FieldErrors()
    connection_id = check.string(fields, "connection_id", required=True)
    from_ = check.phone(fields, "from")
    to = check.phone(fields, "to", allow_sip=True)
    media_url = check.url(fields, "media_url", schemes=("http", "https", "file"))
    media_name = check.string(fields, "media_name")
    contents = body.files.get("contents")
    quality = check.choice(fields, "quality", QUALITIES) or "high"
    check.choice(fields, "preview_format", ("pdf", "tiff"))
    client_state = check.base64_string(fields, "client_state")
    webhook_url = check.url(fields, "webhook_url")
    webhook_failover_url = check.url(fields, "webhook_failover_url")
    store_media = check.boolean(fields, "store_media", False)
    for flag, default in (("monochrome", False), ("store_preview", False), ("t38_enabled", True)):
        check.boolean(fields, flag, default)
    check.integer(fields, "black_threshold", 1, 100)
    display_name = check.string(fields, "from_display_name")
    if display_name is not None and not _DISPLAY_NAME_RE.match(display_name):
        check.invalid(
            "from_display_name",
            "from_display_name allows up to 128 letters, numbers, spaces and -_~!.+ characters.",
        )
    if connection_id is not None and connection_id != runtime.settings.connection_id:
        check.invalid("connection_id", f"Connection '{connection_id}' is not a Fax Application on this account.")

    sources = [name for name, value in (("media_url", media_url), ("media_name", media_name)) if value]
    if contents is not None:
        sources.append("contents")
    if body.multipart and contents is None:
        check.missing("contents")
    elif not sources:
        check.add(
            "10004",
            "Missing required parameter",
            "One of media_url, media_name or contents is required.",
            "media_url",
        )
    elif len(sources) > 1:
        check.invalid(sources[1], f"{' and '.join(sources)} can't be submitted together.")
    if store_media and media_name:
        check.invalid("store_media", "store_media does not support media_name; they can't be submitted together.")
    check.raise_if_any()
    assert connection_id is not None
    assert from_ is not None
    assert to is not None

    now = time.time()
    # What the inbox shows as the fax's document (a reference, not a copy).
    kept_document = contents[2] if contents is not None else None
    if media_name:
        media = runtime.store.live_media(media_name, now)
        if media is None:
            raise unprocessable(f"Media '{media_name}' was not found in media storage.", pointer="/media_name")
        document: DocumentInfo = inspect_document(media.content)
        kept_document = media.content
    elif contents is not None:
        document = inspect_document(contents[2])
    else:
        assert media_url is not None
        document = await inspect_url(media_url)

    number_outcome = runtime.outcomes.next_for(to)
    # The document is processed before any call is placed, so its failures come first.
    outcome = document.failure if number_outcome not in outcomes.MEDIA_FAILURES and document.failure else number_outcome
    start = time.time()
    failed = outcome not in (outcomes.DELIVERED, outcomes.STAYS_SENDING)
    fax = FaxRecord(
        id=runtime.store.new_id(),
        direction="outbound",
        connection_id=connection_id,
        from_=from_,
        to=to,
        created_at=start,
        timeline=outcomes.outbound_timeline(start, outcome, document.page_count, runtime.settings.speed),
        page_count=document.page_count,
        outcome=outcome,
        failure_reason=outcome if failed else None,
        internal_failure_reason=outcomes.internal_failure_reason(outcome) if failed else None,
        media_url=media_url,
        media_name=media_name,
        quality=quality,
        client_state=client_state,
        webhook_url=webhook_url,
        webhook_failover_url=webhook_failover_url,
        from_display_name=display_name,
        store_media=store_media,
        document=kept_document,
        document_content_type=document.content_type,
        document_name=contents[0] if contents is not None else media_name or _url_file_name(media_url),
    )
    runtime.store.add_fax(fax)
    runtime.dispatcher.schedule(fax)
    return json_response({"data": fax.to_api(start, runtime.root_for(request))}, 202)


def _url_file_name(url: str | None) -> str | None:
    return (urlsplit(url).path.rsplit("/", 1)[-1] or None) if url else None


def _query_datetime(params: Any, key: str) -> datetime | None:
    value = params.get(key)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise unprocessable(f"'{value}' is not an ISO 8601 date-time.", parameter=key) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _query_int(params: Any, key: str, default: int, low: int, high: int) -> int:
    value = params.get(key)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise unprocessable(f"{key} must be an integer between {low} and {high}.", parameter=key)
    return number


@router.get("/v2/faxes")
async def list_faxes(request: Request) -> Response:
    runtime = runtime_of(request)
    params = request.query_params
    direction = params.get("filter[direction][eq]")
    if direction is not None and direction not in ("inbound", "outbound"):
        raise unprocessable("filter[direction][eq] must be inbound or outbound.", parameter="filter[direction][eq]")
    to = params.get("filter[to][eq]")
    from_ = params.get("filter[from][eq]")
    bounds = {op: _query_datetime(params, f"filter[created_at][{op}]") for op in ("gte", "gt", "lte", "lt")}
    page_number = _query_int(params, "page[number]", 1, 1, 1_000_000)
    page_size = _query_int(params, "page[size]", 20, 1, 250)

    def keep(fax: FaxRecord) -> bool:
        created = datetime.fromtimestamp(fax.created_at, tz=timezone.utc)
        return (
            (direction is None or fax.direction == direction)
            and (to is None or fax.to == to)
            and (from_ is None or fax.from_ == from_)
            and (bounds["gte"] is None or created >= bounds["gte"])
            and (bounds["gt"] is None or created > bounds["gt"])
            and (bounds["lte"] is None or created <= bounds["lte"])
            and (bounds["lt"] is None or created < bounds["lt"])
        )

    matching = [fax for fax in runtime.store.live_faxes_newest_first() if keep(fax)]
    now = time.time()
    root = runtime.root_for(request)
    page = matching[(page_number - 1) * page_size : page_number * page_size]
    meta = {
        "page_number": page_number,
        "page_size": page_size,
        "total_pages": max(1, math.ceil(len(matching) / page_size)),
        "total_results": len(matching),
    }
    return json_response({"data": [fax.to_api(now, root) for fax in page], "meta": meta})


def _live_fax(runtime: Runtime, fax_id: str) -> FaxRecord:
    fax = runtime.store.live_fax(fax_id)
    if fax is None:
        raise not_found(f"Fax '{fax_id}' was not found.")
    return fax


async def view_fax(request: Request) -> Response:
    runtime = runtime_of(request)
    fax = _live_fax(runtime, request.path_params["fax_id"])
    return json_response({"data": fax.to_api(time.time(), runtime.root_for(request))})


# A plain Starlette route: this is the polled hot path, and FastAPI's per-request parameter
# solving is a measurable share of its cost.
router.add_route("/v2/faxes/{fax_id}", view_fax, methods=["GET"])


@router.delete("/v2/faxes/{fax_id}")
async def delete_fax(fax_id: str, request: Request) -> Response:
    fax = _live_fax(runtime_of(request), fax_id)
    # Deleted faxes vanish from the API and send no further webhooks; the control view keeps them.
    fax.deleted_at = time.time()
    return Response(status_code=204)


@router.post("/v2/faxes/{fax_id}/actions/cancel")
async def cancel_fax(fax_id: str, request: Request) -> Response:
    runtime = runtime_of(request)
    fax = _live_fax(runtime, fax_id)
    now = time.time()
    if not fax.is_cancellable(now):
        raise ApiError(
            422,
            [
                error_item(
                    BAD_REQUEST,
                    "Fax cannot be cancelled",
                    f"Only outbound faxes that are queued, media.processed, originated or sending can be "
                    f"cancelled; this fax is {fax.status_at(now)}.",
                )
            ],
        )
    fax.timeline = [*fax.visible_timeline(now), outcomes.Transition("failed", now)]
    fax.outcome = outcomes.SENDER_CANCELED
    fax.failure_reason = outcomes.SENDER_CANCELED
    fax.internal_failure_reason = outcomes.internal_failure_reason(outcomes.SENDER_CANCELED)
    runtime.dispatcher.schedule(fax)
    return Response(_OK, 202, media_type="application/json")


@router.post("/v2/faxes/{fax_id}/actions/refresh")
async def refresh_fax(fax_id: str, request: Request) -> Response:
    runtime = runtime_of(request)
    fax = _live_fax(runtime, fax_id)
    if fax.media_token is not None:
        fax.media_token = secrets.token_urlsafe(24)
        fax.media_token_expires_at = time.time() + outcomes.INBOUND_MEDIA_URL_TTL_SECS / runtime.settings.speed
    return Response(_OK, 200, media_type="application/json")
