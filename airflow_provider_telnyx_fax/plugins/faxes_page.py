"""
The Faxes page on the api-server (mounted by :mod:`.telnyx_fax` under ``/telnyx-fax-ui``):

* ``GET /faxes``: the page (filters, an empty roll-up and table the script fills);
* ``GET /faxes.json``: the rows and roll-up the page draws, polled while a fax is in flight;
* ``GET /faxes.csv``: the same rows as CSV;
* ``GET /static/{name}``: the page's script and style sheet.

Every route, the static files included, depends on Airflow's ``get_user`` (:mod:`.access`), so an
anonymous request is refused with 401 before anything is listed. Pages carry a CSP that allows
only this origin's script and style, and Jinja2 escapes what the template prints; the script
writes data with ``textContent`` only.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

import jinja2
from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from airflow_provider_telnyx_fax.exceptions import TelnyxFaxError
from airflow_provider_telnyx_fax.plugins.access import visibility_for
from airflow_provider_telnyx_fax.plugins.fax_listing import (
    DEFAULT_CONN_ID,
    list_faxes,
    run_window_start,
    telnyx_connection_ids,
)
from airflow_provider_telnyx_fax.plugins.fax_rows import (
    DIRECTIONS,
    FILTER_NAMES,
    STATUS_FILTERS,
    WINDOWS,
    FilterError,
    Filters,
    fax_row,
    rollup,
    sort_newest_first,
    to_csv,
)
from airflow_provider_telnyx_fax.privacy import masking_enabled

if TYPE_CHECKING:
    from datetime import datetime

log = logging.getLogger(__name__)

# Airflow's own check: the bearer token, else the UI's ``_token`` cookie; none is 401, a bad one 403.
UserDep = Annotated[Any, Depends(get_user)]

_HERE = Path(__file__).resolve().parent
STATIC_TYPES = {"faxes.js": "text/javascript; charset=utf-8", "faxes.css": "text/css; charset=utf-8"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)
_HEADERS = {
    "content-security-policy": CSP,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
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


def _static_url(root: str, name: str) -> str:
    # The content hash lets a browser cache the file until it changes.
    return f"{root}/static/{name}?v={hashlib.sha256(static_file_bytes(name)).hexdigest()[:12]}"


def ui_root_of(request: Request) -> str:
    """The path the Airflow UI is served under: the api-server's root path, above this app's mount."""
    return str(request.scope.get("app_root_path") or "").rstrip("/")


def _filters_of(request: Request) -> Filters:
    try:
        return Filters.of(**{name: request.query_params.get(name) for name in FILTER_NAMES})
    except FilterError as error:
        raise HTTPException(400, str(error)) from None


async def _choose_connection(request: Request) -> tuple[list[str], str]:
    """The ``telnyx_fax`` connections and the one asked for (the default, else the first)."""
    connections = await run_in_threadpool(telnyx_connection_ids)
    asked = (request.query_params.get("conn_id") or "").strip()
    if asked:
        if asked not in connections:
            raise HTTPException(404, "No telnyx_fax connection has that id; choose one of the page's connections.")
        return connections, asked
    if not connections:
        raise HTTPException(
            404, "There is no telnyx_fax connection: add one (Admin > Connections) to see its faxes here."
        )
    return connections, DEFAULT_CONN_ID if DEFAULT_CONN_ID in connections else connections[0]


async def faxes_view(request: Request, user: Any) -> dict[str, Any]:
    """Everything the page shows for the request's connection and filters, as JSON-ready data."""
    filters = _filters_of(request)
    connections, conn_id = await _choose_connection(request)
    since = filters.since()
    if filters.dag_id and filters.run_id:
        run_start: datetime | None = await run_in_threadpool(run_window_start, filters.dag_id, filters.run_id)
        since = run_start or since
    try:
        listing = await run_in_threadpool(list_faxes, conn_id, since=since, direction=filters.direction or None)
    except TelnyxFaxError as error:
        # The hook's messages name the call and Telnyx's answer, never the key or the numbers.
        log.warning("Faxes page: listing faxes with %s failed: %s", conn_id, error)
        raise HTTPException(502, f"Telnyx did not list the faxes of {conn_id}: {error}") from None
    mask = masking_enabled()
    ui_root = ui_root_of(request)
    rows = [fax_row(fax, mask=mask, ui_root=ui_root) for fax in listing.faxes]
    visibility = await run_in_threadpool(visibility_for, user, conn_id, rows)
    visible = [row for row in rows if visibility.allows(row)]
    shown = sort_newest_first(row for row in visible if filters.matches(row))
    return {
        "conn_id": conn_id,
        "connections": connections,
        "filters": filters.query(),
        "since": listing.since.isoformat(),
        # Counted over what the user may see: how many faxes other DAGs sent is not theirs to know either.
        "listed": len(visible),
        "truncated": listing.truncated,
        "masked": mask,
        "dag_ids": sorted({row.dag_id for row in visible if row.dag_id}),
        "in_flight": sum(row.in_flight for row in shown),
        "rollup": [line.as_dict() for line in rollup(shown)],
        "rows": [row.as_dict() for row in shown],
        "shown": shown,
    }


def create_app() -> FastAPI:
    app = FastAPI(
        title="Telnyx Fax: the Faxes page",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # Airflow authenticates no plugin route: every route here asks Airflow who is calling.
        dependencies=[Depends(get_user)],
    )

    @app.get("/faxes")
    async def faxes_page(request: Request) -> Response:
        filters = _filters_of(request)
        try:
            connections, conn_id = await _choose_connection(request)
        except HTTPException:
            # The page still opens: its script shows why nothing is listed (the JSON's detail).
            connections = await run_in_threadpool(telnyx_connection_ids)
            conn_id = request.query_params.get("conn_id", "")
        root = str(request.scope.get("root_path") or "")
        query = urlencode({"conn_id": conn_id, **filters.query()})
        run_view = bool(filters.dag_id and filters.run_id)
        html = _templates.get_template("faxes.html").render(
            title="Faxes of this run" if run_view else "Faxes",
            run_view=run_view,
            filters=filters,
            connections=connections,
            chosen_conn_id=conn_id,
            windows=list(WINDOWS),
            statuses=STATUS_FILTERS,
            directions=DIRECTIONS,
            json_url=f"{root}/faxes.json?{query}",
            csv_url=f"{root}/faxes.csv?{query}",
            css_url=_static_url(root, "faxes.css"),
            js_url=_static_url(root, "faxes.js"),
        )
        return HTMLResponse(html, headers=_HEADERS)

    @app.get("/faxes.json")
    async def faxes_json(request: Request, user: UserDep) -> Response:
        view = await faxes_view(request, user)
        view.pop("shown")
        return JSONResponse(view, headers=_HEADERS)

    @app.get("/faxes.csv")
    async def faxes_csv(request: Request, user: UserDep) -> Response:
        view = await faxes_view(request, user)
        headers = {**_HEADERS, "content-disposition": 'attachment; filename="faxes.csv"'}
        return Response(to_csv(view["shown"]), media_type="text/csv; charset=utf-8", headers=headers)

    @app.get("/static/{name}")
    async def static_file(name: str) -> Response:
        if name not in STATIC_TYPES:
            return Response(b"Not found\n", 404, media_type="text/plain")
        headers = {"cache-control": "max-age=86400", "x-content-type-options": "nosniff"}
        return Response(static_file_bytes(name), 200, media_type=STATIC_TYPES[name], headers=headers)

    return app
