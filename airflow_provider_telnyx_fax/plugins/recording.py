"""
Record a verified fax event as an asset event, exactly once per Telnyx event id.

Telnyx delivers an event again when an answer is slow or not 2xx, and again to the failover URL;
an attacker may replay a captured webhook inside the signature's time window. Neither may start a
second DAG run. The record of ids already seen lives in the metadata database, in the same
transaction as the asset event, so the two are committed together or not at all:

* **Airflow 3.3+**: one row per event id in the asset's state store (``asset_state_store``,
  key ``telnyx_fax.webhook_event.<id>``). The table's primary key makes the insert itself the
  test, so two concurrent deliveries (two api-server workers, primary and failover URL) cannot
  both pass. At least the newest ``[telnyx_fax] webhook_seen_event_ids`` ids per asset are kept.
* **Airflow 3.2** (no asset state store): the asset's own newest events, as many as that same
  setting, are searched for the id under a row lock on the asset (PostgreSQL, MySQL; SQLite
  serialises writers itself).

Telnyx does not send an event again to the primary URL after a 5xx, so a lock conflict must not
lose it. The write transaction holds only the claim and the asset event, its first statement is
the claim's insert (on SQLite a transaction that has read first cannot wait for the write lock,
it fails at once), and a lock or serialization conflict is retried with jittered backoff for at
most :data:`RECORD_BUDGET_SECONDS`. Pruning the seen ids happens now and then, in bounded batches,
in a transaction of its own after the event is committed (:mod:`.pruning`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.plugins.pruning import SEEN_KEY_PREFIX, prune_after_record

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

DEFAULT_SEEN_EVENT_IDS = 10_000
# How long one event may spend retrying conflicts. Telnyx waits for an answer as long as the Fax
# Application's webhook_timeout_secs (at most 30 s; 25 in Telnyx's own example); 5 s of retries plus
# the last attempt's own lock wait stay well inside it, and a 503 then still reaches the failover URL
# before Telnyx gives up on the primary. Conflicts last milliseconds: 5 s is dozens of attempts.
RECORD_BUDGET_SECONDS = 5.0
# Full-jitter exponential backoff between attempts: 20 ms, 40 ms, ... capped at 0.5 s.
_BACKOFF_FIRST_SECONDS = 0.02
_BACKOFF_MAX_SECONDS = 0.5
# SQLSTATEs of a conflict that a new attempt can win: serialization_failure, deadlock_detected,
# lock_not_available (lock_timeout); MySQL's lock wait timeout and deadlock error numbers.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
_RETRYABLE_MYSQL_ERRORS = frozenset({1205, 1213})
_SQLITE_LOCKED = ("database is locked", "database table is locked", "database schema has changed")
# SQLite takes one writer at a time, and its busy handler is no queue: a waiter polls, and under a burst one
# can lose every poll for the whole busy timeout (5 s) and fail. So on SQLite the threads of one api-server
# process take turns here first, in order, and only the processes compete in SQLite.
_sqlite_writer = threading.Lock()


@dataclass(frozen=True)
class RecordOutcome:
    """What happened to one event: ``recorded``, ``duplicate`` or ``no_asset`` (no DAG uses the asset)."""

    outcome: str
    asset_event_id: int | None = None


class RecordingFailed(Exception):
    """The event could not be recorded: conflicts outlasted the budget, or the database failed otherwise."""


@dataclass(frozen=True)
class _Asset:
    id: int
    name: str
    uri: str


def is_conflict(error: BaseException) -> bool:
    """Whether ``error`` is a lock or serialization conflict (or a dropped connection) a new attempt may win."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    # psycopg2 names it pgcode, psycopg 3 sqlstate.
    sqlstate = getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    args = getattr(original, "args", ())
    if args and args[0] in _RETRYABLE_MYSQL_ERRORS:
        return True
    message = str(original).lower()
    return any(text in message for text in _SQLITE_LOCKED)


def _state_store_model() -> Any:
    try:
        from airflow.models.asset_state_store import AssetStateStoreModel
    except ImportError:  # Airflow 3.2
        return None
    return AssetStateStoreModel


def _find_asset(uri: str) -> _Asset | None:
    """The asset named by ``uri``, read in a transaction of its own, before the write one starts."""
    from airflow.models.asset import AssetActive, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    # An active asset first: a renamed asset leaves its old row behind, inactive, with the same URI.
    query = (
        select(AssetModel.id, AssetModel.name, AssetModel.uri)
        .outerjoin(AssetActive, (AssetActive.name == AssetModel.name) & (AssetActive.uri == AssetModel.uri))
        .where(AssetModel.uri == uri)
        .order_by(AssetActive.name.is_(None), AssetModel.id)
        .limit(1)
    )
    with create_session() as session:
        row = session.execute(query).first()
    return None if row is None else _Asset(int(row.id), str(row.name), str(row.uri))


