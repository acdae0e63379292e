"""Keeping the seen webhook event ids bounded: pruned every so many events, in bounded batches, never failing one."""

from __future__ import annotations

import importlib.util
import uuid

import pytest

from airflow_provider_telnyx_fax.plugins import pruning
from airflow_provider_telnyx_fax.plugins.recording import record_fax_event
from tests.unit.plugins.conftest import RECEIVED_URI, asset_events, asset_id_of, seen_at, seen_event_rows

needs_state_store = pytest.mark.skipif(
    importlib.util.find_spec("airflow.models.asset_state_store") is None, reason="needs Airflow 3.3's asset state store"
)


@needs_state_store
class TestPruning:
    @pytest.fixture(autouse=True)
    def every_fourth_event(self, monkeypatch):
        monkeypatch.setattr(pruning, "schedule", pruning.PruneSchedule(every=4))

    def record(self, count: int, keep: int) -> None:
        for _ in range(count):
            event_id = str(uuid.uuid4())
            assert record_fax_event(RECEIVED_URI, event_id, {"event_id": event_id}, keep=keep).outcome == "recorded"

    def test_seen_ids_are_pruned_every_so_many_events_not_on_each(self, assets):
        assets(RECEIVED_URI)

        self.record(3, keep=2)
        assert len(seen_event_rows(RECEIVED_URI)) == 3

        self.record(1, keep=2)
        assert len(seen_event_rows(RECEIVED_URI)) == 2
        assert len(asset_events(RECEIVED_URI)) == 4

    def test_a_prune_deletes_at_most_one_batch_of_the_oldest(self, assets):
        from airflow.models.asset_state_store import AssetStateStoreModel

        assets(RECEIVED_URI)
        self.record(3, keep=10)
        self.record(3, keep=10)
        oldest_first = sorted(seen_event_rows(RECEIVED_URI), key=seen_at)
        asset_id = asset_id_of(RECEIVED_URI)

        assert pruning.prune_seen_event_ids(AssetStateStoreModel, asset_id, keep=1, batch=2) == 2

        assert sorted(seen_event_rows(RECEIVED_URI), key=seen_at) == oldest_first[2:]

    def test_a_failed_prune_leaves_the_event_recorded(self, assets, failing_statements):
        assets(RECEIVED_URI)
        failing_statements("DELETE FROM asset_state_store")

        self.record(4, keep=1)

        assert len(asset_events(RECEIVED_URI)) == 4
        assert len(seen_event_rows(RECEIVED_URI)) == 4
