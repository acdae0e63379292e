"""What every HTTP handler of the emulator shares: the backend behind a request, paging, and response bodies."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from telnyx_fax_emulator.errors import errors_body, unprocessable

if TYPE_CHECKING:
    from starlette.requests import Request

    from telnyx_fax_emulator.backend import Backend


def backend_of(request: Request) -> Backend:
    """The app's backend; the first request teaches it its root URL when the server did not."""
    backend: Backend = request.app.state.backend
    if not backend.root_url:
        backend.root_url = str(request.base_url).rstrip("/")
    return backend


def json_response(payload: Any, status: int = 200) -> Response:
    # Pre-serialised bytes instead of pydantic models: this is the benchmarked hot path.
    return Response(json.dumps(payload, separators=(",", ":")).encode(), status, media_type="application/json")


def error_response(status: int, errors: list[dict[str, Any]], headers: dict[str, str] | None = None) -> Response:
    return Response(errors_body(errors), status, media_type="application/json", headers=headers)


def query_int(params: Any, key: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter; 422 naming it when out of range or not a number."""
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


def query_page(params: Any) -> tuple[int, int]:
    """``page[number]`` (from 1) and ``page[size]`` (1 to 250, default 20), as Telnyx's list routes take them."""
    return query_int(params, "page[number]", 1, 1, 1_000_000), query_int(params, "page[size]", 20, 1, 250)


def page_meta(page_number: int, page_size: int, total: int) -> dict[str, int]:
    """The ``meta`` object (``PaginationMeta``) of a list response."""
    return {
        "page_number": page_number,
        "page_size": page_size,
        "total_pages": max(1, math.ceil(total / page_size)),
        "total_results": total,
    }
