"""
The hook against the published API contract, not against our own reading of it.

Every request the hook builds is captured on the wire by the scripted server and validated
with openapi-core; the spec's own example responses are fed back to the hook, which must
parse them (and the newer ``failure_reason`` / ``internal_failure_reason`` fields).
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest
import requests
from openapi_schema_validator import OAS31Validator

from airflow_provider_telnyx_fax.exceptions import (
    TelnyxAPIError,
    TelnyxAuthenticationError,
    TelnyxNotFoundError,
)
from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
from tests.support.api import CONNECTION_ID, FAX_ID, fax_record
from tests.support.openapi_contract import ContractViolation, load_spec, validate_request, validate_response
from tests.support.scripted_server import RecordedRequest

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.support.scripted_server import ScriptedServer

FAX_PATH = f"/v2/faxes/{FAX_ID}"
TO = "+13127367276"
PDF = b"%PDF-1.4\n%%EOF\n"
SPEC = load_spec(strict=False)
SCHEMAS = SPEC["components"]["schemas"]
RESPONSES = SPEC["components"]["responses"]


def example(name: str) -> dict[str, Any]:
    return copy.deepcopy(SCHEMAS[name]["example"])


def operation_example(path: str, method: str, status: str) -> dict[str, Any]:
    content = SPEC["paths"][path][method]["responses"][status]["content"]["application/json"]
    return copy.deepcopy(content["schema"]["example"])


def error_example(response: str, name: str | None = None) -> dict[str, Any]:
    content = RESPONSES[response]["content"]["application/json"]
    return copy.deepcopy(content["examples"][name]["value"] if name else content["example"])


def list_example(total_pages: int = 1) -> dict[str, Any]:
    """The list response the spec describes: ``Fax`` examples plus ``PaginationMeta`` examples."""
    meta_props = SCHEMAS["PaginationMeta"]["properties"]
    meta = {name: prop["example"] for name, prop in meta_props.items()}
    meta.update(page_number=1, total_pages=total_pages)
    return {"data": [example("Fax")], "meta": meta}


FAX_EXAMPLE = example("Fax")
MEDIA_EXAMPLE = example("MediaResource")
MEDIA_NAME = MEDIA_EXAMPLE["media_name"]
ACTION_OK = operation_example("/faxes/{id}/actions/cancel", "post", "202")


def _cast_form_value(value: str, schema: dict[str, Any]) -> Any:
    """Multipart fields are untyped text on the wire; read them as the schema's type, as Telnyx does."""
    kind = schema.get("type")
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    if kind == "integer" and value.lstrip("-").isdigit():
        return int(value)
    return value


def validate_multipart(template: str, request: RecordedRequest) -> None:
    """
    Check a multipart body against the operation's ``multipart/form-data`` schema.

    openapi-core (0.23) validates multipart parts untyped (``"true"`` is not a boolean, file bytes
    are not a string), so it rejects every valid multipart request; this does the same check with
    the same JSON Schema validator after reading each part the way the schema describes it.
    """
    operation = SPEC["paths"][template][request.method.lower()]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    resolved = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    properties = {
        name: SCHEMAS[prop["$ref"].rsplit("/", 1)[-1]] if "$ref" in prop else prop
        for name, prop in resolved["properties"].items()
    }
    document: dict[str, Any] = {}
    problems: list[str] = []
    for name, (filename, content) in request.multipart().items():
        prop = properties.get(name)
        if prop is None:
            problems.append(f"part {name!r} is not in the schema")
        elif prop.get("format") == "binary":
            if filename is None or not content:
                problems.append(f"part {name!r} must be a non-empty file")
            document[name] = "<binary>"
        else:
            document[name] = _cast_form_value(content.decode(), prop)
    validator = OAS31Validator({**resolved, "components": SPEC["components"]})
    problems += [f"{'/'.join(map(str, e.path)) or 'body'}: {e.message}" for e in validator.iter_errors(document)]
    if not str(request.header("authorization") or "").startswith("Bearer "):
        problems.append("no bearer Authorization header")
    if problems:
        raise ContractViolation(f"{request.method} {request.path}: {'; '.join(problems)}")


MULTIPART_OPERATIONS = {"/v2/faxes": "/faxes", "/v2/media": "/media"}


def validate_captured(server: ScriptedServer, request: RecordedRequest) -> None:
    if request.content_type.startswith("multipart/form-data"):
        validate_multipart(MULTIPART_OPERATIONS[request.path], request)
        return
    query = f"?{request.query_string}" if request.query_string else ""
    validate_request(
        request.method,
        f"{server.url}{request.path}{query}",
        headers=request.headers,
        body=request.body or None,
        content_type=request.content_type or None,
    )


