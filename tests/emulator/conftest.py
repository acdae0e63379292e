"""Fixtures for the emulator's own tests: clients that validate every API response against the contract."""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import requests

from tests.openapi_contract import conformance_hook, is_api_url, validate_response

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_telnyx_fax.emulator.launcher import EmulatorProcess

TEST_NUMBER_DELIVERED = "+15550100000"
OTHER_NUMBER = "+15557654321"


class ApiSession(requests.Session):
    """A ``requests`` session on the emulator's ``/v2`` API: relative paths, bearer auth, and
    every response validated against the published contract."""

    def __init__(self, base_url: str, api_key: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.headers["Authorization"] = f"Bearer {api_key}"
        self.hooks["response"].append(conformance_hook)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if isinstance(url, str) and url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 10)
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def emulator(telnyx_fax_emulator: EmulatorProcess) -> EmulatorProcess:
    """The plugin's per-test emulator (reset, env var set)."""
    return telnyx_fax_emulator


@pytest.fixture
def api(emulator: EmulatorProcess) -> Iterator[ApiSession]:
    with ApiSession(emulator.base_url, emulator.api_key) as session:
        yield session


@pytest.fixture
def anonymous_api(emulator: EmulatorProcess) -> Iterator[requests.Session]:
    """No credentials, still contract-checked."""
    with requests.Session() as session:
        session.hooks["response"].append(conformance_hook)
        yield session


def _validate_httpx(response: httpx.Response) -> None:
    if not is_api_url(str(response.request.url)):
        return
    response.read()
    validate_response(
        response.request.method,
        str(response.request.url),
        status=response.status_code,
        headers=dict(response.headers),
        body=response.content,
        content_type=response.headers.get("content-type", ""),
    )


@pytest.fixture
def sdk(emulator: EmulatorProcess) -> Iterator[Any]:
    """The official Telnyx SDK pointed at the emulator; its responses are contract-checked too."""
    import telnyx

    http_client = httpx.Client(event_hooks={"response": [_validate_httpx]})
    client = telnyx.Telnyx(api_key=emulator.api_key, base_url=emulator.base_url, http_client=http_client, max_retries=0)
    try:
        yield client
    finally:
        client.close()


def fax_body(emulator: EmulatorProcess, to: str = TEST_NUMBER_DELIVERED, **extra: Any) -> dict[str, Any]:
    body = {
        "connection_id": emulator.connection_id,
        "from": emulator.from_number,
        "to": to,
        "media_url": "https://example.com/invoice.pdf",
    }
    body.update(extra)
    return body


def send_fax(
    api: ApiSession, emulator: EmulatorProcess, to: str = TEST_NUMBER_DELIVERED, **extra: Any
) -> dict[str, Any]:
    response = api.post("/faxes", json=fax_body(emulator, to, **extra))
    assert response.status_code == 202, response.text
    fax: dict[str, Any] = response.json()["data"]
    return fax


def make_pdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def pdf_file(tmp_path: Any) -> Any:
    def write(pages: int, name: str = "doc.pdf") -> Any:
        path = tmp_path / name
        path.write_bytes(make_pdf(pages))
        return path

    return write


@dataclass
class ReceivedWebhook:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class WebhookReceiver:
    """A local HTTP server recording webhooks; ``/fail`` answers 500, anything else 200."""

    url: str
    received: list[ReceivedWebhook] = field(default_factory=list)

    def at(self, path: str) -> list[ReceivedWebhook]:
        return [hook for hook in self.received if hook.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 10.0) -> list[ReceivedWebhook]:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hooks = self.received if path is None else self.at(path)
            if len(hooks) >= count:
                return list(hooks)
            time.sleep(0.02)
        raise TimeoutError(f"got {len(self.received)} webhooks, wanted {count} at {path}")


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = self.rfile.read(length)
            receiver.received.append(ReceivedWebhook(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(500 if self.path == "/fail" else 200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
