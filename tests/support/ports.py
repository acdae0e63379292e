"""Loopback ports for servers the tests start, or for nothing to listen on."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port with nothing listening on it (connection refused, or free to bind)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
