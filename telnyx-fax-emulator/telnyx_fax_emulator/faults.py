"""The gateway in front of ``/v2``: injected faults, the steady rate limit, auth and the request log.

It is a plain ASGI middleware (not FastAPI's ``BaseHTTPMiddleware``) to keep the hot path cheap.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import json
import logging
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telnyx_fax_emulator.errors import (
    TOO_MANY_REQUESTS,
    UNEXPECTED_ERROR,
    error_item,
    unauthenticated,
)

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from telnyx_fax_emulator.app import Runtime

log = logging.getLogger(__name__)

# The HTTP protocol classes in server.py put the connection's transport into every request's
# ``scope["state"]`` under this key, so a "drop" fault can close it without any response.
TRANSPORT_STATE_KEY = "telnyx_emulator_transport"

# The emulator's own pages and control API (the inbox at "/" and "/faxes/{id}", "/_emulator/..."):
# not logged (faults and rate limits only ever apply to /v2), so the request log shows what the code under test did.
_OWN_PREFIXES = ("/_emulator", "/faxes/")

FAULT_KINDS = {
    "rate_limit": "rate_limit",
    "429": "rate_limit",
    "server_error": "server_error",
    "500": "server_error",
    "unavailable": "unavailable",
    "503": "unavailable",
    "latency": "latency",
    "drop": "drop",
}


@dataclass
class Fault:
    """A fault applied to the next ``remaining`` requests matching ``method`` and ``path``.

    ``path`` is an exact path or an ``fnmatch`` glob (``*`` also matches ``/``).
    """

    id: int
    method: str
    path: str
    kind: str
    remaining: int
    options: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and self.method in ("*", method)
            and (self.path == path or fnmatch.fnmatchcase(path, self.path))
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "kind": self.kind,
            "remaining": self.remaining,
            "hits": self.hits,
            "options": self.options,
        }


class FaultBook:
    """Faults waiting to be applied, consumed one request at a time."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, method: str, path: str, kind: str, count: int = 1, **options: Any) -> Fault:
        """Add a fault.

        :raises ValueError: on an unknown kind, a bad count or bad options.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(set(FAULT_KINDS))}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("count must be a positive integer")
        if not path.startswith("/"):
            raise ValueError("path must start with '/', e.g. '/v2/faxes' or '/v2/faxes/*'")
        for name in ("seconds", "retry_after", "limit"):
            value = options.get(name)
            if value is not None and (not isinstance(value, int | float) or isinstance(value, bool) or value < 0):
                raise ValueError(f"{name} must be a non-negative number")
        fault = Fault(next(self._ids), method.upper(), path, FAULT_KINDS[kind], count, dict(options))
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def active(self) -> list[Fault]:
        return [fault for fault in self._faults if fault.remaining > 0]

    def take(self, method: str, path: str) -> list[Fault]:
        """Consume every latency fault matching the request, then at most one other fault."""
        if not self._faults:
            return []
        taken: list[Fault] = []
        answered = False
        for fault in self._faults:
            if not fault.matches(method, path) or (answered and fault.kind != "latency"):
                continue
            fault.remaining -= 1
            fault.hits += 1
            taken.append(fault)
            answered = answered or fault.kind != "latency"
        self._faults = [fault for fault in self._faults if fault.remaining > 0]
        return taken


class TokenBucket:
    """A steady rate limit: ``rate`` requests per second with a one-second burst."""

    def __init__(self, rate: float) -> None:
        if not rate > 0:
            raise ValueError("rate limit must be a positive number of requests per second")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._tokens = self.capacity
        self._updated = time.monotonic()

    def take(self) -> float:
        """Take a token; return 0 when allowed, else the seconds until one is available."""
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate


def rate_limit_headers(limit: float, reset_secs: float) -> dict[str, str]:
    reset = str(max(1, math.ceil(reset_secs)))
    return {
        "x-ratelimit-limit": str(max(1, math.ceil(limit))),
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": reset,
        "retry-after": reset,
    }


async def send_json(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(name.encode(), value.encode()) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def _errors_body(code: str, title: str, detail: str) -> bytes:
    return json.dumps({"errors": [error_item(code, title, detail)]}, separators=(",", ":")).encode()


class Gateway:
    """ASGI middleware applying faults, the rate limit and bearer auth to ``/v2``, and logging requests.

    :param app: the FastAPI application.
    :param runtime: the emulator's live state.
    """

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

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
            self.runtime.store.log_request(method, path, status[0], started, elapsed)

    async def _handle_api(self, scope: Scope, receive: Receive, send: Send, method: str, path: str) -> bool:
        """Apply faults, the rate limit and auth, then the app. Returns True when the connection was dropped."""
        answer_fault: Fault | None = None
        for fault in self.runtime.faults.take(method, path):
            if fault.kind == "latency":
                await asyncio.sleep(float(fault.options.get("seconds", 1.0)))
            else:
                answer_fault = fault
        if answer_fault is not None and answer_fault.kind != "drop":
            await self._answer_fault(send, answer_fault)
            return False
        bucket = self.runtime.rate_limiter
        if bucket is not None:
            wait = bucket.take()
            if wait > 0:
                body = _errors_body(TOO_MANY_REQUESTS, "Too many requests", "Rate limit exceeded.")
                await send_json(send, 429, body, rate_limit_headers(bucket.rate, wait))
                return False
        if not self._authorized(scope):
            await send_json(send, 401, json.dumps({"errors": unauthenticated().errors}).encode())
            return False
        if answer_fault is not None:  # drop: process the request, then close without answering
            return await self._process_then_drop(scope, receive, send)
        await self.app(scope, receive, send)
        return False

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                return scheme.lower() == "bearer" and token.strip() in self.runtime.settings.api_keys
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
