"""``/v2/fax_applications`` routes: list, view and update the account's Fax Application."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response  # noqa: TC002 (FastAPI reads route annotations at runtime)

from telnyx_fax_emulator.bodies import FieldErrors, parse_body
from telnyx_fax_emulator.errors import BAD_REQUEST, ApiError, error_item
from telnyx_fax_emulator.web import backend_of, json_response, page_meta, query_page

router = APIRouter()

SORT_KEYS = ("created_at", "application_name", "active")
NAME_FILTER = "filter[application_name][contains]"


def bad_query(detail: str, parameter: str) -> ApiError:
    # The contract declares 400, not 422, for a bad query on this list.
    return ApiError(400, [error_item(BAD_REQUEST, "Invalid parameter", detail, parameter=parameter)])


@router.get("/v2/fax_applications")
async def list_fax_applications(request: Request) -> Response:
    backend = backend_of(request)
    params = request.query_params
    try:
        page_number, page_size = query_page(params)
    except ApiError as exc:
        raise ApiError(400, exc.errors) from None
    name = params.get(NAME_FILTER)
    if name is not None and len(name) < 3:
        raise bad_query(f"{NAME_FILTER} needs at least three characters.", NAME_FILTER)
    sort = params.get("sort", "created_at")
    if sort.removeprefix("-") not in SORT_KEYS:
        raise bad_query(f"sort must be one of {', '.join(SORT_KEYS)}, optionally with a leading '-'.", "sort")
    matching = backend.fax_applications(
        name_contains=name, outbound_voice_profile_id=params.get("filter[outbound_voice_profile_id]")
    )
    page = matching[(page_number - 1) * page_size : page_number * page_size]
    data = [application.to_api(backend.settings) for application in page]
    return json_response({"data": data, "meta": page_meta(page_number, page_size, len(matching))})


@router.get("/v2/fax_applications/{application_id}")
async def view_fax_application(application_id: str, request: Request) -> Response:
    backend = backend_of(request)
    return json_response({"data": backend.fax_application(application_id).to_api(backend.settings)})


@router.patch("/v2/fax_applications/{application_id}")
async def update_fax_application(application_id: str, request: Request) -> Response:
    backend = backend_of(request)
    backend.fax_application(application_id)  # an unknown id is a 404 whatever the body
    changes = application_changes((await parse_body(request, file_fields=())).fields)
    application = backend.update_fax_application(application_id, changes, time.time())
    return json_response({"data": application.to_api(backend.settings)})


def application_changes(fields: dict[str, Any]) -> dict[str, Any]:
    """``Backend.update_fax_application``'s changes from a PATCH body: only the fields given (a partial update).

    The contract lists ``application_name`` and ``webhook_event_url`` as required; the emulator takes
    either alone, so a test can change one setting. ``null`` clears a channel limit, the failover URL or
    the webhook timeout; an empty string clears a webhook URL. Fields it does not model are ignored.

    :raises ApiError: 422 naming every bad field at once.
    """
    check = FieldErrors()
    changes: dict[str, Any] = {}
    if "application_name" in fields:
        name = check.string(fields, "application_name", required=True)
        if name is not None:
            changes["application_name"] = name
    if "active" in fields:
        changes["active"] = check.boolean(fields, "active", True)
    if "tags" in fields:
        tags = fields["tags"]
        if isinstance(tags, list) and all(isinstance(tag, str) for tag in tags):
            changes["tags"] = list(tags)
        else:
            check.invalid("tags", "The 'tags' parameter must be a list of strings.")
    for name, nullable in (("webhook_event_url", False), ("webhook_event_failover_url", True)):
        if name not in fields:
            continue
        if fields[name] == "" or (nullable and fields[name] is None):
            changes[name] = None
        elif (url := check.url(fields, name)) is not None:
            changes[name] = url
        elif fields[name] is None:
            check.invalid(name, f"The '{name}' parameter must be a URL (an empty string clears it).")
    if "webhook_timeout_secs" in fields:
        changes["webhook_timeout_secs"] = check.integer(fields, "webhook_timeout_secs", 0, 30)
    for direction in ("inbound", "outbound"):
        if direction in fields:
            changes.update(_direction_changes(check, fields[direction], direction))
    check.raise_if_any()
    return changes


def _direction_changes(check: FieldErrors, section: Any, direction: str) -> dict[str, Any]:
    if not isinstance(section, dict):
        check.invalid(direction, f"The '{direction}' parameter must be an object.")
        return {}
    changes: dict[str, Any] = {}
    if "channel_limit" in section:
        limit = section["channel_limit"]
        if limit is None or (isinstance(limit, int) and not isinstance(limit, bool) and limit >= 1):
            changes[f"{direction}_channel_limit"] = limit
        else:
            detail = f"The '{direction}.channel_limit' parameter must be a whole number of calls from 1, or null."
            check.invalid(f"{direction}/channel_limit", detail)
    if direction == "outbound" and "outbound_voice_profile_id" in section:
        profile = section["outbound_voice_profile_id"]
        if isinstance(profile, str) and profile.strip():
            changes["outbound_voice_profile_id"] = profile
        else:
            check.invalid(
                "outbound/outbound_voice_profile_id", "The 'outbound.outbound_voice_profile_id' must be an id."
            )
    return changes
