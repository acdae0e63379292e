"""InboundFaxTrigger against the emulator: windows after a watermark, pagination, faxes still arriving, errors."""

from __future__ import annotations

import time

from airflow.sdk._shared.module_loading import import_string

from airflow_provider_telnyx_fax.triggers.inbound import InboundFaxTrigger
from tests.support.inbound import INBOX, OTHER_INBOX, first_event, ids, watermark


class TestTriggerSerialization:
    def test_round_trip_rebuilds_an_equal_trigger(self):
        trigger = InboundFaxTrigger(since="2026-01-01T00:00:00+00:00", to=INBOX, poll_interval=5, page_size=2)

        classpath, kwargs = trigger.serialize()
        rebuilt = import_string(classpath)(**kwargs)

        assert rebuilt.serialize() == (classpath, kwargs)
        assert classpath == "airflow_provider_telnyx_fax.triggers.inbound.InboundFaxTrigger"

    def test_kwargs_survive_airflow_serde_and_hold_no_secret(self, emulator):
        from airflow.sdk.serde import deserialize, serialize

        _, kwargs = InboundFaxTrigger(since="2026-01-01T00:00:00+00:00", end_time=1_900_000_000.5).serialize()

        assert deserialize(serialize(kwargs)) == kwargs
        assert all(isinstance(value, (str, int, float, type(None))) for value in kwargs.values())
        assert emulator.api_key not in repr(kwargs)


async def test_trigger_returns_exactly_the_faxes_received_after_the_watermark_across_pages(emulator, receive):
    before = receive(2)
    since = watermark()
    after = receive(5)
    receive(1, to=OTHER_INBOX)
    pages_before = emulator.request_count("GET", "/v2/faxes")

    event = await first_event(InboundFaxTrigger(since=since, to=INBOX, poll_interval=0.05, page_size=2))

    assert event["status"] == "received"
    assert ids(event["faxes"]) == ids(after)
    assert not set(ids(before)) & set(ids(event["faxes"]))
    assert emulator.request_count("GET", "/v2/faxes") - pages_before == 3  # 5 faxes, 2 a page


async def test_trigger_waits_for_a_fax_to_finish_arriving(emulator, receive):
    since = watermark()
    emulator.set_speed(20)  # a one-page fax now takes about 1.6 s to arrive
    [arriving] = receive(1, wait=False)

    event = await first_event(InboundFaxTrigger(since=since, to=INBOX, poll_interval=0.05))

    assert ids(event["faxes"]) == [arriving["id"]]
    assert event["faxes"][0]["status"] == "received"


async def test_trigger_without_to_sees_every_number(emulator, receive):
    since = watermark()
    faxes = receive(1) + receive(1, to=OTHER_INBOX)

    event = await first_event(InboundFaxTrigger(since=since, poll_interval=0.05))

    assert sorted(ids(event["faxes"])) == sorted(ids(faxes))


async def test_trigger_times_out(emulator):
    trigger = InboundFaxTrigger(since=watermark(), to=INBOX, poll_interval=0.05, end_time=time.time() + 0.3)

    event = await first_event(trigger)

    assert event["status"] == "timeout"


async def test_trigger_rides_out_transient_errors_and_gives_up_after_the_cap(emulator, receive):
    since = watermark()
    receive(1)
    emulator.add_fault("GET", "/v2/faxes", "unavailable", count=2)

    event = await first_event(InboundFaxTrigger(since=since, to=INBOX, poll_interval=0.05))
    assert event["status"] == "received"

    emulator.add_fault("GET", "/v2/faxes", "server_error", count=10)
    event = await first_event(InboundFaxTrigger(since=since, to=INBOX, poll_interval=0.05, max_consecutive_errors=2))
    assert event["status"] == "error"
    assert "3 failed checks" in event["message"]
