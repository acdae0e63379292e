"""Telnyx-shaped error bodies (``{"errors": [{code, title, detail, source}]}``) for the emulator."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

# Telnyx error codes the emulator uses; the HTTP-status-as-code style ("404", "422") is what the
# published spec's own examples show for fax resources, the 100xx codes are Telnyx's documented ones.
AUTHENTICATION_FAILED = "10009"
MISSING_PARAMETER = "10004"
RESOURCE_NOT_FOUND = "10005"
INVALID_PHONE_NUMBER = "10016"
BAD_REQUEST = "10015"
TOO_MANY_REQUESTS = "10011"
UNEXPECTED_ERROR = "10007"

_DOCS = "https://developers.telnyx.com/docs/overview/errors/"


def error_item(
    code: str,
    title: str,
    detail: str,
    *,
    pointer: str | None = None,
    parameter: str | None = None,
) -> dict[str, Any]:
    """Build one entry of an ``errors`` array."""
    item: dict[str, Any] = {"code": code, "title": title, "detail": detail}
    if pointer is not None:
        item["source"] = {"pointer": pointer}
    elif parameter is not None:
        item["source"] = {"parameter": parameter}
    if code.startswith("1"):
        item["meta"] = {"url": _DOCS + code}
    return item


class ApiError(Exception):
    """Raised by route handlers; rendered as a Telnyx error response.

    :param status: HTTP status code of the response.
    :param errors: the ``errors`` array entries (see :func:`error_item`).
    :param headers: extra response headers (e.g. rate-limit headers).
    """

    def __init__(self, status: int, errors: list[dict[str, Any]], headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {errors}")
        self.status = status
        self.errors = errors
        self.headers = headers or {}

    def to_response(self) -> Response:
        return error_response(self.status, self.errors, self.headers)


def error_response(status: int, errors: list[dict[str, Any]], headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=json.dumps({"errors": errors}, separators=(",", ":")).encode(),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def not_found(detail: str = "The requested resource does not exist") -> ApiError:
    return ApiError(404, [error_item(RESOURCE_NOT_FOUND, "Resource not found", detail)])


def unprocessable(
    detail: str, *, pointer: str | None = None, parameter: str | None = None, code: str = BAD_REQUEST
) -> ApiError:
    title = "Invalid parameter" if code == BAD_REQUEST else _TITLES.get(code, "Unprocessable Entity")
    return ApiError(422, [error_item(code, title, detail, pointer=pointer, parameter=parameter)])


def unauthenticated() -> ApiError:
    return ApiError(
        401,
        [
            error_item(
                AUTHENTICATION_FAILED,
                "Authentication failed",
                "Could not understand the provided credentials.",
            )
        ],
    )


_TITLES = {
    MISSING_PARAMETER: "Missing required parameter",
    INVALID_PHONE_NUMBER: "Invalid phone number",
}
