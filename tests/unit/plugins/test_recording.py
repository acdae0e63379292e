"""Recording a webhook as an asset event, once per Telnyx event id."""

from __future__ import annotations

from airflow_provider_telnyx_fax.plugins.recording import record_fax_event
from tests.unit.plugins.conftest import RECEIVED_URI, asset_events


def test_an_event_id_is_recorded_once_and_a_redelivery_is_a_duplicate(assets):
    assets(RECEIVED_URI)

    first = record_fax_event(RECEIVED_URI, "evt-1", {"event_id": "evt-1", "fax_id": "f1"})
    again = record_fax_event(RECEIVED_URI, "evt-1", {"event_id": "evt-1", "fax_id": "f1"})
    other = record_fax_event(RECEIVED_URI, "evt-2", {"event_id": "evt-2", "fax_id": "f2"})

    assert (first.outcome, again.outcome, other.outcome) == ("recorded", "duplicate", "recorded")
    assert [extra["event_id"] for extra in asset_events(RECEIVED_URI)] == ["evt-1", "evt-2"]


def test_no_asset_means_nothing_is_recorded(assets):
    assert record_fax_event("telnyx-fax://nobody/received", "evt-9", {"event_id": "evt-9"}).outcome == "no_asset"
