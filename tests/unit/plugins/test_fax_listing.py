"""The page's connections and listings against the emulator; a run's start from the metadata database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
from airflow_provider_telnyx_fax.plugins import fax_listing
from airflow_provider_telnyx_fax.plugins.fax_listing import (
    forget_shared_listings,
    is_telnyx_connection,
    list_faxes,
    run_window_start,
    telnyx_connection_ids,
)
from tests.support.faxes_page import send_keyed_fax


@pytest.fixture(autouse=True)
def _fresh_listings() -> None:
    forget_shared_listings()


def test_only_telnyx_fax_connections_are_offered(airflow_db: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW_CONN_BACKUP_FAX", emulator.airflow_conn_json)
    monkeypatch.setenv("AIRFLOW_CONN_SOME_HTTP", json.dumps({"conn_type": "http", "host": "example.com"}))

    assert telnyx_connection_ids() == ["backup_fax", "telnyx_fax_default"]
    assert is_telnyx_connection("some_http") is False
    assert is_telnyx_connection("no_such_connection") is False


def test_the_listing_walks_every_page_and_stops_at_the_cap(emulator: Any, monkeypatch: pytest.MonkeyPatch):
    hook = TelnyxFaxHook()
    sent = [send_keyed_fax(hook, f"+1555010{20 + n:04d}", dag_id="d", task_id="t", run_id="r") for n in range(5)]
    monkeypatch.setattr(fax_listing, "PAGE_SIZE", 2)
    since = datetime.now(timezone.utc) - timedelta(hours=1)

    listing = list_faxes("telnyx_fax_default", since=since)

    assert {fax["id"] for fax in listing.faxes} == {fax["id"] for fax in sent}
    assert listing.truncated is False
    assert listing.since == since.replace(second=0, microsecond=0)
    forget_shared_listings()
    monkeypatch.setattr(fax_listing, "MAX_FAXES", 3)
    capped = list_faxes("telnyx_fax_default", since=since)
    assert (len(capped.faxes), capped.truncated) == (3, True)


def test_pages_asking_the_same_at_once_share_one_listing(emulator: Any):
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    first = list_faxes("telnyx_fax_default", since=since, direction="outbound")
    requests_before = emulator.request_count("GET", "/v2/faxes")

    again = list_faxes("telnyx_fax_default", since=since, direction="outbound")

    assert again is first
    assert emulator.request_count("GET", "/v2/faxes") == requests_before


def test_a_run_is_listed_from_a_little_before_it_started(airflow_db: Any):
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState

    started = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)
    with create_session() as session:
        session.add(
            DagRun(dag_id="faxes_listing_test", run_id="manual__listing", run_type="manual", state=DagRunState.SUCCESS,
                   start_date=started, queued_at=started + timedelta(seconds=5))
        )  # fmt: skip
    try:
        assert run_window_start("faxes_listing_test", "manual__listing") == started - timedelta(minutes=5)
        assert run_window_start("faxes_listing_test", "no_such_run") is None
    finally:
        with create_session() as session:
            session.query(DagRun).filter(DagRun.dag_id == "faxes_listing_test").delete()
