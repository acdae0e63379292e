"""The inbox's pages and the fragments they poll: ``/`` (the list and the test controls), ``/faxes/{id}``
(one fax), and under ``/_emulator/inbox/`` the fragments, the document and the static files."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from telnyx_fax_emulator.documents import sniff_content_type
from telnyx_fax_emulator.inbox.render import (
    STATIC_TYPES,
    inbox_html,
    list_context,
    live_context,
    page,
    render,
    static_file_bytes,
)
from telnyx_fax_emulator.inbox.views import INLINE_TYPES, PREFIX, document_view
from telnyx_fax_emulator.web import backend_of

router = APIRouter(include_in_schema=False)

_DONE_MESSAGES = {
    "inbound": "Inbound fax simulated: it is at the top of the list.",
    "outcome": "Outcome saved: the next fax to that number gets it.",
    "fault": "Fault added: it applies to the next matching /v2 requests.",
    "faults-cleared": "Pending faults cleared.",
    "speed": "Speed changed: it applies to faxes created from now on.",
    "reset": "Emulator reset: faxes, events, outcomes, faults and speed are back to their start-up state.",
}


@router.get("/")
async def inbox_page(request: Request, done: str = "") -> Response:
    return page(inbox_html(backend_of(request), notice=_DONE_MESSAGES.get(done)))


@router.get("/faxes/{fax_id}")
async def fax_page(fax_id: str, request: Request) -> Response:
    backend = backend_of(request)
    fax = backend.store.faxes.get(fax_id)
    if fax is None:
        return page(render("not_found.html", info=backend.info(), fax_id=fax_id), 404)
    html = render("fax.html", info=backend.info(), document=document_view(fax), **live_context(backend, fax))
    return page(html)


@router.get(f"{PREFIX}/faxes")
async def fax_list_fragment(request: Request) -> Response:
    return page(render("_fax_list.html", **list_context(backend_of(request))))


@router.get(f"{PREFIX}/faxes/{{fax_id}}")
async def fax_live_fragment(fax_id: str, request: Request) -> Response:
    backend = backend_of(request)
    fax = backend.store.faxes.get(fax_id)
    if fax is None:  # e.g. after a reset; the page script says so
        return page("", 404)
    return page(render("_fax_live.html", **live_context(backend, fax)))


@router.get(f"{PREFIX}/faxes/{{fax_id}}/document")
async def fax_document(fax_id: str, request: Request) -> Response:
    backend = backend_of(request)
    fax = backend.store.faxes.get(fax_id)
    content = await backend.fax_document(fax) if fax is not None else None
    if fax is None or content is None:
        return Response(b"No document kept for this fax.\n", 404, media_type="text/plain")
    content_type = sniff_content_type(content)
    name = fax.document_name or f"fax-{fax.id}"
    headers = {"x-content-type-options": "nosniff", "cache-control": "no-store"}
    if content_type in INLINE_TYPES:
        headers["content-disposition"] = content_disposition("inline", name)
        return Response(content, 200, media_type=content_type, headers=headers)
    # Never rendered by the browser: an uploaded file could hold HTML or script.
    headers["content-disposition"] = content_disposition("attachment", name)
    headers["content-security-policy"] = "sandbox"
    return Response(content, 200, media_type="application/octet-stream", headers=headers)


def content_disposition(disposition: str, file_name: str) -> str:
    """A header value safe for any file name: an ASCII fallback plus the RFC 5987 UTF-8 form."""
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", file_name)[:120] or "document"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@router.get(f"{PREFIX}/static/{{name}}")
async def static_file(name: str) -> Response:
    if name not in STATIC_TYPES:
        return Response(b"Not found\n", 404, media_type="text/plain")
    headers = {"cache-control": "max-age=86400"}
    return Response(static_file_bytes(name), 200, media_type=STATIC_TYPES[name], headers=headers)
