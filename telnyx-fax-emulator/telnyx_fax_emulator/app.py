"""The FastAPI app wired around one :class:`~telnyx_fax_emulator.backend.Backend`."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from telnyx_fax_emulator import inbox
from telnyx_fax_emulator.backend import Backend
from telnyx_fax_emulator.errors import BAD_REQUEST, RESOURCE_NOT_FOUND, UNEXPECTED_ERROR, ApiError, error_item
from telnyx_fax_emulator.gateway import Gateway
from telnyx_fax_emulator.routes import control, fax_applications, faxes, media
from telnyx_fax_emulator.settings import EmulatorSettings
from telnyx_fax_emulator.web import error_response

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request
    from starlette.responses import Response

log = logging.getLogger(__name__)


def create_app(settings: EmulatorSettings | None = None) -> FastAPI:
    """Build the emulator's app; its state and operations are ``app.state.backend`` (a :class:`Backend`)."""
    backend = Backend(settings or EmulatorSettings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await backend.dispatcher.start()
        try:
            yield
        finally:
            await backend.dispatcher.close()

    app = FastAPI(
        title="Telnyx Fax API emulator",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.backend = backend
    app.add_middleware(Gateway, backend=backend)
    app.include_router(faxes.router)
    app.include_router(fax_applications.router)
    app.include_router(media.router)
    app.include_router(control.router)
    # The fax inbox web page at "/" (see inbox/).
    app.include_router(inbox.router)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.errors, exc.headers)

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
