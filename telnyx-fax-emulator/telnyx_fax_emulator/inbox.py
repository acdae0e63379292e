"""The fax inbox: a web page at ``/`` showing every fax the emulator saw, like Mailpit does for email.

Pages: ``/`` (the list, newest first, plus a tester's controls) and ``/faxes/{id}`` (one fax: its
status timeline, the webhook events and their deliveries, the document). Everything the pages load
or post to lives under ``/_emulator/inbox/``: the HTML fragments the pages poll every second, the
static CSS and JavaScript, the document, and the form handlers. None of it touches ``/v2``.

Rendering is Jinja2 with autoescaping on, so every value (display names, file names, the DAG, task
and run decoded from ``client_state``) is text, never markup. The pages also send a Content Security
Policy without ``'unsafe-inline'``, so even a missed escape could not run a script.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from telnyx_fax_emulator import control, outcomes
from telnyx_fax_emulator.api_faxes import runtime_of
from telnyx_fax_emulator.bodies import E164_RE
from telnyx_fax_emulator.documents import (
    fetch_document,
    guess_content_type,
    is_fetchable,
    sniff_content_type,
)
from telnyx_fax_emulator.errors import ApiError
from telnyx_fax_emulator.faults import FAULT_KINDS
from telnyx_fax_emulator.settings import parse_speed

if TYPE_CHECKING:
    from telnyx_fax_emulator.app import Runtime
    from telnyx_fax_emulator.state import EventRecord, FaxRecord

router = APIRouter(include_in_schema=False)

PREFIX = "/_emulator/inbox"
# The list shows this many faxes; a benchmark run can leave tens of thousands in the store.
LIST_LIMIT = 200
SEND_KEY_FORMAT_VERSION = 1
TERMINAL_STATUSES = frozenset({"delivered", "failed", "received"})
# Shown inline in the detail page; anything else is offered as a download, never rendered.
INLINE_TYPES = {"application/pdf": "pdf", "image/png": "image", "image/jpeg": "image"}
FAULT_METHODS = ("*", "POST", "GET", "DELETE")

_HERE = Path(__file__).resolve().parent
_STATIC_TYPES = {"inbox.css": "text/css; charset=utf-8", "inbox.js": "text/javascript; charset=utf-8"}
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
_DONE_MESSAGES = {
    "inbound": "Inbound fax simulated: it is at the top of the list.",
    "outcome": "Outcome saved: the next fax to that number gets it.",
    "fault": "Fault added: it applies to the next matching /v2 requests.",
    "faults-cleared": "Pending faults cleared.",
    "speed": "Speed changed: it applies to faxes created from now on.",
    "reset": "Emulator reset: faxes, events, outcomes, faults and speed are back to their start-up state.",
}

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- view models -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Stamp:
    """A moment as the page shows it (UTC): in full, as a clock time for the list, and for ``<time datetime>``."""

    iso: str
    text: str
    clock: str

    @classmethod
    def of(cls, epoch: float) -> Stamp:
        moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
        millis = f".{moment.microsecond // 1000:03d}"
        return cls(
            iso=moment.strftime("%Y-%m-%dT%H:%M:%S") + millis + "Z",
            text=moment.strftime("%Y-%m-%d %H:%M:%S") + millis,
            clock=moment.strftime("%H:%M:%S") + millis,
        )


@dataclass(frozen=True)
class SendKeyView:
    """The task instance that sent a fax, decoded from the operator's ``client_state``."""

    dag: str
    task: str
    run: str
    map_index: int | None
    key: str
    user_client_state: str | None


def decode_send_key(client_state: str | None) -> SendKeyView | None:
    """Decode the provider's send key: base64 of ``{"afx": 1, "key", "dag", "task", "run", "map", "user"}``.

    The format is documented in ``airflow_provider_telnyx_fax/idempotency.py``; the emulator reads it
    itself rather than importing the provider, so it stays usable without Airflow's code paths.
    Returns ``None`` for any other ``client_state``.
    """
    if not client_state:
        return None
    try:
        state = json.loads(base64.b64decode(client_state, validate=True))
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    if not isinstance(state, dict) or state.get("afx") != SEND_KEY_FORMAT_VERSION or "key" not in state:
        return None

    def text(name: str) -> str:
        value = state.get(name)
        return "" if value is None else str(value)

    map_index = state.get("map")
    user = state.get("user")
    return SendKeyView(
        dag=text("dag"),
        task=text("task"),
        run=text("run"),
        map_index=map_index if isinstance(map_index, int) and not isinstance(map_index, bool) else None,
        key=text("key"),
        user_client_state=str(user) if user else None,
    )