# (id, responses to queue as (method, path, status, body), the hook call)
CallCase = tuple[str, list[tuple[str, str, int, Any]], "Callable[[TelnyxFaxHook], Any]"]
SEND_ALL_JSON_FIELDS = {
    "from_number": "+13125790015",
    "connection_id": "234423",
    "quality": "ultra_dark",
    "t38_enabled": False,
    "monochrome": True,
    "black_threshold": 90,
    "store_media": True,
    "store_preview": True,
    "preview_format": "pdf",
    "from_display_name": "Acme Billing",
    "webhook_url": "https://www.example.com/server-b/",
    "client_state": "aGF2ZSBhIG5pY2UgZGF5ID1d",
}
SEND_ALL_MULTIPART_FIELDS = {
    "quality": "normal",
    "t38_enabled": True,
    "monochrome": False,
    "store_media": True,
    "store_preview": True,
}
CALLS: list[CallCase] = [
    (
        "send-by-url-minimal",
        [("POST", "/v2/faxes", 202, {"data": FAX_EXAMPLE})],
        lambda hook: hook.send_fax(TO, media_url="https://www.example.com/fax.pdf"),
    ),
    (
        "send-by-url-every-field",
        [("POST", "/v2/faxes", 202, {"data": FAX_EXAMPLE})],
        lambda hook: hook.send_fax(TO, media_url="https://www.example.com/fax.pdf", **SEND_ALL_JSON_FIELDS),
    ),
    (
        "send-by-media-name-to-sip",
        [("POST", "/v2/faxes", 202, {"data": FAX_EXAMPLE})],
        lambda hook: hook.send_fax("sip:fax@example.com", media_name=MEDIA_NAME),
    ),
    (
        "send-multipart-minimal",
        [("POST", "/v2/faxes", 202, {"data": FAX_EXAMPLE})],
        lambda hook: hook.send_fax(TO, contents=PDF),
    ),
    (
        "send-multipart-every-field",
        [("POST", "/v2/faxes", 202, {"data": FAX_EXAMPLE})],
        lambda hook: hook.send_fax(TO, contents=PDF, filename="a.pdf", **SEND_ALL_MULTIPART_FIELDS),
    ),
    ("get-fax", [("GET", FAX_PATH, 200, {"data": FAX_EXAMPLE})], lambda hook: hook.get_fax(FAX_ID)),
    (
        "list-faxes-plain",
        [("GET", "/v2/faxes", 200, list_example())],
        lambda hook: list(hook.list_faxes()),
    ),
    (
        "list-faxes-every-filter",
        [("GET", "/v2/faxes", 200, list_example())],
        lambda hook: list(
            hook.list_faxes(
                direction="inbound",
                to=TO,
                from_number="+13125790015",
                created_at_gte="2020-02-02T22:25:27.521992Z",
                created_at_gt="2020-02-02T22:25:27Z",
                created_at_lte="2020-02-03T22:25:27.521992Z",
                created_at_lt="2020-02-03T22:25:27Z",
                page_size=10,
            )
        ),
    ),
    (
        "cancel-fax",
        [("POST", f"{FAX_PATH}/actions/cancel", 202, ACTION_OK)],
        lambda hook: hook.cancel_fax(FAX_ID),
    ),
    (
        "refresh-fax",
        [("POST", f"{FAX_PATH}/actions/refresh", 200, ACTION_OK)],
        lambda hook: hook.refresh_fax(FAX_ID),
    ),
    ("delete-fax", [("DELETE", FAX_PATH, 204, None)], lambda hook: hook.delete_fax(FAX_ID)),
    (
        "upload-media-minimal",
        [("POST", "/v2/media", 201, {"data": MEDIA_EXAMPLE})],
        lambda hook: hook.upload_media(PDF),
    ),
    (
        "upload-media-named-with-ttl",
        [("POST", "/v2/media", 201, {"data": MEDIA_EXAMPLE})],
        lambda hook: hook.upload_media(PDF, media_name="my_file", ttl_secs=86400, filename="r.pdf"),
    ),
    (
        "media-exists",
        [("GET", f"/v2/media/{MEDIA_NAME}", 200, {"data": MEDIA_EXAMPLE})],
        lambda hook: hook.media_exists(MEDIA_NAME),
    ),
    (
        "delete-media",
        [("DELETE", f"/v2/media/{MEDIA_NAME}", 204, None)],
        lambda hook: hook.delete_media(MEDIA_NAME),
    ),
    (
        "test-connection",
        [("GET", f"/v2/fax_applications/{CONNECTION_ID}", 200, {"data": example("FaxApplication")})],
        lambda hook: hook.test_connection(),
    ),
    (
        "get-fax-application",
        [("GET", f"/v2/fax_applications/{CONNECTION_ID}", 200, {"data": example("FaxApplication")})],
        lambda hook: hook.get_fax_application(),
    ),
]


