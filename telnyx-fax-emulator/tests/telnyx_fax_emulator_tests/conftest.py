"""Fixtures for the emulator's own tests: clients that validate every API response against the contract."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import requests

from telnyx_fax_emulator_tests.support import ApiSession, ReceivedWebhook, WebhookReceiver, write_pdf
from tests.openapi_contract import conformance_hook, is_api_url, validate_response

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from telnyx_fax_emulator.launcher import EmulatorProcess


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


@pytest.fixture
def pdf_file(tmp_path: Path) -> Callable[..., Path]:
    def write(pages: int, name: str = "doc.pdf") -> Path:
        return write_pdf(tmp_path / name, pages)

    return write


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
