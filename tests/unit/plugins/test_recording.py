"""Recording a webhook as an asset event, once per Telnyx event id."""

from __future__ import annotations

import importlib.util

import pytest

from airflow_provider_telnyx_fax.plugins import recording
from airflow_provider_telnyx_fax.plugins.recording import RecordingFailed, record_fax_event
from tests.unit.plugins.conftest import RECEIVED_URI, asset_events, seen_event_rows

needs_state_store = pytest.mark.skipif(
    importlib.util.find_spec("airflow.models.asset_state_store") is None, reason="needs Airflow 3.3's asset state store"
)


def test_an_event_id_is_recorded_once_and_a_redelivery_is_a_duplicate(assets):
    assets(RECEIVED_URI)

    first = record_fax_event(RECEIVED_URI, "evt-1", {"event_id": "evt-1", "fax_id": "f1"})
    again = record_fax_event(RECEIVED_URI, "evt-1", {"event_id": "evt-1", "fax_id": "f1"})
    other = record_fax_event(RECEIVED_URI, "evt-2", {"event_id": "evt-2", "fax_id": "f2"})

    assert (first.outcome, again.outcome, other.outcome) == ("recorded", "duplicate", "recorded")
    assert [extra["event_id"] for extra in asset_events(RECEIVED_URI)] == ["evt-1", "evt-2"]


def test_no_asset_means_nothing_is_recorded(assets):
    assert record_fax_event("telnyx-fax://nobody/received", "evt-9", {"event_id": "evt-9"}).outcome == "no_asset"


@needs_state_store
class TestConflicts:
    def test_a_locked_database_is_waited_out_and_the_event_recorded_once(self, assets, failing_statements):
        assets(RECEIVED_URI)
        failed = failing_statements("INSERT INTO asset_state_store", times=3)

        outcome = record_fax_event(RECEIVED_URI, "evt-1", {"event_id": "evt-1", "fax_id": "f1"})

        assert outcome.outcome == "recorded"
        assert len(failed) == 3
        assert [extra["event_id"] for extra in asset_events(RECEIVED_URI)] == ["evt-1"]
        assert seen_event_rows(RECEIVED_URI) == [recording.SEEN_KEY_PREFIX + "evt-1"]

    def test_a_lock_that_outlasts_the_budget_fails_the_event_and_records_nothing(self, assets, failing_statements):
        assets(RECEIVED_URI)
        failed = failing_statements("INSERT INTO asset_state_store")

        with pytest.raises(RecordingFailed, match="OperationalError"):
            record_fax_event(RECEIVED_URI, "evt-1", {"event_id": "evt-1"}, budget=0.3)

        assert len(failed) > 1
        assert asset_events(RECEIVED_URI) == []
        assert seen_event_rows(RECEIVED_URI) == []

    def test_a_conflict_after_the_claim_is_retried_from_the_start(self, assets, failing_statements):
        assets(RECEIVED_URI)
        failing_statements("INSERT INTO asset_event", times=2)

        assert record_fax_event(RECEIVED_URI, "evt-1", {"event_id": "evt-1"}).outcome == "recorded"

        assert len(asset_events(RECEIVED_URI)) == 1
        assert len(seen_event_rows(RECEIVED_URI)) == 1

    def test_any_other_database_error_fails_at_once(self, assets, failing_statements):
        assets(RECEIVED_URI)
        failed = failing_statements("INSERT INTO asset_state_store", message="disk I/O error")

        with pytest.raises(RecordingFailed):
            record_fax_event(RECEIVED_URI, "evt-1", {"event_id": "evt-1"})

        assert len(failed) == 1
        assert asset_events(RECEIVED_URI) == []

    @pytest.mark.parametrize(
        ("orig", "retried"),
        [
            (type("PgError", (Exception,), {"pgcode": "40001"})(), True),
            (type("PgError", (Exception,), {"pgcode": "40P01"})(), True),
            (type("PgError", (Exception,), {"sqlstate": "55P03"})(), True),
            (type("PgError", (Exception,), {"pgcode": "23505"})(), False),
            (Exception("database is locked"), True),
            (Exception("no such table: asset"), False),
        ],
        ids=["pg-serialization", "pg-deadlock", "pg-lock-timeout", "pg-unique", "sqlite-locked", "sqlite-other"],
    )
    def test_which_errors_are_conflicts(self, orig, retried):
        from sqlalchemy.exc import OperationalError

        assert recording.is_conflict(OperationalError("INSERT ...", None, orig)) is retried
