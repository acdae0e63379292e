"""The inbox's test controls: HTML form posts under ``/_emulator/inbox/``, each a call to the backend.

Every handler is registered through :func:`form`, which refuses posts from other sites first: any
web page could otherwise reset the emulator or change what it answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from telnyx_fax_emulator.bodies import INBOUND_FILE_FIELDS, inbound_arguments, parse_body
from telnyx_fax_emulator.errors import ApiError, invalid_control
from telnyx_fax_emulator.inbox.render import FAULT_METHODS, inbox_html, page
from telnyx_fax_emulator.inbox.views import PREFIX
from telnyx_fax_emulator.web import backend_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from telnyx_fax_emulator.backend import Backend

router = APIRouter(include_in_schema=False)


def from_another_site(request: Request) -> bool:
    """True for a form posted from another web page (by its fetch metadata or its origin)."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc != request.headers.get("host")


def form(
    path: str, *, done: str | None = None, failure_prefix: str = ""
) -> Callable[[Callable[[Backend, Request], Awaitable[None]]], None]:
    """Register ``action`` as the form posted to ``PREFIX/path``, behind the same-site guard.

    The action raises :class:`ApiError` on bad input, which the inbox page then shows (with
    ``failure_prefix`` in front); success redirects to the list with the notice ``done`` (default: ``path``).
    """

    def register(action: Callable[[Backend, Request], Awaitable[None]]) -> None:
        async def handle(request: Request) -> Response:
            backend = backend_of(request)
            if from_another_site(request):
                return page(inbox_html(backend, error="Refused: the form was posted from another site."), 403)
            try:
                await action(backend, request)
            except ApiError as error:
                return page(inbox_html(backend, error=f"{failure_prefix}{error.text}"), error.status)
            return RedirectResponse(f"/?done={done or path}", status_code=303)

        handle.__name__ = f"{action.__name__}_form"
        router.add_api_route(f"{PREFIX}/{path}", handle, methods=["POST"])

    return register


async def _form_fields(request: Request) -> dict[str, str]:
    fields = await request.form(max_files=0, max_fields=32)
    return {key: value.strip() for key, value in fields.multi_items() if isinstance(value, str)}


@form("inbound", failure_prefix="The inbound fax was not simulated: ")
async def simulate_inbound(backend: Backend, request: Request) -> None:
    """A multipart form: ``from``, ``to`` and the file ``document``."""
    body = await parse_body(request, file_fields=INBOUND_FILE_FIELDS)
    backend.simulate_inbound(**inbound_arguments(body))


@form("outcome")
async def set_outcome(backend: Backend, request: Request) -> None:
    fields = await _form_fields(request)
    backend.set_outcome(fields.get("number", ""), fields.get("outcome", ""))


@form("fault")
async def add_fault(backend: Backend, request: Request) -> None:
    fields = await _form_fields(request)
    options: dict[str, Any] = {}
    try:
        count = int(fields.get("count") or "1")
        if fields.get("seconds"):
            options["seconds"] = float(fields["seconds"])
    except ValueError:
        raise invalid_control("Count must be a whole number and seconds a number.") from None
    method = fields.get("method", "*").upper()
    if method not in FAULT_METHODS:
        raise invalid_control(f"Method must be one of {', '.join(FAULT_METHODS)}.")
    backend.add_fault(method, fields.get("path", ""), fields.get("kind", ""), count, **options)


@form("faults/clear", done="faults-cleared")
async def clear_faults(backend: Backend, request: Request) -> None:
    backend.clear_faults()


@form("speed")
async def set_speed(backend: Backend, request: Request) -> None:
    backend.set_speed((await _form_fields(request)).get("speed"))


@form("reset")
async def reset(backend: Backend, request: Request) -> None:
    backend.reset()
