"""The contract helper itself: it must catch what it is meant to catch, or the other tests prove nothing."""

from __future__ import annotations

import json

import pytest

from tests.support.openapi_contract import ContractViolation, validate_request, validate_response

URL = "http://127.0.0.1:8089/v2/faxes"
FAX = {
    "record_type": "fax",
    "id": "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
    "status": "failed",
    "direction": "outbound",
    "failure_reason": "user_busy",
    "internal_failure_reason": None,
}
AUTH = {"Authorization": "Bearer KEY"}


def respond(body: object, status: int = 200, url: str = f"{URL}/{FAX['id']}") -> None:
    validate_response("GET", url, status=status, body=json.dumps(body).encode(), content_type="application/json")


def test_newer_fields_pass_but_anything_else_extra_fails() -> None:
    respond({"data": FAX})
    with pytest.raises(ContractViolation, match="page_count"):
        respond({"data": {**FAX, "page_count": 3}})
    with pytest.raises(ContractViolation):
        respond({"data": {**FAX, "status": "lost"}})
    with pytest.raises(ContractViolation):
        respond({"errors": [{"title": "no code"}]}, status=404)


def test_nested_deep_object_filters_are_validated_not_skipped() -> None:
    validate_request("GET", f"{URL}?filter[to][eq]=%2B15550100000&page[size]=2", headers=AUTH)
    validate_request("GET", f"{URL}?filter[created_at][gte]=2024-01-01T00:00:00Z", headers=AUTH)
    with pytest.raises(ContractViolation, match="date-time"):
        validate_request("GET", f"{URL}?filter[created_at][gte]=yesterday", headers=AUTH)
    with pytest.raises(ContractViolation):
        validate_request("GET", f"{URL}?page[size]=many", headers=AUTH)


def test_request_bodies_and_security_are_checked() -> None:
    body = {"connection_id": "1", "from": "+15550199999", "to": "+15550100000", "media_url": "https://x/a.pdf"}
    validate_request("POST", URL, headers=AUTH, body=json.dumps(body).encode(), content_type="application/json")
    with pytest.raises(ContractViolation):
        validate_request("POST", URL, headers=AUTH, body=b'{"to": "+1555"}', content_type="application/json")
    with pytest.raises(ContractViolation):
        validate_request("GET", URL, headers={})  # no bearer
