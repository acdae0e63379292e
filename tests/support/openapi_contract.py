"""Check HTTP traffic against the published Telnyx Fax API contract (``contract/telnyx-fax-openapi.json``).

Shared by the emulator tests and the hook tests. Any base URL works: ``http://127.0.0.1:PORT/v2/...``
is mapped onto the spec's server ``https://api.telnyx.com/v2``.

What is checked beyond the file itself:

- Strict objects. The spec's ``Fax``, ``MediaResource``, ``PaginationMeta`` and error objects do not
  forbid extra properties, so a typo'd field would pass unnoticed. We validate against a copy where
  they do (``additionalProperties: false``), allowing only the newer fields the SDK documents
  (see ``contract/SOURCE.md``): nullable ``failure_reason`` / ``internal_failure_reason``
  on ``Fax``; on the ``fax.failed`` webhook, ``failure_reason`` as a free string plus
  ``internal_failure_reason``. Pass ``strict=False`` for the file exactly as published.
- Nested deepObject query parameters. openapi-core (0.23) parses only one bracket level
  (``page[size]`` works, ``filter[to][eq]`` does not: it reads ``{"to": "+1..."}`` and then fails to
  cast a string to an object). :func:`validate_request` therefore hands openapi-core every parameter
  except the nested ones, and validates those itself against the parameter's schema with the same
  JSON Schema validator, so they are checked rather than skipped.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_schema_validator import OAS31Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

if TYPE_CHECKING:
    import requests

SPEC_PATH = Path(__file__).resolve().parents[2] / "contract" / "telnyx-fax-openapi.json"
SPEC_HOST = "https://api.telnyx.com"
API_PREFIX = "/v2"

# Newer fields documented by the official SDK but absent from the spec extract (SOURCE.md).
NEWER_FAX_FIELDS = {
    "failure_reason": {"type": ["string", "null"]},
    "internal_failure_reason": {"type": ["string", "null"]},
}
_STRICT_SCHEMAS = ("Fax", "MediaResource", "PaginationMeta", "programmable-fax_Error", "media-storage_Error")
_NESTED_KEY = re.compile(r"^([A-Za-z_]+)((?:\[[^\]]*\]){2,})$")


class ContractViolation(AssertionError):
    """Traffic that does not match the API contract."""


@functools.cache
def load_spec(strict: bool = True) -> dict[str, Any]:
    """The spec as a dict; ``strict`` forbids properties beyond the spec plus the newer fields."""
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    if not strict:
        return spec
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    schemas["Fax"]["properties"].update(copy.deepcopy(NEWER_FAX_FIELDS))
    for name in _STRICT_SCHEMAS:
        schemas[name]["additionalProperties"] = False
    failed_payload = schemas["FaxFailed"]["properties"]["data"]["properties"]["payload"]["properties"]
    failed_payload["failure_reason"] = {"type": "string", "description": "free string in the SDK"}
    failed_payload["internal_failure_reason"] = {"type": ["string", "null"]}
    return spec


@functools.cache
def openapi(strict: bool = True) -> OpenAPI:
    """The openapi-core validator, built once per process (about half a second)."""
    return OpenAPI.from_dict(load_spec(strict))


class _Request:
    """openapi-core's request protocol for a URL on any host."""

    def __init__(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None,
        body: bytes | None,
        content_type: str | None,
        query: list[tuple[str, str]] | None = None,
    ) -> None:
        parts = urlsplit(url)
        prefix = parts.path.find(API_PREFIX + "/")
        if prefix < 0:
            raise ValueError(f"{url} is not a Telnyx API v2 URL (no '{API_PREFIX}/' in its path)")
        self.host_url = SPEC_HOST
        self.path = parts.path[prefix:]
        self.method = method.lower()
        self.body = body
        self.content_type = (content_type or "").lower()
        pairs = parse_qsl(parts.query, keep_blank_values=True) if query is None else query
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(pairs),
            header=Headers(headers or {}),
            cookie=ImmutableMultiDict(),
        )


class _Response:
    def __init__(self, status: int, headers: dict[str, str] | None, body: bytes, content_type: str | None) -> None:
        self.status_code = status
        self.headers = Headers(headers or {})
        self.data = body
        self.content_type = (content_type or "").lower()


def is_api_url(url: str) -> bool:
    return (API_PREFIX + "/") in urlsplit(url).path


def _operation(spec: dict[str, Any], method: str, api_path: str) -> dict[str, Any] | None:
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(API_PREFIX + template)) + "$"
        if re.match(pattern, api_path) and method.lower() in item:
            operation: dict[str, Any] = item[method.lower()]
            return operation
    return None


