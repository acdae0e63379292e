"""Serving the emulator with uvicorn, including the connection access a "drop" fault needs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from typing import TYPE_CHECKING, Any

import uvicorn

from telnyx_fax_emulator.app import create_app
from telnyx_fax_emulator.gateway import TRANSPORT_STATE_KEY

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

    from fastapi import FastAPI

    from telnyx_fax_emulator.backend import Backend
    from telnyx_fax_emulator.settings import EmulatorSettings

log = logging.getLogger(__name__)


def _transport_exposing(base: type[Any]) -> type[Any]:
    """Subclass a uvicorn HTTP protocol so every request's ``scope["state"]`` carries the transport.

    uvicorn copies ``app_state`` into each request's scope, so one per-connection copy is enough.
    """

    class TransportExposingProtocol(base):  # type: ignore[misc,valid-type]
        app_state: dict[str, Any]

        def connection_made(self, transport: asyncio.Transport) -> None:
            self.app_state = {**self.app_state, TRANSPORT_STATE_KEY: transport}
            super().connection_made(transport)

    TransportExposingProtocol.__name__ = f"TransportExposing{base.__name__}"
    return TransportExposingProtocol


def http_protocol_class() -> type[Any]:
    """httptools when installed (faster), else h11; either one able to drop connections."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return _transport_exposing(H11Protocol)
    return _transport_exposing(HttpToolsProtocol)


def _loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


class _QuietServer(uvicorn.Server):
    """A uvicorn server that stops cleanly on SIGINT/SIGTERM instead of re-raising the signal."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before serving so ``port=0`` resolves to a real free port we can print."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def root_url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}"


def build_server(app: FastAPI, *, log_level: str = "warning") -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        http=http_protocol_class(),
        loop=_loop_name(),
        lifespan="on",
        access_log=False,
        log_level=log_level,
        timeout_graceful_shutdown=2,
        # uvicorn's default (5 s) races clients that reuse a pooled connection after a pause,
        # turning an idle close into "connection reset" errors the real API would not cause.
        timeout_keep_alive=75,
    )
    return _QuietServer(config)


def serve(
    settings: EmulatorSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 8089,
    on_ready: Callable[[Backend], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Run the emulator until SIGINT/SIGTERM; ``on_ready`` is called once it accepts requests."""
    sock = bind_socket(host, port)
    app = create_app(settings)
    backend: Backend = app.state.backend
    backend.root_url = root_url_for(host, sock.getsockname()[1])
    server = build_server(app, log_level=log_level)

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started and on_ready is not None:
            on_ready(backend)
        await task

    loop_factory = server.config.get_loop_factory()
    loop = loop_factory() if loop_factory is not None else asyncio.new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        sock.close()
