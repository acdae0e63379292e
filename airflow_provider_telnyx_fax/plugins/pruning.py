"""
Keep the record of seen webhook event ids bounded, off the path that records an event.

Pruning on every event put a ``SELECT … OFFSET`` and a ``DELETE`` in each event's write
transaction and held the database's write lock for them. Now each api-server process prunes an
asset once every :data:`PRUNE_EVERY` events it recorded there, after the event is committed, in
a transaction of its own, deleting at most :data:`PRUNE_BATCH` of the oldest rows beyond the
newest ``keep``. As the batch is larger than the interval, each process deletes more than it adds
and the excess over ``keep`` stays below ``PRUNE_EVERY`` per process. A failed prune is logged and
left to the next one: the event it follows is already recorded and answered.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

log = logging.getLogger(__name__)

SEEN_KEY_PREFIX = "telnyx_fax.webhook_event."
PRUNE_EVERY = 100
PRUNE_BATCH = 1_000


class PruneSchedule:
    """Counts recorded events per asset in this process; says when one is due for pruning."""

    def __init__(self, every: int = PRUNE_EVERY) -> None:
        self.every = max(1, every)
        self._recorded: Counter[int] = Counter()
        self._lock = threading.Lock()

    def due(self, asset_id: int) -> bool:
        with self._lock:
            self._recorded[asset_id] += 1
            return self._recorded[asset_id] % self.every == 0


schedule = PruneSchedule()


def prune_seen_event_ids(model: Any, asset_id: int, keep: int, batch: int = PRUNE_BATCH) -> int:
    """Delete up to ``batch`` of the asset's oldest seen-id rows beyond its newest ``keep``; how many went."""
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select

    ours = (model.asset_id == asset_id) & model.key.startswith(SEEN_KEY_PREFIX, autoescape=True)
    with create_session() as session:
        oldest_kept = session.scalar(
            select(model.updated_at).where(ours).order_by(model.updated_at.desc()).offset(keep - 1).limit(1)
        )
        if oldest_kept is None:
            return 0
        # The keys first, then a delete by key: MySQL refuses a LIMIT inside a DELETE's subquery.
        keys = list(
            session.scalars(
                select(model.key).where(ours, model.updated_at < oldest_kept).order_by(model.updated_at).limit(batch)
            )
        )
        if keys:
            session.execute(
                delete(model)
                .where(model.asset_id == asset_id, model.key.in_(keys))
                .execution_options(synchronize_session=False)
            )
        return len(keys)


def prune_after_record(model: Any, asset_id: int, keep: int) -> None:
    """Prune the asset's seen ids when this process is due to; never raises."""
    if not schedule.due(asset_id):
        return
    try:
        deleted = prune_seen_event_ids(model, asset_id, keep)
    except Exception:
        # The event is recorded; the next due prune catches up.
        log.warning("Pruning the seen webhook event ids of asset %s failed; retried later", asset_id, exc_info=True)
        return
    if deleted:
        log.info("Pruned %d seen webhook event ids of asset %s", deleted, asset_id)
