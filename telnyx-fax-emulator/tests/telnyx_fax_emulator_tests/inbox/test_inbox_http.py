"""The fax inbox over plain HTTP (no browser needed): escaping, documents, headers, forms, the send key."""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING

import pytest
import requests

from airflow_provider_telnyx_fax.idempotency import SendKey
from telnyx_fax_emulator.documents import blank_pdf
from telnyx_fax_emulator.inbox.pages import content_disposition
from telnyx_fax_emulator.inbox.views import decode_send_key

if TYPE_CHECKING:
    from pathlib import Path

    from telnyx_fax_emulator.launcher import EmulatorProcess

DELIVERS = "+15550100000"
CALLER = "+15551230000"
XSS_FILE_NAME = "<script>alert(1)</script>.pdf"
XSS_DAG = "<img src=x onerror=alert(1)>"
XSS_TASK = '"><svg onload=alert(2)>'
XSS_RUN = "manual__</td><script>alert(3)</script>"


def send(emulator: EmulatorProcess, **fields: object) -> dict[str, object]:
    body = {"connection_id": emulator.connection_id, "from": emulator.from_number, "to": DELIVERS, **fields}
    response = requests.post(f"{emulator.base_url}/faxes", json=body, headers=emulator.auth_headers, timeout=10)
    assert response.status_code == 202, response.text
    data: dict[str, object] = response.json()["data"]
    return data


def get(url: str) -> requests.Response:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return response


def test_markup_in_file_names_and_send_keys_is_escaped(emulator: EmulatorProcess) -> None:
    inbound = emulator.simulate_inbound(CALLER, document=blank_pdf(1), filename=XSS_FILE_NAME)
    key = SendKey(XSS_DAG, XSS_TASK, XSS_RUN, 2, DELIVERS, "doc").client_state("PHNjcmlwdD4=")
    outbound = send(emulator, media_url="https://example.com/a.pdf", client_state=key)

    pages = {
        "list": get(emulator.inbox_url).text,
        "fragment": get(f"{emulator.root_url}/_emulator/inbox/faxes").text,
        "inbound": get(f"{emulator.root_url}/faxes/{inbound['id']}").text,
        "outbound": get(f"{emulator.root_url}/faxes/{outbound['id']}").text,
        "outbound fragment": get(f"{emulator.root_url}/_emulator/inbox/faxes/{outbound['id']}").text,
    }
    for name, html in pages.items():
        for raw in ("<script>alert", "<img src=x", "<svg", "</td><script>"):
            assert raw not in html, f"{raw!r} unescaped in the {name} page"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.pdf" in pages["list"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages["list"]
    assert "&#34;&gt;&lt;svg onload=alert(2)&gt;" in pages["outbound"]
    assert "manual__&lt;/td&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in pages["outbound fragment"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.pdf" in pages["inbound"]
    assert "(map index 2)" in pages["outbound"]


def test_the_list_shows_the_channels_in_use_against_the_limit(emulator: EmulatorProcess) -> None:
    emulator.set_limits(busy_lines=False)
    for _ in range(2):
        held = send(emulator, to="+15550100011", media_url="https://example.com/a.pdf")  # stays sending
        emulator.wait_for_status(str(held["id"]), "sending")
    emulator.set_limits(channel_limit=2)
    refused = send(emulator, to="+15550100011", media_url="https://example.com/a.pdf")
    emulator.wait_for_status(str(refused["id"]), "failed")

    fragment = get(f"{emulator.root_url}/_emulator/inbox/faxes").text

    assert "Channels: 2 of 2 in use (peak 2); refused at a limit: 1." in fragment
    emulator.set_limits(channel_limit=None)
    assert "Channels: 2 in use, no account limit (peak 2)" in get(emulator.inbox_url).text


def test_pages_forbid_inline_script(emulator: EmulatorProcess) -> None:
    response = get(emulator.inbox_url)
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["cache-control"] == "no-store"
    # Every asset and link is the emulator's own: the page works offline.
    references = re.findall(r'(?:src|href|action)="([^"]*)"', response.text)
    assert references
    assert all(reference.startswith(("/", "#", "data:")) for reference in references), references
    for asset in ("inbox.css", "inbox.js"):
        assert get(f"{emulator.root_url}/_emulator/inbox/static/{asset}").content


