"""
Record a verified fax event as an asset event, exactly once per Telnyx event id.

Telnyx delivers an event again when an answer is slow or not 2xx, and again to the failover URL;
an attacker may replay a captured webhook inside the signature's time window. Neither may start a
second DAG run. The record of ids already seen lives in the metadata database, in the same
transaction as the asset event, so the two are committed together or not at all:

* **Airflow 3.3+**: one row per event id in the asset's state store (``asset_state_store``,
  key ``telnyx_fax.webhook_event.<id>``). The table's primary key makes the insert itself the
  test, so two concurrent deliveries (two api-server workers, primary and failover URL) cannot
  both pass. The newest ``[telnyx_fax] webhook_seen_event_ids`` ids per asset are kept.
* **Airflow 3.2** (no asset state store): the asset's own newest events, as many as that same
  setting, are searched for the id under a row lock on the asset (PostgreSQL, MySQL; SQLite
  serialises writers itself).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

SEEN_KEY_PREFIX = "telnyx_fax.webhook_event."
DEFAULT_SEEN_EVENT_IDS = 10_000


@dataclass(frozen=True)
class RecordOutcome:
    """What happened to one event: ``recorded``, ``duplicate`` or ``no_asset`` (no DAG uses the asset)."""

    outcome: str
    asset_event_id: int | None = None


def _state_store_model() -> Any:
    try:
        from airflow.models.asset_state_store import AssetStateStoreModel
    except ImportError:  # Airflow 3.2
        return None
    return AssetStateStoreModel


def _find_asset(session: Session, uri: str) -> Any:
    from airflow.models.asset import AssetActive, AssetModel
    from sqlalchemy import select

    # An active asset first: a renamed asset leaves its old row behind, inactive, with the same URI.
    query = (
        select(AssetModel)
        .outerjoin(AssetActive, (AssetActive.name == AssetModel.name) & (AssetActive.uri == AssetModel.uri))
        .where(AssetModel.uri == uri)
        .order_by(AssetActive.name.is_(None), AssetModel.id)
        .limit(1)
    )
    return session.scalar(query)


def _claim_with_state_store(session: Session, model: Any, asset_id: int, event_id: str, keep: int) -> bool:
    """Insert the event id's row; ``False`` when it is already there. Prunes beyond the newest ``keep``."""
    from sqlalchemy import delete, select
    from sqlalchemy.exc import IntegrityError

    key = SEEN_KEY_PREFIX + event_id
    session.add(
        model(
            asset_id=asset_id, key=key, value=json.dumps({"event_id": event_id}), updated_at=datetime.now(timezone.utc)
        )
    )
    try:
        session.flush()
    except IntegrityError:
        # Nothing else was written in this transaction yet: rolling it back loses nothing.
        session.rollback()
        return False
    ours = (model.asset_id == asset_id) & model.key.startswith(SEEN_KEY_PREFIX, autoescape=True)
    oldest_kept = session.scalar(
        select(model.updated_at).where(ours).order_by(model.updated_at.desc()).offset(keep - 1).limit(1)
    )
    if oldest_kept is not None:
        session.execute(
            delete(model).where(ours, model.updated_at < oldest_kept).execution_options(synchronize_session=False)
        )
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


def record_fax_event(
    uri: str, event_id: str, extra: dict[str, Any], *, keep: int = DEFAULT_SEEN_EVENT_IDS
) -> RecordOutcome:
    """Record ``extra`` as an asset event on the asset ``uri`` unless ``event_id`` was recorded before."""
    from airflow.assets.manager import asset_manager
    from airflow.utils.session import create_session

    keep = max(1, int(keep))
    with create_session() as session:
        asset = _find_asset(session, uri)
        if asset is None:
            return RecordOutcome("no_asset")
        model = _state_store_model()
        if model is not None:
            claimed = _claim_with_state_store(session, model, asset.id, event_id, keep)
        else:
            claimed = _claim_with_asset_events(session, asset.id, event_id, keep)
        if not claimed:
            return RecordOutcome("duplicate")
        # As POST /api/v2/assets/events does: the event, the queued DAG runs and the listeners' notice.
        asset_event = asset_manager.register_asset_change(asset=asset, extra=extra, source_is_api=True, session=session)
        if asset_event is None:
            session.rollback()
            return RecordOutcome("no_asset")
        session.flush()
        return RecordOutcome("recorded", asset_event.id)
