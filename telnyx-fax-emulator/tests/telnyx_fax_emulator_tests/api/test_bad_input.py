"""Bad input gets a Telnyx-shaped 4xx (never a 500), with the offending field named."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from telnyx_fax_emulator.documents import blank_pdf
from telnyx_fax_emulator_tests.support import fax_body

if TYPE_CHECKING:
    import requests

    from telnyx_fax_emulator.launcher import EmulatorProcess
    from telnyx_fax_emulator_tests.support import ApiSession

UNKNOWN_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def first_error(response: requests.Response) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert errors
    assert all({"code", "title", "detail"} <= set(error) for error in errors)
    error: dict[str, Any] = errors[0]
    return error


@pytest.mark.parametrize(
    ("change", "code", "pointer"),
    [
        ({"to": None}, "10004", "/to"),
        ({"from": None}, "10004", "/from"),
        ({"connection_id": None}, "10004", "/connection_id"),
        ({"media_url": None}, "10004", "/media_url"),
        ({"to": "5551234"}, "10016", "/to"),
        ({"from": "+0123"}, "10016", "/from"),
        ({"to": 15550100000}, "10015", "/to"),
        ({"connection_id": "999"}, "10015", "/connection_id"),
        ({"media_name": "also-this"}, "10015", "/media_name"),
        ({"client_state": "not base64!"}, "10015", "/client_state"),
        ({"quality": "superb"}, "10015", "/quality"),
        ({"preview_format": "gif"}, "10015", "/preview_format"),
        ({"monochrome": "yes"}, "10015", "/monochrome"),
        ({"black_threshold": 0}, "10015", "/black_threshold"),
        ({"media_url": "ftp://example.com/a.pdf"}, "10015", "/media_url"),
        ({"webhook_url": "not a url"}, "10015", "/webhook_url"),
        ({"from_display_name": "<script>"}, "10015", "/from_display_name"),
    ],
)
def test_send_fax_validation(
    api: ApiSession, emulator: EmulatorProcess, change: dict[str, Any], code: str, pointer: str
) -> None:
    body = {key: value for key, value in {**fax_body(emulator), **change}.items() if value is not None}
    response = api.post("/faxes", json=body)
    assert response.status_code == 422
    error = first_error(response)
    assert (error["code"], error["source"]["pointer"]) == (code, pointer)
    assert emulator.faxes() == []


def test_every_problem_is_reported_at_once(api: ApiSession) -> None:
    response = api.post("/faxes", json={"to": "nope"})
    pointers = {error["source"]["pointer"] for error in response.json()["errors"]}
    assert {"/connection_id", "/from", "/to", "/media_url"} <= pointers


def test_unknown_media_name_is_422(api: ApiSession, emulator: EmulatorProcess) -> None:
    body = fax_body(emulator, media_name="never-uploaded")
    del body["media_url"]
    response = api.post("/faxes", json=body)
    assert response.status_code == 422
    assert first_error(response)["source"] == {"pointer": "/media_name"}


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"string"', b"\xff\xfe"])
def test_malformed_json_is_400(api: ApiSession, raw: bytes) -> None:
    response = api.post("/faxes", data=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert first_error(response)["code"] == "10015"


def test_unsupported_content_type(api: ApiSession) -> None:
    response = api.post("/faxes", data="to=+15550100000", headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
    first_error(response)


def test_multipart_over_20_mb_is_rejected(api: ApiSession, emulator: EmulatorProcess) -> None:
    oversized = b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024 + 1)
    response = api.post(
        "/faxes",
        data={"connection_id": emulator.connection_id, "from": emulator.from_number, "to": "+15550100000"},
        files={"contents": ("big.pdf", oversized, "application/pdf")},
    )
    assert response.status_code == 413
    assert "20 MB" in first_error(response)["detail"]
    assert emulator.faxes() == []


def test_multipart_without_contents_and_with_two_sources(api: ApiSession, emulator: EmulatorProcess) -> None:
    fields = {"connection_id": emulator.connection_id, "from": emulator.from_number, "to": "+15550100000"}
    response = api.post("/faxes", data=fields, files={"other": ("x.pdf", blank_pdf(1), "application/pdf")})
    assert response.status_code == 422
    assert first_error(response)["source"] == {"pointer": "/contents"}
    response = api.post(
        "/faxes",
        data={**fields, "media_url": "https://example.com/a.pdf"},
        files={"contents": ("x.pdf", blank_pdf(1), "application/pdf")},
    )
    assert response.status_code == 422
    assert "can't be submitted together" in first_error(response)["detail"]


def test_garbled_multipart_is_400(api: ApiSession) -> None:
    response = api.post(
        "/faxes", data=b"--xyz\r\ngarbage", headers={"content-type": "multipart/form-data; boundary=xyz"}
    )
    assert response.status_code in (400, 422)
    first_error(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/faxes/{UNKNOWN_ID}"),
        ("DELETE", f"/faxes/{UNKNOWN_ID}"),
        ("POST", f"/faxes/{UNKNOWN_ID}/actions/refresh"),
        ("GET", "/media/nothing-here"),
        ("GET", "/media/nothing-here/download"),
        ("DELETE", "/media/nothing-here"),
    ],
)
def test_unknown_resources_are_404(api: ApiSession, method: str, path: str) -> None:
    response = api.request(method, path)
    assert response.status_code == 404
    assert first_error(response)["code"] == "10005"


@pytest.mark.parametrize(
    "params",
    [
        {"page[size]": "0"},
        {"page[size]": "lots"},
        {"page[number]": "-1"},
        {"filter[created_at][gte]": "yesterday"},
        {"filter[direction][eq]": "sideways"},
    ],
)
def test_bad_list_parameters_are_422(api: ApiSession, params: dict[str, str]) -> None:
    response = api.get("/faxes", params=params)
    assert response.status_code == 422
    assert first_error(response)["source"]["parameter"] == next(iter(params))


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}],
)
def test_missing_or_wrong_credentials_are_401(
    anonymous_api: requests.Session, emulator: EmulatorProcess, headers: dict[str, str]
) -> None:
    response = anonymous_api.get(f"{emulator.base_url}/faxes", headers=headers, timeout=10)
    assert response.status_code == 401
    error = first_error(response)
    assert (error["code"], error["title"]) == ("10009", "Authentication failed")


def test_media_upload_validation(api: ApiSession) -> None:
    assert first_error(api.post("/media", json={}))["source"] == {"pointer": "/media_url"}
    assert api.post("/media", json={"media_url": "https://example.com/a.pdf", "ttl_secs": -5}).status_code == 422
    assert api.post("/media", json={"media_url": "https://example.com/a.pdf", "media_name": "dup"}).status_code == 201
    duplicate = api.post("/media", json={"media_url": "https://example.com/a.pdf", "media_name": "dup"})
    assert duplicate.status_code == 422
    assert first_error(api.post("/media", data={"media_name": "x"}, files={"other": ("a", b"b")}))["source"] == {
        "pointer": "/media"
    }