def test_pdf_documents_are_served_inline_and_other_files_only_as_downloads(emulator: EmulatorProcess) -> None:
    pdf = blank_pdf(2)
    pdf_fax = emulator.simulate_inbound(CALLER, document=pdf, filename="scan.pdf")
    document = get(f"{emulator.root_url}/_emulator/inbox/faxes/{pdf_fax['id']}/document")
    assert document.headers["content-type"] == "application/pdf"
    assert document.headers["content-disposition"].startswith("inline;")
    assert document.content == pdf
    assert 'class="document-frame"' in get(f"{emulator.root_url}/faxes/{pdf_fax['id']}").text

    html_file = b"<html><script>alert(1)</script></html>"
    other = emulator.simulate_inbound(CALLER, document=html_file, filename="page.html", content_type="text/html")
    download = get(f"{emulator.root_url}/_emulator/inbox/faxes/{other['id']}/document")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-security-policy"] == "sandbox"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.content == html_file
    detail = get(f"{emulator.root_url}/faxes/{other['id']}").text
    assert "document-frame" not in detail
    assert "Download page.html" in detail


def test_documents_sent_by_media_name_or_loopback_url_are_viewable(emulator: EmulatorProcess, tmp_path: Path) -> None:
    stored = blank_pdf(1)
    upload = requests.post(
        f"{emulator.base_url}/media",
        data={"media_name": "stored.pdf"},
        files={"media": ("stored.pdf", stored)},
        headers=emulator.auth_headers,
        timeout=10,
    )
    assert upload.status_code == 201
    by_name = send(emulator, media_name="stored.pdf")
    local = tmp_path / "local.pdf"
    local.write_bytes(blank_pdf(3))
    by_url = send(emulator, media_url=local.as_uri())
    outside = send(emulator, media_url="https://example.com/far-away.pdf")

    assert get(f"{emulator.root_url}/_emulator/inbox/faxes/{by_name['id']}/document").content == stored
    assert get(f"{emulator.root_url}/_emulator/inbox/faxes/{by_url['id']}/document").content == local.read_bytes()
    missing = requests.get(f"{emulator.root_url}/_emulator/inbox/faxes/{outside['id']}/document", timeout=10)
    assert missing.status_code == 404
    assert "never fetches media_url outside loopback" in get(f"{emulator.root_url}/faxes/{outside['id']}").text


def test_unknown_fax_page_is_a_404_page(emulator: EmulatorProcess) -> None:
    response = requests.get(f"{emulator.root_url}/faxes/no-such-fax", timeout=10)
    assert response.status_code == 404
    assert "Fax not found" in response.text
    assert requests.get(f"{emulator.root_url}/_emulator/inbox/faxes/no-such-fax", timeout=10).status_code == 404


def test_inbox_traffic_stays_out_of_the_request_log(emulator: EmulatorProcess) -> None:
    fax = send(emulator, media_url="https://example.com/a.pdf")
    for path in ("/", f"/faxes/{fax['id']}", "/_emulator/inbox/faxes", f"/_emulator/inbox/faxes/{fax['id']}"):
        get(emulator.root_url + path)
    assert emulator.requests()["counts"] == {"POST /v2/faxes": 1}


def test_forms_change_the_emulator_and_redirect(emulator: EmulatorProcess) -> None:
    inbox = f"{emulator.root_url}/_emulator/inbox"
    posted = requests.post(
        f"{inbox}/outcome", data={"number": "+15557654321", "outcome": "user_busy"}, allow_redirects=False, timeout=10
    )
    assert (posted.status_code, posted.headers["location"]) == (303, "/?done=outcome")
    assert emulator.outcomes()["+15557654321"] == "user_busy"

    posted = requests.post(
        f"{inbox}/fault",
        data={"method": "POST", "path": "/v2/faxes", "kind": "latency", "count": "2", "seconds": "0.5"},
        allow_redirects=False,
        timeout=10,
    )
    assert posted.status_code == 303
    assert [(f["kind"], f["remaining"], f["options"]) for f in emulator.faults()] == [("latency", 2, {"seconds": 0.5})]

    posted = requests.post(f"{inbox}/speed", data={"speed": "realistic"}, allow_redirects=False, timeout=10)
    assert posted.status_code == 303
    assert emulator.info()["speed"] == 1.0

    # No file chosen: the browser still sends an empty file part; a blank page arrives.
    posted = requests.post(
        f"{inbox}/inbound",
        data={"from": CALLER, "to": emulator.from_number},
        files={"document": ("", b"", "application/octet-stream")},
        allow_redirects=False,
        timeout=10,
    )
    assert posted.status_code == 303
    (fax,) = emulator.faxes()
    assert (fax["direction"], fax["page_count"]) == ("inbound", 1)

    assert requests.post(f"{inbox}/reset", allow_redirects=False, timeout=10).status_code == 303
    assert emulator.faxes() == []
    assert emulator.faults() == []


