"""InboundFaxTrigger and InboundFaxSensor against the emulator: windows, pagination, poke and deferral."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow.sdk._shared.module_loading import import_string
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout, TaskDeferred

from airflow_provider_telnyx_fax.sensors.inbound import InboundFaxSensor
from airflow_provider_telnyx_fax.triggers.inbound import InboundFaxTrigger
from tests.inbound.conftest import INBOX, OTHER_INBOX, watermark


async def first_event(trigger: InboundFaxTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def ids(faxes: list[dict[str, Any]]) -> list[str]:
    return [fax["id"] for fax in faxes]


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


def sensor(**kwargs: Any) -> InboundFaxSensor:
    kwargs.setdefault("to", INBOX)
    kwargs.setdefault("timeout", 10)
    return InboundFaxSensor(task_id="wait_for_faxes", poll_interval=0.05, page_size=2, **kwargs)


def context_at(start: datetime | None) -> dict[str, Any]:
    return {"data_interval_start": start, "logical_date": start, "dag_run": None}


class TestSensor:
    def test_poke_mode_waits_then_returns_the_faxes_since_the_data_interval_start(self, emulator, receive):
        receive(1)
        start = datetime.now(timezone.utc)
        time.sleep(0.002)
        task = sensor(deferrable=False, mode="poke")
        assert task.poke(context_at(start)).is_done is False

        after = receive(3)

        assert ids(task.execute(context_at(start))) == ids(after)

    def test_poke_mode_times_out(self, emulator):
        task = sensor(deferrable=False, timeout=0.3, since=watermark())

        with pytest.raises(AirflowSensorTimeout):
            task.execute(context_at(None))

    def test_deferrable_returns_at_once_when_faxes_are_already_there(self, emulator, receive):
        since = watermark()
        after = receive(3)

        assert ids(sensor(deferrable=True, since=since).execute(context_at(None))) == ids(after)

    def test_deferrable_defers_then_completes_with_the_trigger_event(self, emulator, receive):
        since = watermark()
        task = sensor(deferrable=True, since=since)
        with pytest.raises(TaskDeferred) as deferred:
            task.execute(context_at(None))
        trigger = deferred.value.trigger
        assert isinstance(trigger, InboundFaxTrigger)
        classpath, kwargs = trigger.serialize()
        after = receive(3)

        event = asyncio.run(first_event(import_string(classpath)(**kwargs)))

        assert ids(task.execute_complete(context_at(None), event)) == ids(after)

    @pytest.mark.parametrize("event", [None, {}, {"status": "weird"}, "received"])
    def test_execute_complete_refuses_an_empty_or_unknown_event(self, event):
        with pytest.raises(AirflowException, match="empty or unknown event"):
            sensor(since="2026-01-01T00:00:00+00:00").execute_complete(context_at(None), event)

    def test_execute_complete_refuses_an_event_for_another_window(self):
        event = {"status": "received", "faxes": [{"id": "x"}], "to": OTHER_INBOX, "since": "2026-01-01T00:00:00+00:00"}
        with pytest.raises(AirflowException, match="another window"):
            sensor(since="2026-01-01T00:00:00+00:00").execute_complete(context_at(None), event)

    def test_execute_complete_turns_a_timeout_event_into_a_sensor_timeout(self):
        since = "2026-01-01T00:00:00+00:00"
        event = {"status": "timeout", "faxes": [], "to": INBOX, "since": since, "message": "none came"}
        with pytest.raises(AirflowSensorTimeout, match="none came"):
            sensor(since=since).execute_complete(context_at(None), event)

    def test_since_defaults_to_the_data_interval_start_in_utc(self):
        start = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
        assert sensor()._window(context_at(start)) == (INBOX, "2026-03-01T10:00:00+00:00", None)


def test_sensor_in_a_dag_defers_for_real_and_returns_the_faxes(run_dag, emulator, receive):
    since = watermark()
    arrived: list[dict[str, Any]] = []

    def send_after_the_first_check() -> None:
        # The faxes arrive only once the sensor has looked once and found none, so it must defer.
        while emulator.request_count("GET", "/v2/faxes") < 1:
            time.sleep(0.02)
        arrived.extend(receive(2))

    sender = threading.Thread(target=send_after_the_first_check, daemon=True)
    sender.start()
    result = run_dag("inbound_sensor_deferred", conf={"to": INBOX, "since": since})
    sender.join(10)

    assert result.task_states == {"wait_for_faxes": "success"}
    # The trigger fires on the first received fax; the second may still be arriving at that moment.
    returned = result.xcom("wait_for_faxes")
    assert returned
    assert set(ids(returned)) <= set(ids(arrived))
    assert {fax["status"] for fax in returned} == {"received"}
    assert emulator.request_count("GET", "/v2/faxes") >= 2
