"""FaxStatusTrigger polling the running emulator: one terminal event, restarts, faults, deadlines."""

from __future__ import annotations

import asyncio
import time

import pytest
from airflow.sdk._shared.module_loading import import_string

from airflow_provider_telnyx_fax import polling
from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
from airflow_provider_telnyx_fax.triggers.fax import FaxStatusTrigger
from tests.support.blocking import watch_blocking_calls
from tests.support.waiting import until

NEVER_FINISHES = "+15550100011"


def send(number: str = "+15550100000") -> str:
    return TelnyxFaxHook().send_fax(number, media_url="https://example.com/report.pdf")["id"]


async def collect(trigger: FaxStatusTrigger) -> list[dict]:
    return [event.payload async for event in trigger.run()]


def trigger_for(fax_id: str, **kwargs) -> FaxStatusTrigger:
    return FaxStatusTrigger(fax_id=fax_id, poll_interval=0.1, **kwargs)


class TestSerialization:
    def test_round_trip_rebuilds_an_equal_trigger(self):
        trigger = FaxStatusTrigger(fax_id="f-1", telnyx_conn_id="fax", poll_interval=7, end_time=1_900_000_000.5)

        classpath, kwargs = trigger.serialize()
        rebuilt = import_string(classpath)(**kwargs)

        assert rebuilt.serialize() == (classpath, kwargs)
        assert classpath == "airflow_provider_telnyx_fax.triggers.fax.FaxStatusTrigger"

    def test_kwargs_survive_airflow_serde_and_hold_no_secret(self, telnyx_fax_emulator):
        from airflow.sdk.serde import deserialize, serialize

        _, kwargs = FaxStatusTrigger(fax_id="f-1", end_time=None).serialize()

        assert deserialize(serialize(kwargs)) == kwargs
        assert all(isinstance(value, (str, int, float, type(None))) for value in kwargs.values())
        assert telnyx_fax_emulator.api_key not in repr(kwargs)


async def test_fires_one_delivered_event_with_the_fax_record(telnyx_fax_emulator):
    fax_id = send()

    events = await collect(trigger_for(fax_id))

    assert len(events) == 1
    assert events[0]["status"] == "delivered"
    assert events[0]["fax_id"] == fax_id
    assert events[0]["fax"]["id"] == fax_id


async def test_fires_failed_event_with_the_reason(telnyx_fax_emulator):
    fax_id = send("+15550100002")

    [event] = await collect(trigger_for(fax_id))

    assert (event["status"], event["fax"]["failure_reason"]) == ("failed", "receiver_no_answer")


async def test_a_new_instance_from_serialized_kwargs_resumes_without_sending(telnyx_fax_emulator):
    telnyx_fax_emulator.set_outcome(NEVER_FINISHES, "delivered")
    fax_id = send(NEVER_FINISHES)
    sends_before = telnyx_fax_emulator.request_count("POST", "/v2/faxes")
    first = trigger_for(fax_id)

    # The first triggerer dies mid-wait (cancelled, once it has checked), a second one picks the trigger up.
    interrupted = asyncio.ensure_future(collect(first))
    await until(lambda: telnyx_fax_emulator.request_count("GET", f"/v2/faxes/{fax_id}"), "the first check")
    interrupted.cancel()
    classpath, kwargs = first.serialize()
    events = await collect(import_string(classpath)(**kwargs))

    assert [event["status"] for event in events] == ["delivered"]
    assert telnyx_fax_emulator.request_count("POST", "/v2/faxes") == sends_before
    assert telnyx_fax_emulator.request_count("POST", "/v2/faxes/*/actions/cancel") == 0


async def test_tolerates_three_consecutive_503s(telnyx_fax_emulator):
    fax_id = send()
    telnyx_fax_emulator.add_fault("GET", "/v2/faxes/*", "503", count=3)

    [event] = await collect(trigger_for(fax_id))

    assert event["status"] == "delivered"
    assert telnyx_fax_emulator.request_count("GET", "/v2/faxes/*") >= 4


async def test_rate_limits_are_waited_out_and_never_count_towards_giving_up(telnyx_fax_emulator, monkeypatch):
    fax_id = send()
    # Three refusals in a row would be one more than the two errors tolerated. Telnyx asks for whole seconds
    # (1 at least); the jitter that spreads refused triggers apart is fixed at its floor so the wait stays short.
    telnyx_fax_emulator.add_fault("GET", "/v2/faxes/*", "429", count=3)
    monkeypatch.setattr(polling.random, "uniform", lambda low, high: low)

    [event] = await collect(trigger_for(fax_id, max_consecutive_errors=2))

    assert event["status"] == "delivered"
    assert telnyx_fax_emulator.request_count("GET", "/v2/faxes/*") >= 4


async def test_gives_up_after_too_many_consecutive_errors(telnyx_fax_emulator):
    fax_id = send()
    telnyx_fax_emulator.add_fault("GET", "/v2/faxes/*", "503", count=10)

    [event] = await collect(trigger_for(fax_id, max_consecutive_errors=2))

    assert event["status"] == "error"
    assert "after 3 failed checks" in event["message"]


async def test_unknown_fax_ends_at_once_with_an_error_event(telnyx_fax_emulator):
    [event] = await collect(trigger_for("00000000-0000-0000-0000-000000000000"))

    assert event["status"] == "error"
    assert "00000000-0000-0000-0000-000000000000" in event["message"]
    assert telnyx_fax_emulator.request_count("GET", "/v2/faxes/*") == 1


async def test_deadline_fires_a_timeout_event(telnyx_fax_emulator):
    fax_id = send(NEVER_FINISHES)

    [event] = await collect(trigger_for(fax_id, end_time=time.time() + 0.5))

    assert event["status"] == "timeout"
    assert event["fax"]["status"] == "sending"


async def test_run_never_blocks_the_event_loop(telnyx_fax_emulator, monkeypatch):
    fax_id = send()
    blocking = watch_blocking_calls(monkeypatch)

    [event] = await collect(trigger_for(fax_id))

    assert event["status"] == "delivered"
    assert blocking.calls == []


async def test_a_blocking_call_on_the_loop_is_caught_and_one_in_a_thread_is_not(monkeypatch):
    blocking = watch_blocking_calls(monkeypatch)

    await asyncio.to_thread(time.sleep, 0)
    time.sleep(0)

    assert blocking.names() == ["time.sleep"]


@pytest.mark.parametrize("status", ["delivered", "failed"])
async def test_many_triggers_share_one_http_session(telnyx_fax_emulator, monkeypatch, status):
    import aiohttp

    created = []
    original_init = aiohttp.ClientSession.__init__

    def counting_init(self, *args, **kwargs):
        created.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "__init__", counting_init)
    # One number per fax: a line takes one call at a time, so a second fax to a number on a call is busy.
    # Twenty calls at once: more than a real account's 10 channels, on purpose.
    telnyx_fax_emulator.set_limits(channel_limit=0)
    if status == "failed":
        for index in range(20):
            telnyx_fax_emulator.set_outcome(f"+1555076{index:04d}", "carrier_lost")
    fax_ids = [send(f"+1555076{index:04d}") for index in range(20)]

    results = await asyncio.gather(*(collect(trigger_for(fax_id)) for fax_id in fax_ids))

    assert {events[0]["status"] for events in results} == {status}
    assert len(created) == 1
    assert created[0].closed
