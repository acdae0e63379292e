"""What every HTTP handler of the emulator shares: the backend behind a request, and response bodies."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from telnyx_fax_emulator.errors import errors_body

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
