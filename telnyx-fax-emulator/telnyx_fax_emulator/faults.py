"""Faults a test injects into ``/v2`` requests, and the steady rate limit (applied by ``gateway.py``)."""

from __future__ import annotations

import fnmatch
import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any

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
