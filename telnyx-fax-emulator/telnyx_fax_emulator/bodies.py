"""Reading request bodies the way Telnyx answers them: size-capped, and bad input is a 4xx, never a 500."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telnyx_fax_emulator.documents import MAX_UPLOAD_BYTES, UploadedFile
from telnyx_fax_emulator.errors import (
    BAD_REQUEST,
    INVALID_PHONE_NUMBER,
    MISSING_PARAMETER,
    ApiError,
    error_item,
)
from telnyx_fax_emulator.numbers import is_destination, is_e164

if TYPE_CHECKING:
    from starlette.requests import Request

# Room for multipart boundaries and the other form fields next to a maximum-size file.
_MULTIPART_SLACK = 256 * 1024
_JSON_LIMIT = 1024 * 1024


@dataclass
class ParsedBody:
    """Form or JSON fields, plus uploaded files."""

    fields: dict[str, Any]
    files: dict[str, UploadedFile]
    multipart: bool


def too_large(detail: str) -> ApiError:
    return ApiError(413, [error_item("413", "Payload Too Large", detail)])


def malformed(detail: str = "The request failed because it was not well-formed.") -> ApiError:
    return ApiError(400, [error_item(BAD_REQUEST, "Bad Request", detail, pointer="/")])


async def _read_capped(request: Request, limit: int) -> bytes:
    """Read the whole body but keep at most ``limit`` bytes.

    The rest is drained rather than refused mid-upload, so the client reads our error response
    instead of seeing a reset connection.
    """
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise too_large(f"The request body is larger than the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB allowed.")
    return b"".join(chunks)


async def parse_body(request: Request, file_fields: tuple[str, ...]) -> ParsedBody:
    """Parse a JSON object or a multipart form whose ``file_fields`` may carry files."""
    content_type = request.headers.get("content-type", "application/json").lower()
    if content_type.startswith("multipart/form-data"):
        raw = await _read_capped(request, MAX_UPLOAD_BYTES + _MULTIPART_SLACK)
        # Starlette re-reads the cached body when parsing the form.
        request._body = raw
        try:
            form = await request.form(max_files=4, max_fields=64)
        except Exception as exc:  # python-multipart raises several unrelated types
            raise malformed(f"The multipart body could not be parsed: {type(exc).__name__}.") from None
        fields: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields[key] = value
            elif key in file_fields:
                data = await value.read()
                if len(data) > MAX_UPLOAD_BYTES:
                    raise too_large(f"The file '{key}' is larger than the 20 MB allowed.")
                files[key] = UploadedFile(value.filename or key, value.content_type or "application/octet-stream", data)
            else:
                fields[key] = (await value.read()).decode("utf-8", "replace")
        await form.close()
        return ParsedBody(fields, files, multipart=True)
    if not (content_type.startswith("application/json") or content_type.startswith("text/json")):
        raise ApiError(
            415,
            [error_item(BAD_REQUEST, "Unsupported Media Type", "Send application/json or multipart/form-data.")],
        )
    raw = await _read_capped(request, _JSON_LIMIT)
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise malformed() from None
    if not isinstance(data, dict):
        raise malformed("The request body must be a JSON object.")
    return ParsedBody(data, {}, multipart=False)


class FieldErrors:
    """Collects validation errors so a response can report all of them, like Telnyx does."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def add(self, code: str, title: str, detail: str, field: str) -> None:
        self.errors.append(error_item(code, title, detail, pointer=f"/{field}"))

    def missing(self, field: str) -> None:
        self.add(MISSING_PARAMETER, "Missing required parameter", f"The '{field}' parameter is required.", field)

    def invalid(self, field: str, detail: str) -> None:
        self.add(BAD_REQUEST, "Invalid parameter", detail, field)

    def raise_if_any(self, status: int = 422) -> None:
        if self.errors:
            raise ApiError(status, self.errors)

    def string(self, fields: dict[str, Any], name: str, *, required: bool = False) -> str | None:
        value = fields.get(name)
        if value is None:
            if required:
                self.missing(name)
            return None
        if not isinstance(value, str):
            self.invalid(name, f"The '{name}' parameter must be a string.")
            return None
        if required and not value.strip():
            self.missing(name)
            return None
        return value

    def phone(self, fields: dict[str, Any], name: str, *, allow_sip: bool = False) -> str | None:
        value = self.string(fields, name, required=True)
        if value is None:
            return None
        if is_destination(value) if allow_sip else is_e164(value):
            return value
        self.add(
            INVALID_PHONE_NUMBER,
            "Invalid phone number",
            f"The '{name}' parameter must be a phone number in +E.164 format.",
            name,
        )
        return None

    def boolean(self, fields: dict[str, Any], name: str, default: bool) -> bool:
        value = fields.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.invalid(name, f"The '{name}' parameter must be a boolean.")
        return default

    def integer(self, fields: dict[str, Any], name: str, low: int, high: int) -> int | None:
        value = fields.get(name)
        if value is None:
            return None
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.invalid(name, f"The '{name}' parameter must be an integer between {low} and {high}.")
            return None
        return value

    def choice(self, fields: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
        value = self.string(fields, name)
        if value is not None and value not in allowed:
            self.invalid(name, f"The '{name}' parameter must be one of: {', '.join(allowed)}.")
            return None
        return value

    def base64_string(self, fields: dict[str, Any], name: str) -> str | None:
        value = self.string(fields, name)
        if value is None:
            return None
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            self.invalid(name, f"The '{name}' parameter must be a valid Base-64 encoded string.")
            return None
        return value

    def url(self, fields: dict[str, Any], name: str, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
        value = self.string(fields, name)
        if value is not None and not any(value.startswith(f"{scheme}://") for scheme in schemes):
            self.invalid(name, f"The '{name}' parameter must be a valid {'/'.join(schemes)} URL.")
            return None
        return value


INBOUND_FILE_FIELDS = ("document", "contents", "file")


def inbound_arguments(body: ParsedBody) -> dict[str, Any]:
    """The arguments of ``Backend.simulate_inbound`` from a control request or the inbox form:
    multipart (``from``, ``to``, file ``document``) or JSON with ``document_base64``.

    :raises ApiError: 422 naming every bad field.
    """
    check = FieldErrors()
    from_ = check.phone(body.fields, "from")
    to = check.phone(body.fields, "to") if "to" in body.fields else None
    webhook_url = check.url(body.fields, "webhook_url")
    # An empty file part counts as no file: an HTML form with no file chosen still sends one.
    uploads = (body.files.get(name) for name in INBOUND_FILE_FIELDS)
    document = next((file for file in uploads if file is not None and file.content), None)
    encoded = body.fields.get("document_base64")
    if document is None and encoded is not None:
        try:
            content = base64.b64decode(str(encoded), validate=True)
        except (binascii.Error, ValueError):
            check.invalid("document_base64", "document_base64 must be valid base64")
        else:
            document = UploadedFile("", str(body.fields.get("content_type") or ""), content)
    check.raise_if_any()
    return {"from_": from_, "to": to, "document": document, "webhook_url": webhook_url}
