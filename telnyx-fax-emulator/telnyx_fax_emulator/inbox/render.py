"""Rendering the inbox: Jinja2 templates with autoescaping, static files, and the pages' security headers."""

from __future__ import annotations

import functools
import hashlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from starlette.responses import HTMLResponse

from telnyx_fax_emulator.faults import FAULT_KINDS
from telnyx_fax_emulator.inbox.views import (
    PREFIX,
    Stamp,
    TimelineStep,
    event_view,
    fax_view,
    outcome_choices,
    status_class,
)

if TYPE_CHECKING:
    from telnyx_fax_emulator.backend import Backend
    from telnyx_fax_emulator.state import FaxRecord

# The list shows this many faxes; a benchmark run can leave tens of thousands in the store.
LIST_LIMIT = 200
FAULT_METHODS = ("*", "POST", "GET", "DELETE")
STATIC_TYPES = {"inbox.css": "text/css; charset=utf-8", "inbox.js": "text/javascript; charset=utf-8"}

_HERE = Path(__file__).resolve().parent
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)
_PAGE_HEADERS = {
    "content-security-policy": _CSP,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    # Not "no-referrer": with it Chromium sends "Origin: null" on form posts, which look cross-site.
    "referrer-policy": "same-origin",
}

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@functools.cache
def static_file_bytes(name: str) -> bytes:
    return (_HERE / "static" / name).read_bytes()


@functools.cache
def static_url(name: str) -> str:
    # The content hash in the URL lets browsers cache the file until it changes.
    return f"{PREFIX}/static/{name}?v={hashlib.sha256(static_file_bytes(name)).hexdigest()[:12]}"


def render(template: str, **context: Any) -> str:
    return _templates.get_template(template).render(static_url=static_url, prefix=PREFIX, **context)


def page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status, headers=_PAGE_HEADERS)


def list_context(backend: Backend) -> dict[str, Any]:
    now = time.time()
    faxes = backend.store.all_faxes_newest_first()
    total = len(faxes)
    if total > LIST_LIMIT:
        summary = f"Showing the newest {LIST_LIMIT} of {total:,} faxes."
    else:
        summary = f"{total} fax{'es' if total != 1 else ''}, newest first."
    views = [fax_view(fax, now, backend.settings) for fax in faxes[:LIST_LIMIT]]
    return {"faxes": views, "summary": summary, "channels": backend.channel_report()}


def inbox_html(backend: Backend, *, notice: str | None = None, error: str | None = None) -> str:
    """The inbox page: the list, the test controls, and a notice or an error from the last form."""
    return render(
        "inbox.html",
        info=backend.info(),
        notice=notice,
        error=error,
        outcome_choices=outcome_choices(),
        outcome_table=sorted(backend.outcome_table().items()),
        fault_kinds=sorted(set(FAULT_KINDS.values())),
        fault_methods=FAULT_METHODS,
        faults=[fault.to_dict() for fault in backend.faults.active()],
        **list_context(backend),
    )


def live_context(backend: Backend, fax: FaxRecord) -> dict[str, Any]:
    now = time.time()
    steps = [TimelineStep(t.status, status_class(t.status), Stamp.of(t.at), planned=t.at > now) for t in fax.timeline]
    return {
        "fax": fax_view(fax, now, backend.settings),
        "timeline": steps,
        "events": [event_view(event) for event in backend.store.events_for(fax.id)],
    }