@pytest.mark.parametrize(
    ("action", "fields", "message"),
    [
        ("outcome", {"number": "5551234", "outcome": "user_busy"}, "+E.164"),
        ("outcome", {"number": "+15557654321", "outcome": "Not A Reason"}, "invalid outcome"),
        ("fault", {"method": "POST", "path": "v2/faxes", "kind": "drop", "count": "1"}, "path must start with"),
        ("fault", {"method": "POST", "path": "/v2/faxes", "kind": "explode", "count": "1"}, "unknown fault kind"),
        ("fault", {"method": "POST", "path": "/v2/faxes", "kind": "drop", "count": "many"}, "whole number"),
        ("speed", {"speed": "warp"}, "invalid speed"),
        ("inbound", {"from": "not a number"}, "was not simulated"),
    ],
)
def test_bad_form_input_is_reported_on_the_page(
    emulator: EmulatorProcess, action: str, fields: dict[str, str], message: str
) -> None:
    files = {"document": ("", b"", "application/octet-stream")} if action == "inbound" else None
    response = requests.post(f"{emulator.root_url}/_emulator/inbox/{action}", data=fields, files=files, timeout=10)
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert message in response.text
    assert emulator.faxes() == []
    assert emulator.faults() == []


def test_forms_posted_from_another_site_are_refused(emulator: EmulatorProcess) -> None:
    emulator.simulate_inbound(CALLER)
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        response = requests.post(f"{emulator.root_url}/_emulator/inbox/reset", headers=headers, timeout=10)
        assert response.status_code == 403
    assert len(emulator.faxes()) == 1


def test_handle_exposes_the_inbox_url(emulator: EmulatorProcess) -> None:
    assert emulator.inbox_url == emulator.root_url + "/"
    assert "<h1>Fax inbox</h1>" in get(emulator.inbox_url).text


def test_decode_send_key_reads_the_documented_format() -> None:
    state = SendKey("dag_a", "task_b", "run_c", 3, DELIVERS, "doc").client_state("dXNlcg==")
    key = decode_send_key(state)
    assert key is not None
    assert (key.dag, key.task, key.run, key.map_index) == ("dag_a", "task_b", "run_c", 3)
    assert key.user_client_state == "dXNlcg=="


@pytest.mark.parametrize(
    "client_state",
    [
        None,
        "",
        "not base64!",
        base64.b64encode(b"\xff\xfe").decode(),
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(json.dumps({"afx": 2, "key": "k"}).encode()).decode(),
        base64.b64encode(json.dumps({"dag": "d"}).encode()).decode(),
    ],
)
def test_decode_send_key_ignores_other_client_states(client_state: str | None) -> None:
    assert decode_send_key(client_state) is None


def test_content_disposition_is_safe_for_any_file_name() -> None:
    header = content_disposition("inline", 'a"b\r\nc<d>é.pdf')
    assert "\r" not in header
    assert "\n" not in header
    assert header.startswith('inline; filename="a_b__c_d__.pdf"; filename*=UTF-8')


def test_cli_banner_prints_the_inbox_address() -> None:
    from telnyx_fax_emulator.backend import Backend
    from telnyx_fax_emulator.cli import banner
    from telnyx_fax_emulator.settings import EmulatorSettings

    backend = Backend(EmulatorSettings())
    backend.root_url = "http://127.0.0.1:8089"
    assert "Fax inbox:       http://127.0.0.1:8089/ " in banner(backend)
    assert "10 concurrent calls" in banner(backend)