@pytest.mark.parametrize(("responses", "call"), [case[1:] for case in CALLS], ids=[c[0] for c in CALLS])
def test_every_request_the_hook_builds_matches_the_contract(scripted_server, responses, call):
    for method, path, status, body in responses:
        scripted_server.queue(method, path, status, body)

    call(TelnyxFaxHook())

    assert scripted_server.requests, "the call reached the server"
    assert scripted_server.unanswered() == {}
    for request in scripted_server.requests:
        validate_captured(scripted_server, request)


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "content_type"),
    [
        pytest.param("POST", "/v2/faxes", {}, b'{"to": "+1"}', "application/json", id="missing-required"),
        pytest.param(
            "POST",
            "/v2/faxes",
            {},
            b'{"to": "+1", "from": "+2", "connection_id": "1", "quality": "superb"}',
            "application/json",
            id="bad-enum",
        ),
        pytest.param("GET", "/v2/faxes?page[size]=lots", {}, None, None, id="bad-page-size"),
        pytest.param("GET", "/v2/fax/123", {}, None, None, id="unknown-path"),
    ],
)
def test_the_contract_check_rejects_what_telnyx_would(method, path, headers, body, content_type):
    """Guards the test above: a validator that accepts anything would make it pass vacuously."""
    with pytest.raises(ContractViolation):
        validate_request(
            method,
            f"http://127.0.0.1:1{path}",
            headers={"authorization": "Bearer KEY", **headers},
            body=body,
            content_type=content_type,
        )


def multipart_request(fields: dict[str, str], files: dict[str, bytes]) -> RecordedRequest:
    prepared = requests.Request(
        "POST",
        "http://127.0.0.1:1/v2/faxes",
        # (None, value) makes a plain form field, so even a body without a file is multipart.
        files={
            **{name: (None, value) for name, value in fields.items()},
            **{name: ("a.pdf", content) for name, content in files.items()},
        },
        headers={"Authorization": "Bearer KEY"},
    ).prepare()
    headers = {name.lower(): value for name, value in prepared.headers.items()}
    return RecordedRequest("POST", "/v2/faxes", "", headers, bytes(prepared.body), 1, 0.0)


REQUIRED = {"to": TO, "from": "+13125790015", "connection_id": "1"}


@pytest.mark.parametrize(
    ("fields", "files"),
    [
        pytest.param({**REQUIRED, "monochrome": "yes"}, {"contents": PDF}, id="not-a-boolean"),
        pytest.param({**REQUIRED, "quality": "superb"}, {"contents": PDF}, id="bad-enum"),
        pytest.param({**REQUIRED, "webhook_url": "https://e.com"}, {"contents": PDF}, id="unknown-part"),
        pytest.param(REQUIRED, {}, id="no-file"),
        pytest.param({**REQUIRED, "contents": "not a file"}, {}, id="file-as-text"),
        pytest.param({"to": TO, "connection_id": "1"}, {"contents": PDF}, id="missing-from"),
    ],
)
def test_the_multipart_check_rejects_what_telnyx_would(fields, files):
    with pytest.raises(ContractViolation):
        validate_multipart("/faxes", multipart_request(fields, files))


def test_the_multipart_check_accepts_a_valid_send():
    validate_multipart("/faxes", multipart_request({**REQUIRED, "t38_enabled": "false"}, {"contents": PDF}))


# -- the hook reads the spec's example responses ----------------------------------------------------


