"""A local HTTP server that records the webhooks it receives, for tests of webhook-driven code.

Point a fax's ``webhook_url`` (or the emulator's ``--webhook-url``) at :attr:`WebhookReceiver.url`
and read back each delivery's path, headers and raw body exactly as they arrived, for example to
check a signature. The ``telnyx_fax_webhook_receiver`` pytest fixture gives each test one::

    def test_the_signed_event_verifies(telnyx_fax_emulator, telnyx_fax_webhook_receiver):
        telnyx_fax_emulator.simulate_inbound("+15550177000", webhook_url=telnyx_fax_webhook_receiver.url)
        hooks = telnyx_fax_webhook_receiver.wait_for(3)  # receiving.started, media.processing.started, received
        assert hooks[-1].json["data"]["event_type"] == "fax.received"

Every path answers 200, except those in ``failing_paths`` (by default ``/fail``), which answer 500
so that a test can make the emulator fall back to the failover URL.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from requests.structures import CaseInsensitiveDict

if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import TracebackType

__all__ = ["ReceivedWebhook", "WebhookReceiver"]


@dataclass(frozen=True)
class ReceivedWebhook:
    """One delivery: the request path, its headers (names as sent, looked up in any case) and raw body."""

    path: str
    headers: CaseInsensitiveDict[str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


class WebhookReceiver:
    """A threaded HTTP server on a free loopback port; use it as a context manager (or call :meth:`stop`).

    :param failing_paths: request paths answered with 500 instead of 200.
    """

    def __init__(self, *, failing_paths: Iterable[str] = ("/fail",)) -> None:
        self.received: list[ReceivedWebhook] = []
        self._arrived = threading.Condition()
        failing = frozenset(failing_paths)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver._record(ReceivedWebhook(self.path, CaseInsensitiveDict(self.headers.items()), body))
                self.send_response(500 if self.path in failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        #: The receiver's root URL, ``http://127.0.0.1:PORT``; any path below it is recorded too.
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="webhook-receiver", daemon=True
        )
        self._thread.start()

    def _record(self, hook: ReceivedWebhook) -> None:
        with self._arrived:
            self.received.append(hook)
            self._arrived.notify_all()

    def at(self, path: str) -> list[ReceivedWebhook]:
        """The deliveries to ``path`` so far, in order of arrival."""
        with self._arrived:
            return [hook for hook in self.received if hook.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 10.0) -> list[ReceivedWebhook]:
        """Wait until ``count`` deliveries (to ``path``, if given) have arrived; return them all.

        :raises TimeoutError: when fewer have arrived after ``timeout`` seconds.
        """

        def arrived() -> list[ReceivedWebhook]:
            return [hook for hook in self.received if path is None or hook.path == path]

        with self._arrived:
            if not self._arrived.wait_for(lambda: len(arrived()) >= count, timeout):
                where = "" if path is None else f" at {path}"
                raise TimeoutError(f"{len(arrived())} webhooks arrived{where}, wanted {count}")
            return arrived()

    def stop(self) -> None:
        """Stop serving and close the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
