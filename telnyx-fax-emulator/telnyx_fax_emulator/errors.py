"""Telnyx-shaped error bodies (``{"errors": [{code, title, detail, source}]}``) for the emulator."""

from __future__ import annotations

import json
from typing import Any

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

    @property
    def text(self) -> str:
        """Every error's detail in one line, for a person (the inbox shows it)."""
        return " ".join(str(item.get("detail") or item.get("title") or "") for item in self.errors).strip()


def errors_body(errors: list[dict[str, Any]]) -> bytes:
    """The JSON body Telnyx answers errors with."""
    return json.dumps({"errors": errors}, separators=(",", ":")).encode()


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


def invalid_control(detail: str) -> ApiError:
    """A control request (``/_emulator``, or an inbox form) the emulator cannot act on."""
    return ApiError(422, [error_item(BAD_REQUEST, "Invalid control request", detail)])


def forbidden(detail: str) -> ApiError:
    return ApiError(403, [error_item("403", "Forbidden", detail)])


def too_many_faxes_in_flight(limit: int) -> ApiError:
    """Telnyx's refusal when the account already has ``limit`` outbound faxes in processing."""
    detail = f"There is a limit for outbound faxes of {limit} faxes being processed at the same time"
    return ApiError(429, [error_item(TOO_MANY_REQUESTS, "Too many faxes in processing", detail)])


_TITLES = {
    MISSING_PARAMETER: "Missing required parameter",
    INVALID_PHONE_NUMBER: "Invalid phone number",
}
