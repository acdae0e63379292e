"""InboundFaxSensor against the emulator: poke and deferral, the window it waits on, its events."""

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
from tests.support.inbound import INBOX, OTHER_INBOX, first_event, ids, watermark


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