class TestSpecExampleResponses:
    def test_fax_example_is_returned_whole(self, scripted_server):
        scripted_server.queue("GET", FAX_PATH, json={"data": FAX_EXAMPLE})

        assert TelnyxFaxHook().get_fax(FAX_ID) == FAX_EXAMPLE

    def test_send_returns_the_fax_example(self, scripted_server):
        scripted_server.queue("POST", "/v2/faxes", 202, {"data": FAX_EXAMPLE})

        accepted = TelnyxFaxHook().send_fax(TO, media_url="https://www.example.com/fax.pdf")

        assert accepted["id"] == FAX_EXAMPLE["id"]
        assert accepted["status"] == "queued"

    def test_list_example_with_pagination_meta(self, scripted_server):
        scripted_server.queue("GET", "/v2/faxes", json=list_example())

        assert list(TelnyxFaxHook().list_faxes()) == [FAX_EXAMPLE]

    def test_media_resource_example(self, scripted_server):
        scripted_server.queue("POST", "/v2/media", 201, {"data": MEDIA_EXAMPLE})
        scripted_server.queue("GET", f"/v2/media/{MEDIA_NAME}", json={"data": MEDIA_EXAMPLE})
        hook = TelnyxFaxHook()

        assert hook.upload_media(PDF, media_name=MEDIA_NAME) == MEDIA_EXAMPLE
        assert hook.get_media(MEDIA_NAME) == MEDIA_EXAMPLE

    def test_cancel_and_refresh_result_ok(self, scripted_server):
        scripted_server.queue("POST", f"{FAX_PATH}/actions/cancel", 202, ACTION_OK)
        scripted_server.queue(
            "POST",
            f"{FAX_PATH}/actions/refresh",
            200,
            operation_example("/faxes/{id}/actions/refresh", "post", "200"),
        )
        hook = TelnyxFaxHook()

        assert hook.cancel_fax(FAX_ID) == {"result": "ok"}
        assert hook.refresh_fax(FAX_ID) == {"result": "ok"}

    def test_failed_fax_carries_failure_reason_and_internal_failure_reason(self, scripted_server):
        failed = fax_record(
            status="failed",
            failure_reason="receiver_no_answer",
            internal_failure_reason="no_fax_tone_detected",
        )
        scripted_server.queue("GET", FAX_PATH, json={"data": failed})
        scripted_server.queue("GET", "/v2/faxes", json={"data": [failed], "meta": {"total_pages": 1}})
        hook = TelnyxFaxHook()

        fetched = hook.get_fax(FAX_ID)
        (listed,) = hook.list_faxes()

        for record in (fetched, listed):
            assert record["status"] == "failed"
            assert record["failure_reason"] == "receiver_no_answer"
            assert record["internal_failure_reason"] == "no_fax_tone_detected"

    async def test_async_read_carries_the_failure_fields(self, scripted_server):
        failed = fax_record(status="failed", failure_reason="user_busy", internal_failure_reason=None)
        scripted_server.queue("GET", FAX_PATH, json={"data": failed})

        fetched = await TelnyxFaxHook().aget_fax(FAX_ID)

        assert fetched["failure_reason"] == "user_busy"
        assert "internal_failure_reason" in fetched
        assert fetched["internal_failure_reason"] is None

    def test_not_found_example(self, scripted_server):
        scripted_server.queue("GET", FAX_PATH, 404, error_example("programmable-fax_NotFoundResponse"))

        with pytest.raises(TelnyxNotFoundError) as raised:
            TelnyxFaxHook().get_fax(FAX_ID)

        assert raised.value.codes == ["404"]
        assert "The requested resource does not exist" in str(raised.value)

    def test_unprocessable_entity_example(self, scripted_server):
        scripted_server.queue("POST", "/v2/faxes", 422, error_example("programmable-fax_UnprocessableEntityResponse"))

        with pytest.raises(TelnyxAPIError) as raised:
            TelnyxFaxHook().send_fax(TO, media_url="https://www.example.com/fax.pdf")

        assert raised.value.status == 422
        assert "The request parameters failed validation" in str(raised.value)

    def test_authentication_failed_example(self, scripted_server):
        body = error_example("UnauthenticatedResponse", "Authentication Failed")
        scripted_server.queue("GET", FAX_PATH, 401, body)

        with pytest.raises(TelnyxAuthenticationError) as raised:
            TelnyxFaxHook().get_fax(FAX_ID)

        assert raised.value.codes == ["10009"]
        assert "telnyx_fax_default" in str(raised.value)


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        pytest.param("GET", FAX_PATH, 200, {"data": fax_record()}, id="fax"),
        pytest.param(
            "GET",
            FAX_PATH,
            200,
            {"data": fax_record(status="failed", failure_reason="user_busy", internal_failure_reason="x")},
            id="failed-fax",
        ),
        pytest.param("GET", "/v2/faxes", 200, list_example(), id="list"),
        pytest.param("GET", f"/v2/media/{MEDIA_NAME}", 200, {"data": MEDIA_EXAMPLE}, id="media"),
    ],
)
def test_the_bodies_these_tests_serve_are_themselves_contract_valid(method, path, status, body):
    """The stand-in's answers must be ones Telnyx could give, or the tests above prove little."""
    validate_response(
        method,
        f"http://127.0.0.1:1{path}",
        status=status,
        body=json.dumps(body).encode(),
        content_type="application/json",
    )