@dataclass(frozen=True)
class FaxView:
    """One fax as the inbox shows it, at one moment."""

    id: str
    direction: str
    status: str
    status_class: str
    to: str
    from_: str
    from_display_name: str | None
    page_count: int
    failure_reason: str | None
    internal_failure_reason: str | None
    outcome: str
    quality: str
    created: Stamp
    updated: Stamp
    deleted: Stamp | None
    send_key: SendKeyView | None
    client_state: str | None
    document_name: str | None
    webhook_url: str | None
    webhook_failover_url: str | None

    @property
    def short_id(self) -> str:
        return self.id.split("-", 1)[0]


def status_class(status: str) -> str:
    if status in ("delivered", "received"):
        return "ok"
    if status == "failed":
        return "bad"
    return "busy"


def fax_view(fax: FaxRecord, now: float, runtime: Runtime) -> FaxView:
    status = fax.status_at(now)
    failed = status == "failed"
    return FaxView(
        id=fax.id,
        direction=fax.direction,
        status=status,
        status_class=status_class(status),
        to=fax.to,
        from_=fax.from_,
        from_display_name=fax.from_display_name,
        page_count=fax.page_count,
        failure_reason=fax.failure_reason if failed else None,
        internal_failure_reason=fax.internal_failure_reason if failed else None,
        outcome=fax.outcome,
        quality=fax.quality,
        created=Stamp.of(fax.created_at),
        updated=Stamp.of(fax.updated_at(now)),
        deleted=Stamp.of(fax.deleted_at) if fax.deleted_at is not None else None,
        send_key=decode_send_key(fax.client_state),
        client_state=fax.client_state,
        document_name=fax.document_name,
        webhook_url=fax.webhook_url or runtime.settings.webhook_url,
        webhook_failover_url=fax.webhook_failover_url or runtime.settings.webhook_failover_url,
    )


@dataclass(frozen=True)
class TimelineStep:
    status: str
    status_class: str
    at: Stamp
    planned: bool


@dataclass(frozen=True)
class DeliveryView:
    url: str
    attempt: int
    at: str
    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class EventView:
    event_type: str
    occurred: Stamp
    deliveries: list[DeliveryView]


def event_view(event: EventRecord) -> EventView:
    deliveries = [
        DeliveryView(
            url=str(item.get("url", "")),
            attempt=int(item.get("attempt", 0)),
            at=str(item.get("at", "")),
            status=item.get("status"),
            error=item.get("error"),
        )
        for item in event.deliveries
    ]
    return EventView(event.event_type, Stamp.of(event.occurred_at), deliveries)


@dataclass(frozen=True)
class DocumentView:
    """How the detail page shows the document: ``pdf`` or ``image`` inline, ``download``, or ``none``."""

    kind: str
    url: str | None
    name: str
    content_type: str | None
    note: str | None = None


def document_view(fax: FaxRecord) -> DocumentView:
    url = f"{PREFIX}/faxes/{fax.id}/document"
    name = fax.document_name or f"fax-{fax.id}"
    if fax.document is not None:
        content_type = sniff_content_type(fax.document) or fax.document_content_type
        return DocumentView(INLINE_TYPES.get(content_type or "", "download"), url, name, content_type)
    if fax.media_url and is_fetchable(fax.media_url):
        content_type = guess_content_type(fax.media_url)
        note = "Fetched from the fax's media_url when you open it: it shows the file as it is now."
        return DocumentView(INLINE_TYPES.get(content_type, "download"), url, name, content_type, note)
    if fax.media_url:
        note = (
            "The emulator never fetches media_url outside loopback, so it has no copy of this document "
            f"(media_url: {fax.media_url})."
        )
        return DocumentView("none", None, name, None, note)
    return DocumentView("none", None, name, None, "The emulator kept no copy of this document.")


