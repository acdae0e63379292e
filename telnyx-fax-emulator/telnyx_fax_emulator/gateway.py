"""The gateway in front of ``/v2``: injected faults, the steady rate limit, auth and the request log.

It is a plain ASGI middleware (not FastAPI's ``BaseHTTPMiddleware``) to keep the hot path cheap.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from telnyx_fax_emulator.errors import (
    TOO_MANY_REQUESTS,
    UNEXPECTED_ERROR,
    error_item,
    errors_body,
    unauthenticated,
)
from telnyx_fax_emulator.faults import rate_limit_headers

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from telnyx_fax_emulator.backend import Backend
    from telnyx_fax_emulator.faults import Fault

log = logging.getLogger(__name__)

# The HTTP protocol classes in server.py put the connection's transport into every request's
# ``scope["state"]`` under this key, so a "drop" fault can close it without any response.
TRANSPORT_STATE_KEY = "telnyx_emulator_transport"

# The emulator's own pages and control API (the inbox at "/" and "/faxes/{id}", "/_emulator/..."):
# not logged (faults and rate limits only ever apply to /v2), so the request log shows what the code under test did.
_OWN_PREFIXES = ("/_emulator", "/faxes/")


async def send_json(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(name.encode(), value.encode()) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def _errors_body(code: str, title: str, detail: str) -> bytes:
    return errors_body([error_item(code, title, detail)])


class Gateway:
    """ASGI middleware applying faults, the rate limit and bearer auth to ``/v2``, and logging requests.

    :param app: the FastAPI application.
    :param backend: the emulator's state and operations.
    """

    def __init__(self, app: ASGIApp, backend: Backend) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(_OWN_PREFIXES) or path == "/":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        started = time.time()
        clock = time.perf_counter()
        status: list[int | str] = ["no response"]

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            if path.startswith("/v2/") or path == "/v2":
                if await self._handle_api(scope, receive, recording_send, method, path):
                    status[0] = "dropped"
            else:
                await self.app(scope, receive, recording_send)
        finally:
            elapsed = round((time.perf_counter() - clock) * 1000, 3)
            self.backend.store.log_request(method, path, status[0], started, elapsed)

    async def _handle_api(self, scope: Scope, receive: Receive, send: Send, method: str, path: str) -> bool:
        """Apply faults, the rate limit and auth, then the app. Returns True when the connection was dropped."""
        answer_fault: Fault | None = None
        for fault in self.backend.faults.take(method, path):
            if fault.kind == "latency":
                await asyncio.sleep(float(fault.options.get("seconds", 1.0)))
            else:
                answer_fault = fault
        if answer_fault is not None and answer_fault.kind != "drop":
            await self._answer_fault(send, answer_fault)
            return False
        bucket = self.backend.rate_limiter
        if bucket is not None:
            wait = bucket.take()
            if wait > 0:
                body = _errors_body(TOO_MANY_REQUESTS, "Too many requests", "Rate limit exceeded.")
                await send_json(send, 429, body, rate_limit_headers(bucket.rate, wait))
                return False
        if not self._authorized(scope):
            await send_json(send, 401, errors_body(unauthenticated().errors))
            return False
        if answer_fault is not None:  # drop: process the request, then close without answering
            return await self._process_then_drop(scope, receive, send)
        await self.app(scope, receive, send)
        return False

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                return scheme.lower() == "bearer" and token.strip() in self.backend.settings.api_keys
        return False

    async def _answer_fault(self, send: Send, fault: Fault) -> None:
        if fault.kind == "rate_limit":
            headers = rate_limit_headers(
                float(fault.options.get("limit", 100)), float(fault.options.get("retry_after", 1))
            )
            body = _errors_body(TOO_MANY_REQUESTS, "Too many requests", "Rate limit exceeded (injected fault).")
            await send_json(send, 429, body, headers)
        elif fault.kind == "unavailable":
            body = _errors_body(UNEXPECTED_ERROR, "Service unavailable", "Service unavailable (injected fault).")
            await send_json(send, 503, body)
        else:
            body = _errors_body(UNEXPECTED_ERROR, "Unexpected error", "Unexpected error (injected fault).")
            await send_json(send, 500, body)

    async def _process_then_drop(self, scope: Scope, receive: Receive, send: Send) -> bool:
        transport = scope.get("state", {}).get(TRANSPORT_STATE_KEY)
        if transport is None:
            log.warning("drop fault on %s without access to the transport; answering normally", scope["path"])
            await self.app(scope, receive, send)
            return False

        async def discard(message: Message) -> None:
            return None

        await self.app(scope, receive, discard)
        transport.abort()
        # Let the server notice the lost connection before the request cycle ends, so it does
        # not try to write a fallback response.
        for _ in range(3):
            await asyncio.sleep(0)
        return True
