"""The emulator application: live state (:class:`Runtime`) and the FastAPI app wired around it."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from telnyx_fax_emulator import api_faxes, api_media, control, inbox
from telnyx_fax_emulator.errors import (
    BAD_REQUEST,
    RESOURCE_NOT_FOUND,
    UNEXPECTED_ERROR,
    ApiError,
    error_item,
    error_response,
)
from telnyx_fax_emulator.faults import FaultBook, Gateway, TokenBucket
from telnyx_fax_emulator.outcomes import OutcomeBook
from telnyx_fax_emulator.settings import EmulatorSettings
from telnyx_fax_emulator.state import EmulatorStore
from telnyx_fax_emulator.webhooks import EventDispatcher, WebhookSigner

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request
    from starlette.responses import Response

log = logging.getLogger(__name__)


class Runtime:
    """The emulator's live state: settings that can change at run time, the store, outcomes,
    faults, the rate limiter and the webhook machinery.

    :param settings: start-up settings; :meth:`reset` returns to them.
    """

    def __init__(self, settings: EmulatorSettings) -> None:
        self.initial = settings
        # A copy, so run-time changes (speed) never leak back into the start-up settings.
        self.settings = replace(settings, outcomes=dict(settings.outcomes))
        self.store = EmulatorStore()
        self.outcomes = OutcomeBook(settings.outcomes)
        self.faults = FaultBook()
        self.rate_limiter = TokenBucket(settings.rate_limit) if settings.rate_limit else None
        self.signer = WebhookSigner(settings.private_key)
        # Set by the server once it knows its port; requests fill it in otherwise.
        self.root_url = ""
        self.dispatcher = EventDispatcher(self.store, self.settings, self.signer, lambda: self.root_url)

    def root_for(self, request: Request) -> str:
        if not self.root_url:
            self.root_url = str(request.base_url).rstrip("/")
        return self.root_url

    def reset(self) -> None:
        """Forget every fax, media file, event, request, fault and run-time change."""
        self.dispatcher.cancel_all()
        self.store.clear()
        self.outcomes = OutcomeBook(self.initial.outcomes)
        self.faults.clear()
        self.rate_limiter = TokenBucket(self.initial.rate_limit) if self.initial.rate_limit else None
        self.settings.speed = self.initial.speed

    def info(self, request: Request | None = None) -> dict[str, Any]:
        root = self.root_for(request) if request is not None else self.root_url
        return {
            "root_url": root,
            "base_url": f"{root}/v2",
            "api_key": self.settings.api_keys[0],
            "api_keys": list(self.settings.api_keys),
            "connection_id": self.settings.connection_id,
            "from_number": self.settings.from_number,
            "public_key": self.signer.public_key,
            "speed": self.settings.speed,
            "webhook_url": self.settings.webhook_url,
            "webhook_failover_url": self.settings.webhook_failover_url,
            "rate_limit": self.rate_limiter.rate if self.rate_limiter else None,
            "event_log": self.settings.event_log_path,
        }


def create_app(settings: EmulatorSettings | None = None) -> FastAPI:
    """Build the emulator's app; its live state is ``app.state.runtime`` (a :class:`Runtime`)."""
    runtime = Runtime(settings or EmulatorSettings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.dispatcher.start()
        try:
            yield
        finally:
            await runtime.dispatcher.close()

    app = FastAPI(
        title="Telnyx Fax API emulator",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.add_middleware(Gateway, runtime=runtime)
    app.include_router(api_faxes.router)
    app.include_router(api_media.router)
    app.include_router(control.router)
    # The fax inbox web page at "/" (see inbox.py).
    app.include_router(inbox.router)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return exc.to_response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            item = error_item(RESOURCE_NOT_FOUND, "Not Found", "The requested resource does not exist.")
        else:
            item = error_item(str(exc.status_code), str(exc.detail), str(exc.detail))
        return error_response(exc.status_code, [item], dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        items = [
            error_item(
                BAD_REQUEST,
                "Invalid parameter",
                str(problem.get("msg", "invalid value")),
                parameter=str(problem.get("loc", ["", ""])[-1]),
            )
            for problem in exc.errors()
        ]
        return error_response(422, items)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("emulator bug while handling %s %s", request.method, request.url.path)
        return error_response(500, [error_item(UNEXPECTED_ERROR, "Unexpected error", f"{type(exc).__name__}")])

    return app
