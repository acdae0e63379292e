"""What a verified webhook becomes: its id for de-duplication, its asset kind, and an extra safe to show."""

from __future__ import annotations

import pytest

from airflow_provider_telnyx_fax.assets import FaxEventKind
from airflow_provider_telnyx_fax.plugins.events import FaxEventError, asset_event_extra, event_id_of, event_kind
from tests.unit.plugins.conftest import fax_event


def test_only_terminal_events_have_an_asset_kind():
    assert event_kind(fax_event("fax.received")) is FaxEventKind.RECEIVED
    assert event_kind(fax_event("fax.delivered")) is FaxEventKind.DELIVERED
    assert event_kind(fax_event("fax.failed")) is FaxEventKind.FAILED
    assert event_kind(fax_event("fax.sending.started")) is None


def test_the_extra_masks_numbers_and_leaves_out_links_and_client_state():
    event = fax_event(
        "fax.received",
        event_id="evt-1",
        to="+13125550123",
        media_url="https://files.example/fax.pdf?sig=secret",
        client_state="c2VjcmV0",
    )

    extra = asset_event_extra(event, "telnyx_fax_default")

    assert extra["event_id"] == event_id_of(event) == "evt-1"
    assert extra["to"] == "+1•••••0123"
    assert "media_url" not in extra
    assert "client_state" not in extra
    assert "secret" not in repr(extra)


def test_an_event_without_an_id_cannot_be_recorded_exactly_once():
    event = fax_event("fax.received")
    event["data"]["id"] = ""

    with pytest.raises(FaxEventError, match=r"data\.id"):
        event_id_of(event)
