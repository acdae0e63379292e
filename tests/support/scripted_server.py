"""
A scripted stand-in for the Telnyx API: a real HTTP/1.1 server on a loopback port.

Tests queue the answers (status, headers, JSON body, a delay, or a dropped connection) per
method and path, then read back every request exactly as it arrived on the wire. It is
deliberately dumb: it knows nothing about Telnyx, so it cannot share a misunderstanding with
the hook. An unqueued request gets a 500 whose body says what was missing.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class ScriptedResponse:
    """One queued answer. ``drop`` closes the socket after reading the request, answering nothing."""

    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    delay: float = 0.0
    drop: bool = False

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        if self.json is None:
            return b""
        return json.dumps(self.json).encode()


@dataclass
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    client_port: int
    received_at: float

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)

    def multipart(self) -> dict[str, tuple[str | None, bytes]]:
        """Multipart form parts as ``{name: (filename, content)}`` (filename is None for plain fields)."""
        if not self.content_type.startswith("multipart/form-data"):
            raise AssertionError(f"not a multipart request: {self.content_type!r}")
        raw = f"Content-Type: {self.content_type}\r\n\r\n".encode() + self.body
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        parts: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            parts[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
        return parts

    def form_fields(self) -> dict[str, str]:
        """The plain (non-file) multipart fields, decoded."""
        return {name: value.decode() for name, (filename, value) in self.multipart().items() if not filename}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so tests can see connection reuse
    timeout = 10  # an idle keep-alive connection releases its thread eventually
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows the test's own output."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query_string=split.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            client_port=self.client_address[1],
            received_at=time.monotonic(),
        )
        scripted = self.server.owner._record_and_pick(request)
        if scripted.delay and self.server.owner._stopping.wait(scripted.delay):
            scripted = ScriptedResponse(drop=True)
        if scripted.drop:
            self.close_connection = True
            return
        payload = scripted.payload()
        self.send_response(scripted.status)
        headers = {"Content-Type": "application/json"} if payload else {}
        headers.update(scripted.headers)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0], 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # do not wait for idle keep-alive connections on shutdown
    owner: ScriptedServer


class ScriptedServer:
    """
    Queue answers with :meth:`queue`; read what arrived from :attr:`requests`.

    ``base_url`` (``http://127.0.0.1:PORT/v2``) is what an Airflow connection's host should be.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._lock = threading.Lock()
        self._queues: dict[tuple[str, str], deque[ScriptedResponse]] = defaultdict(deque)
        self._stopping = threading.Event()
        self.requests: list[RecordedRequest] = []
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        # A short poll interval keeps shutdown (once per test) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="scripted-server", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v2"

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def queue(
        self,
        method: str,
        path: str,
        status: int = 200,
        json: Any = None,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        delay: float = 0.0,
        drop: bool = False,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests to ``method path`` (path without the query string)."""
        response = ScriptedResponse(
            status=status, json=json, headers=dict(headers or {}), body=body, delay=delay, drop=drop
        )
        with self._lock:
            self._queues[(method.upper(), path)].extend([response] * times)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method.upper() and r.path == path]

    @property
    def client_ports(self) -> set[int]:
        """Distinct client-side ports seen: one per TCP connection the client opened."""
        with self._lock:
            return {request.client_port for request in self.requests}

    def unanswered(self) -> dict[tuple[str, str], int]:
        """Queued answers nobody asked for (a test expecting a request that never came)."""
        with self._lock:
            return {key: len(queue) for key, queue in self._queues.items() if queue}

    def _record_and_pick(self, request: RecordedRequest) -> ScriptedResponse:
        with self._lock:
            self.requests.append(request)
            queue = self._queues.get((request.method, request.path))
            if queue:
                return queue.popleft()
        detail = f"No response queued for {request.method} {request.path}"
        return ScriptedResponse(
            status=500,
            json={"errors": [{"code": "scripted_server", "title": "Not scripted", "detail": detail}]},
        )