def _cast(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def _validate_nested_deep_objects(
    spec: dict[str, Any], method: str, api_path: str, pairs: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Validate ``name[a][b]=v`` parameters ourselves; return the pairs openapi-core can handle."""
    nested: dict[str, dict[str, Any]] = {}
    rest: list[tuple[str, str]] = []
    for key, value in pairs:
        match = _NESTED_KEY.match(key)
        if match is None:
            rest.append((key, value))
            continue
        path = re.findall(r"\[([^\]]*)\]", match.group(2))
        node = nested.setdefault(match.group(1), {})
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    if not nested:
        return rest
    operation = _operation(spec, method, api_path) or {}
    params = {param.get("name"): param for param in operation.get("parameters", [])}
    for name, value in nested.items():
        param = params.get(name)
        if param is None or param.get("in") != "query" or param.get("style") != "deepObject":
            raise ContractViolation(f"query parameter {name}[...] is not a deepObject parameter of this operation")
        schema = param["schema"]

        def cast_tree(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
            props = schema.get("properties", {})
            return {
                key: cast_tree(val, props.get(key, {})) if isinstance(val, dict) else _cast(val, props.get(key, {}))
                for key, val in node.items()
            }

        candidate = cast_tree(value, schema)
        validator = OAS31Validator(schema, format_checker=OAS31Validator.FORMAT_CHECKER)
        problems = [
            f"{'/'.join(map(str, err.path)) or name}: {err.message}" for err in validator.iter_errors(candidate)
        ]
        if problems:
            raise ContractViolation(f"query parameter {name}: {'; '.join(problems)}")
    return rest


def validate_request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
    strict: bool = True,
) -> None:
    """Check a request against the contract (path, method, parameters, security, body).

    :raises ContractViolation: describing what does not match.
    """
    spec = load_spec(strict)
    parts = urlsplit(url)
    api_path = parts.path[parts.path.find(API_PREFIX + "/") :]
    pairs = _validate_nested_deep_objects(spec, method, api_path, parse_qsl(parts.query, keep_blank_values=True))
    request = _Request(method, url, headers=headers, body=body, content_type=content_type, query=pairs)
    try:
        openapi(strict).validate_request(request)
    except Exception as exc:  # openapi-core raises a family of unrelated types
        raise ContractViolation(f"{method.upper()} {url}: {_describe(exc)}") from exc


def validate_response(
    method: str,
    url: str,
    *,
    status: int,
    headers: dict[str, str] | None = None,
    body: bytes,
    content_type: str | None,
    strict: bool = True,
) -> None:
    """Check a response (status, content type, body schema) against the contract.

    :raises ContractViolation: describing what does not match.
    """
    request = _Request(method, url, headers=None, body=None, content_type=None, query=[])
    if _is_declared_binary(load_spec(strict), method, request.path, status, content_type):
        # openapi-core 0.23 cannot validate raw bytes against ``{type: string, format: binary}`` (it
        # rejects bytes as "not of type string"); any bytes are a valid binary string, so checking the
        # status and media type against the declared response is the whole check.
        return
    response = _Response(status, headers, body, content_type)
    try:
        openapi(strict).validate_response(request, response)
    except Exception as exc:
        raise ContractViolation(f"{method.upper()} {url} -> {status}: {_describe(exc)}\n{body[:2000]!r}") from exc


def _is_declared_binary(
    spec: dict[str, Any], method: str, api_path: str, status: int, content_type: str | None
) -> bool:
    operation = _operation(spec, method, api_path)
    if operation is None:
        return False
    responses = operation.get("responses", {})
    declared = responses.get(str(status)) or responses.get("default") or {}
    mimetype = (content_type or "").split(";")[0].strip().lower()
    schema = declared.get("content", {}).get(mimetype, {}).get("schema", {})
    return schema.get("type") == "string" and schema.get("format") == "binary"


def validate_webhook(body: bytes, *, strict: bool = True) -> bool:
    """Check a webhook body against the spec's webhook of its ``event_type``.

    Returns False (unchecked) for event types the spec does not define: the inbound
    ``fax.receiving.started``, ``fax.media.processing.started`` and ``fax.received``.

    :raises ContractViolation: when a defined event does not match.
    """
    spec = load_spec(strict)
    event_type = json.loads(body)["data"]["event_type"]
    webhook = spec.get("webhooks", {}).get(event_type)
    if webhook is None:
        return False
    schema = webhook["post"]["requestBody"]["content"]["application/json"]["schema"]
    validator = OAS31Validator(
        {**schema, "components": spec["components"]}, format_checker=OAS31Validator.FORMAT_CHECKER
    )
    problems = [f"{'/'.join(map(str, err.path))}: {err.message}" for err in validator.iter_errors(json.loads(body))]
    if problems:
        raise ContractViolation(f"webhook {event_type}: {'; '.join(problems)}")
    return True


def assert_conforms(response: requests.Response, *, strict: bool = True) -> None:
    """Validate a ``requests`` response to a ``/v2`` URL against the contract.

    :raises ValueError: when the response is not for a ``/v2`` URL (control API, inbound files).
    """
    request = response.request
    validate_response(
        str(request.method),
        str(request.url),
        status=response.status_code,
        headers=dict(response.headers),
        body=response.content,
        content_type=response.headers.get("content-type", ""),
        strict=strict,
    )


def conformance_hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """A ``requests`` response hook: ``session.hooks["response"].append(conformance_hook)``.

    Responses to URLs outside ``/v2/`` (the emulator's control API, inbound file URLs) are not
    part of the contract and pass through unchecked.
    """
    if is_api_url(str(response.request.url)):
        assert_conforms(response)
    return response


def _describe(exc: Exception) -> str:
    parts = [f"{type(exc).__name__}: {str(exc)[:1500]}"]
    cause = exc.__cause__
    while cause is not None and len(parts) < 4:
        parts.append(f"{type(cause).__name__}: {str(cause)[:1500]}")
        cause = cause.__cause__
    return " <- ".join(parts)