def outcome_choices() -> list[str]:
    """Every reason the emulator knows, for the outcome select (any reason string works via the API)."""
    reasons = set(outcomes.MEDIA_FAILURES) | set(outcomes.CALL_SETUP_FAILURES) | set(outcomes.INTERNAL_FAILURE_REASONS)
    reasons |= {spec for spec in outcomes.DEFAULT_OUTCOMES.values() if isinstance(spec, str)}
    reasons -= {outcomes.DELIVERED, outcomes.STAYS_SENDING, outcomes.SENDER_CANCELED}
    return [outcomes.DELIVERED, outcomes.STAYS_SENDING, *sorted(reasons)]


# -- rendering -------------------------------------------------------------------------------
@functools.cache
def _static(name: str) -> bytes:
    return (_HERE / "static" / name).read_bytes()


@functools.cache
def static_url(name: str) -> str:
    # The content hash in the URL lets browsers cache the file until it changes.
    return f"{PREFIX}/static/{name}?v={hashlib.sha256(_static(name)).hexdigest()[:12]}"


def _render(template: str, **context: Any) -> str:
    return _templates.get_template(template).render(static_url=static_url, prefix=PREFIX, **context)


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status, headers=_PAGE_HEADERS)


def _list_context(runtime: Runtime) -> dict[str, Any]:
    now = time.time()
    faxes = runtime.store.all_faxes_newest_first()
    total = len(faxes)
    if total > LIST_LIMIT:
        summary = f"Showing the newest {LIST_LIMIT} of {total:,} faxes."
    else:
        summary = f"{total} fax{'es' if total != 1 else ''}, newest first."
    return {"faxes": [fax_view(fax, now, runtime) for fax in faxes[:LIST_LIMIT]], "summary": summary}


def _inbox_html(request: Request, *, notice: str | None = None, error: str | None = None) -> str:
    runtime = runtime_of(request)
    faults = runtime.faults.active()
    return _render(
        "inbox.html",
        info=runtime.info(request),
        notice=notice,
        error=error,
        outcome_choices=outcome_choices(),
        outcome_table=sorted(runtime.outcomes.table().items()),
        fault_kinds=sorted(set(FAULT_KINDS.values())),
        fault_methods=FAULT_METHODS,
        faults=[fault.to_dict() for fault in faults],
        **_list_context(runtime),
    )


def _live_context(runtime: Runtime, fax: FaxRecord) -> dict[str, Any]:
    now = time.time()
    steps = [TimelineStep(t.status, status_class(t.status), Stamp.of(t.at), planned=t.at > now) for t in fax.timeline]
    return {
        "fax": fax_view(fax, now, runtime),
        "timeline": steps,
        "events": [event_view(event) for event in runtime.store.events_for(fax.id)],
    }


def _not_found_page(request: Request, fax_id: str) -> HTMLResponse:
    html = _render("not_found.html", info=runtime_of(request).info(request), fax_id=fax_id)
    return _page(html, 404)


# -- pages and fragments ---------------------------------------------------------------------
@router.get("/")
async def inbox_page(request: Request, done: str = "") -> Response:
    return _page(_inbox_html(request, notice=_DONE_MESSAGES.get(done)))


@router.get("/faxes/{fax_id}")
async def fax_page(fax_id: str, request: Request) -> Response:
    runtime = runtime_of(request)
    fax = runtime.store.faxes.get(fax_id)
    if fax is None:
        return _not_found_page(request, fax_id)
    html = _render("fax.html", info=runtime.info(request), document=document_view(fax), **_live_context(runtime, fax))
    return _page(html)


@router.get(f"{PREFIX}/faxes")
async def fax_list_fragment(request: Request) -> Response:
    return _page(_render("_fax_list.html", **_list_context(runtime_of(request))))


@router.get(f"{PREFIX}/faxes/{{fax_id}}")
async def fax_live_fragment(fax_id: str, request: Request) -> Response:
    runtime = runtime_of(request)
    fax = runtime.store.faxes.get(fax_id)
    if fax is None:  # e.g. after a reset; the page script says so
        return _page("", 404)
    return _page(_render("_fax_live.html", **_live_context(runtime, fax)))


