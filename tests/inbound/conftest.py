"""Fixtures for the inbound tests: faxes arriving at the emulator, a webhook receiver, DAG runs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from tests.operators.conftest import run_dag  # noqa: F401 (re-exported fixture)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

INBOX = "+15550142000"
OTHER_INBOX = "+15550142111"
SENDER = "+15550177000"


@pytest.fixture
def emulator(telnyx_fax_emulator: Any) -> Any:
    """The emulator, a thousand times faster than a fax line: a one-page fax arrives in about 35 ms."""
    telnyx_fax_emulator.set_speed(1000)
    return telnyx_fax_emulator


def watermark() -> str:
    """Now, as an ISO 8601 UTC watermark, strictly after anything created before the call."""
    time.sleep(0.002)
    moment = datetime.now(timezone.utc).isoformat()
    time.sleep(0.002)
    return moment


@pytest.fixture
def receive(emulator: Any) -> Callable[..., list[dict[str, Any]]]:
    """Simulate ``count`` faxes arriving and wait until each is ``received``; returns their control views."""

    def receive_faxes(
        count: int = 1, *, to: str = INBOX, document: bytes | None = None, wait: bool = True, **kwargs: Any
    ) -> list[dict[str, Any]]:
        faxes = [emulator.simulate_inbound(SENDER, to=to, document=document, **kwargs) for _ in range(count)]
        if wait:
            faxes = [emulator.wait_for_status(fax["id"], "received") for fax in faxes]
        return faxes

    return receive_faxes


@dataclass
class WebhookReceiver:
    """A local HTTP server recording each webhook's raw body and headers exactly as they arrived."""

    url: str = ""
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[bytes, dict[str, str]]]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise TimeoutError(f"{len(self.received)} webhooks arrived, wanted {count}")
            return list(self.received)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.arrived:
                receiver.received.append((body, dict(self.headers.items())))
                receiver.arrived.notify_all()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/telnyx/fax"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
