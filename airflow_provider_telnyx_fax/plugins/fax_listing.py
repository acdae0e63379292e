"""
Where the Faxes page gets its faxes: the ``telnyx_fax`` connections, Telnyx's fax list, a run's start.

The list is read with :class:`~airflow_provider_telnyx_fax.hooks.fax.TelnyxFaxHook`, page by page,
exactly as against the emulator: only the connection differs. Every open page polls while faxes
are in flight, so one listing is shared for a couple of seconds by every page asking the same.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

CONN_TYPE = "telnyx_fax"
DEFAULT_CONN_ID = "telnyx_fax_default"
# A page of the list API; 250 is the most Telnyx returns at once.
PAGE_SIZE = 250
# The most faxes one view lists; past it the page says the view is cut short (narrow the window).
MAX_FAXES = 5000
# How long one listing answers the same question again (every open page polls while faxes are in flight).
SHARE_SECONDS = 2.0
# A run's faxes are listed from a little before it started: the api-server's clock and Telnyx's may differ.
CLOCK_SKEW_MARGIN = timedelta(minutes=5)
_ENV_PREFIX = "AIRFLOW_CONN_"


def is_telnyx_connection(conn_id: str) -> bool:
    """Whether ``conn_id`` names a connection of type ``telnyx_fax`` (in any secrets backend)."""
    from airflow.models.connection import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return bool(Connection.get_connection_from_secrets(conn_id).conn_type == CONN_TYPE)
    except AirflowNotFoundException:
        return False


def telnyx_connection_ids() -> list[str]:
    """
    The ids of the ``telnyx_fax`` connections the page offers: those in the metadata database and
    in ``AIRFLOW_CONN_*`` variables. A secrets backend cannot be listed; its connection is offered
    when it is ``telnyx_fax_default``.
    """
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        ids = set(session.scalars(select(Connection.conn_id).where(Connection.conn_type == CONN_TYPE)))
    candidates = {name[len(_ENV_PREFIX) :].lower() for name in os.environ if name.startswith(_ENV_PREFIX)}
    candidates.add(DEFAULT_CONN_ID)
    ids |= {conn_id for conn_id in candidates - ids if is_telnyx_connection(conn_id)}
    return sorted(ids)


@dataclass(frozen=True)
class Listing:
    """The faxes Telnyx listed for one view, newest first as the API returns them."""

    faxes: tuple[dict[str, Any], ...]
    truncated: bool
    since: datetime


class _SharedListings:
    """Listings by (connection, window start, direction), each kept for ``SHARE_SECONDS``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, str], tuple[float, Listing]] = {}

    def get(self, key: tuple[str, str, str]) -> Listing | None:
        with self._lock:
            entry = self._entries.get(key)
            return entry[1] if entry and time.monotonic() - entry[0] < SHARE_SECONDS else None

    def put(self, key: tuple[str, str, str], listing: Listing) -> None:
        with self._lock:
            now = time.monotonic()
            self._entries = {k: v for k, v in self._entries.items() if now - v[0] < SHARE_SECONDS}
            self._entries[key] = (now, listing)

    def clear(self) -> None:
        with self._lock:
            self._entries = {}


_shared = _SharedListings()


def forget_shared_listings() -> None:
    """Drop every shared listing (the next request lists afresh)."""
    _shared.clear()


def list_faxes(conn_id: str, *, since: datetime, direction: str | None = None) -> Listing:
    """
    Every fax created since ``since`` (at most ``MAX_FAXES``), listed with connection ``conn_id``.

    ``since`` is taken to the minute below, so pages polling at once ask, and share, the same.
    """
    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

    since = since.astimezone(timezone.utc).replace(second=0, microsecond=0)
    key = (conn_id, since.isoformat(), direction or "")
    shared = _shared.get(key)
    if shared is not None:
        return shared
    # One quick retry: a page poll that fails is shown as such and asked again at the next poll.
    hook = TelnyxFaxHook(conn_id, max_retries=1, backoff_max=2.0, read_timeout=20.0)
    faxes: list[dict[str, Any]] = []
    truncated = False
    try:
        for fax in hook.list_faxes(page_size=PAGE_SIZE, direction=direction, created_at_gte=since.isoformat()):
            if len(faxes) == MAX_FAXES:
                truncated = True
                break
            faxes.append(fax)
    finally:
        hook.close()
    listing = Listing(tuple(faxes), truncated, since)
    _shared.put(key, listing)
    return listing


def run_started_at(dag_id: str, run_id: str) -> datetime | None:
    """When the run was queued or started (the earlier), or ``None`` when there is no such run here."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.execute(
            select(DagRun.queued_at, DagRun.start_date).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
        ).first()
    moments = [moment for moment in (row or ()) if moment is not None]
    return min(moments) if moments else None


def run_window_start(dag_id: str, run_id: str) -> datetime | None:
    started = run_started_at(dag_id, run_id)
    return started - CLOCK_SKEW_MARGIN if started is not None else None