@router.get(f"{PREFIX}/faxes/{{fax_id}}/document")
async def fax_document(fax_id: str, request: Request) -> Response:
    fax = runtime_of(request).store.faxes.get(fax_id)
    content: bytes | None = None
    if fax is not None and fax.document is not None:
        content = fax.document
    elif fax is not None and fax.media_url and is_fetchable(fax.media_url):
        content = (await fetch_document(fax.media_url)).data
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
    if name not in _STATIC_TYPES:
        return Response(b"Not found\n", 404, media_type="text/plain")
    return Response(_static(name), 200, media_type=_STATIC_TYPES[name], headers={"cache-control": "max-age=86400"})


# -- form handlers ---------------------------------------------------------------------------
def _from_another_site(request: Request) -> bool:
    """True for a form posted from another web page: any site could otherwise reset the emulator."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc != request.headers.get("host")


def _done(code: str) -> Response:
    return RedirectResponse(f"/?done={code}", status_code=303)


def _form_error(request: Request, message: str, status: int = 422) -> Response:
    return _page(_inbox_html(request, error=message), status)


def _api_error_text(error: ApiError) -> str:
    return " ".join(str(item.get("detail") or item.get("title") or "") for item in error.errors).strip()


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form(max_files=0, max_fields=32)
    return {key: value.strip() for key, value in form.multi_items() if isinstance(value, str)}


@router.post(f"{PREFIX}/inbound")
async def inbound_form(request: Request) -> Response:
    """A multipart form (``from``, ``to``, file ``document``); the control API does the work."""
    if _from_another_site(request):
        return _form_error(request, "Refused: the form was posted from another site.", 403)
    try:
        await control.simulate_inbound(request)
    except ApiError as error:
        return _form_error(request, f"The inbound fax was not simulated: {_api_error_text(error)}", error.status)
    return _done("inbound")


@router.post(f"{PREFIX}/outcome")
async def outcome_form(request: Request) -> Response:
    if _from_another_site(request):
        return _form_error(request, "Refused: the form was posted from another site.", 403)
    fields = await _form_fields(request)
    number = fields.get("number", "")
    if not (E164_RE.match(number) or number.startswith("sip:")):
        return _form_error(request, f"The number must be in +E.164 format (like +15557654321), not {number!r}.")
    try:
        runtime_of(request).outcomes.set(number, outcomes.validate_outcome(fields.get("outcome", "")))
    except ValueError as exc:
        return _form_error(request, str(exc))
    return _done("outcome")


@router.post(f"{PREFIX}/fault")
async def fault_form(request: Request) -> Response:
    if _from_another_site(request):
        return _form_error(request, "Refused: the form was posted from another site.", 403)
    fields = await _form_fields(request)
    options: dict[str, Any] = {}
    try:
        count = int(fields.get("count") or "1")
        if fields.get("seconds"):
            options["seconds"] = float(fields["seconds"])
    except ValueError:
        return _form_error(request, "Count must be a whole number and seconds a number.")
    method = fields.get("method", "*").upper()
    if method not in FAULT_METHODS:
        return _form_error(request, f"Method must be one of {', '.join(FAULT_METHODS)}.")
    try:
        runtime_of(request).faults.add(method, fields.get("path", ""), fields.get("kind", ""), count, **options)
    except ValueError as exc:
        return _form_error(request, str(exc))
    return _done("fault")


@router.post(f"{PREFIX}/faults/clear")
async def clear_faults_form(request: Request) -> Response:
    if _from_another_site(request):
        return _form_error(request, "Refused: the form was posted from another site.", 403)
    runtime_of(request).faults.clear()
    return _done("faults-cleared")


@router.post(f"{PREFIX}/speed")
async def speed_form(request: Request) -> Response:
    if _from_another_site(request):
        return _form_error(request, "Refused: the form was posted from another site.", 403)
    fields = await _form_fields(request)
    try:
        runtime_of(request).settings.speed = parse_speed(fields.get("speed"))
    except ValueError as exc:
        return _form_error(request, str(exc))
    return _done("speed")


@router.post(f"{PREFIX}/reset")
async def reset_form(request: Request) -> Response:
    if _from_another_site(request):
        return _form_error(request, "Refused: the form was posted from another site.", 403)
    runtime_of(request).reset()
    return _done("reset")