def _claim_with_state_store(session: Session, model: Any, asset_id: int, event_id: str) -> bool:
    """Insert the event id's row; ``False`` when it is already there."""
    from sqlalchemy.exc import IntegrityError

    session.add(
        model(
            asset_id=asset_id,
            key=SEEN_KEY_PREFIX + event_id,
            value=json.dumps({"event_id": event_id}),
            updated_at=datetime.now(timezone.utc),
        )
    )
    try:
        session.flush()
    except IntegrityError:
        # Nothing else was written in this transaction yet: rolling it back loses nothing.
        session.rollback()
        return False
    return True


def _claim_with_asset_events(session: Session, asset_id: int, event_id: str, keep: int) -> bool:
    """Airflow 3.2: ``False`` when one of the asset's newest ``keep`` events already carries the id."""
    from airflow.models.asset import AssetEvent, AssetModel
    from sqlalchemy import select

    session.scalar(select(AssetModel.id).where(AssetModel.id == asset_id).with_for_update())
    recent = session.scalars(
        select(AssetEvent.extra).where(AssetEvent.asset_id == asset_id).order_by(AssetEvent.id.desc()).limit(keep)
    )
    return not any(isinstance(extra, dict) and extra.get("event_id") == event_id for extra in recent)


def _bound_lock_wait(session: Session, seconds: float) -> None:
    """On PostgreSQL, wait for a row lock no longer than ``seconds`` in this transaction (``SET LOCAL``)."""
    from sqlalchemy import text

    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = {max(1, int(seconds * 1000))}"))


@contextlib.contextmanager
def _write_turn(deadline: float) -> Iterator[None]:
    """On SQLite, this process's turn to write, waited for until ``deadline``; elsewhere nothing to wait for."""
    from airflow import settings

    if settings.engine is None or settings.engine.dialect.name != "sqlite":
        yield
        return
    if not _sqlite_writer.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise RecordingFailed("no turn to write within the budget")
    try:
        yield
    finally:
        _sqlite_writer.release()


def _record_once(uri: str, event_id: str, extra: dict[str, Any], keep: int, deadline: float) -> RecordOutcome:
    """One attempt, one write transaction (the claim, then the asset event), committed before it returns."""
    asset = _find_asset(uri)
    if asset is None:
        return RecordOutcome("no_asset")
    model = _state_store_model()
    with _write_turn(deadline):
        outcome = _write(asset, model, event_id, extra, keep, deadline)
        if outcome.outcome == "recorded" and model is not None:
            prune_after_record(model, asset.id, keep)
    return outcome


def _write(
    asset: _Asset, model: Any, event_id: str, extra: dict[str, Any], keep: int, deadline: float
) -> RecordOutcome:
    """The write transaction: the claim first (see the module's docstring), then the asset event."""
    from airflow.assets.manager import asset_manager
    from airflow.models.asset import AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        _bound_lock_wait(session, max(0.1, deadline - time.monotonic()))
        if model is not None:
            claimed = _claim_with_state_store(session, model, asset.id, event_id)
        else:
            claimed = _claim_with_asset_events(session, asset.id, event_id, keep)
        if not claimed:
            return RecordOutcome("duplicate")
        # As POST /api/v2/assets/events does: the event, the queued DAG runs and the listeners' notice.
        asset_event = asset_manager.register_asset_change(
            asset=AssetModel(name=asset.name, uri=asset.uri), extra=extra, source_is_api=True, session=session
        )
        if asset_event is None:
            session.rollback()
            return RecordOutcome("no_asset")
        session.flush()
        outcome = RecordOutcome("recorded", asset_event.id)
        # create_session commits on the way out; a conflict at commit is retried like any other.
    return outcome


def record_fax_event(
    uri: str,
    event_id: str,
    extra: dict[str, Any],
    *,
    keep: int = DEFAULT_SEEN_EVENT_IDS,
    budget: float | None = None,
) -> RecordOutcome:
    """
    Record ``extra`` as an asset event on the asset ``uri`` unless ``event_id`` was recorded before.

    :param keep: how many seen event ids to keep per asset, at least.
    :param budget: seconds to keep retrying lock and serialization conflicts; :data:`RECORD_BUDGET_SECONDS` by default.
    :raises RecordingFailed: conflicts outlasted ``budget``, or the database failed in another way.
    """
    from sqlalchemy.exc import SQLAlchemyError
    from tenacity import Retrying, retry_if_exception, stop_before_delay, wait_random_exponential

    budget = RECORD_BUDGET_SECONDS if budget is None else budget
    retrying = Retrying(
        retry=retry_if_exception(is_conflict),
        stop=stop_before_delay(budget),
        wait=wait_random_exponential(multiplier=_BACKOFF_FIRST_SECONDS, max=_BACKOFF_MAX_SECONDS),
        reraise=True,
    )
    try:
        return retrying(_record_once, uri, event_id, extra, max(1, int(keep)), time.monotonic() + budget)
    except SQLAlchemyError as error:
        attempts = retrying.statistics.get("attempt_number", 1)
        raise RecordingFailed(f"{type(error).__name__} after {attempts} attempt(s)") from error
