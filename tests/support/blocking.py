"""
A blocking-call detector for code that runs on an event loop, decided by what is called, never by the clock.

asyncio's debug mode flags a step that *took* longer than ``slow_callback_duration``: on a loaded machine a
harmless step can take that long and a blocking call can be quick, so that check is luck either way. Here the
calls that block a thread are wrapped instead, and one made on a thread whose event loop is running is recorded:
a sleep, a DNS look-up, a blocking socket's connect, send or receive, a ``requests`` call. The same calls on any
other thread (an executor, the import thread of ``polling``) are allowed, as they are in a triggerer.
"""

from __future__ import annotations

import asyncio
import socket
import time
import traceback
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from collections.abc import Callable

    import pytest

SOCKET_IO = ("connect", "recv", "recv_into", "send", "sendall")


def on_a_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def is_blocking(sock: socket.socket) -> bool:
    """A socket in blocking mode (no timeout) or with a timeout: its calls wait in the calling thread."""
    timeout = sock.gettimeout()
    return timeout is None or timeout > 0


class BlockingCalls:
    """What was called on a running loop's thread: ``(name, where)`` for each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def record(self, name: str) -> None:
        self.calls.append((name, "".join(traceback.format_stack(limit=8)[:-2])))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def watch_blocking_calls(monkeypatch: pytest.MonkeyPatch) -> BlockingCalls:
    """Wrap the blocking calls for the rest of the test; the returned record lists those made on a loop's thread."""
    seen = BlockingCalls()

    def guarded(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if on_a_running_loop():
                seen.record(name)
            return original(*args, **kwargs)

        return call

    def guarded_socket_io(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        # asyncio's own transports call these on non-blocking sockets from the loop: that is how it works.
        def call(sock: socket.socket, *args: Any, **kwargs: Any) -> Any:
            if on_a_running_loop() and is_blocking(sock):
                seen.record(f"socket.{name}")
            return original(sock, *args, **kwargs)

        return call

    monkeypatch.setattr(time, "sleep", guarded("time.sleep", time.sleep))
    monkeypatch.setattr(socket, "getaddrinfo", guarded("socket.getaddrinfo", socket.getaddrinfo))
    monkeypatch.setattr(socket, "create_connection", guarded("socket.create_connection", socket.create_connection))
    monkeypatch.setattr(requests.Session, "request", guarded("requests", requests.Session.request))
    for name in SOCKET_IO:
        monkeypatch.setattr(socket.socket, name, guarded_socket_io(name, getattr(socket.socket, name)))
    return seen
