"""FaxBatchTrigger: small secret-free kwargs, a faithful round trip, and waiting by listing the window."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone

from airflow_provider_telnyx_fax import polling
from airflow_provider_telnyx_fax.batch.ledger import batch_id_for
from airflow_provider_telnyx_fax.idempotency import SendKey
from airflow_provider_telnyx_fax.triggers.batch import FaxBatchTrigger
from tests.support.waiting import until

NEVER_FINISHES = "+15550100011"


def trigger(**overrides: object) -> FaxBatchTrigger:
    kwargs: dict[str, object] = {
        "batch_id": batch_id_for("dag", "send", "manual__2026-01-01", 3),
        "since": (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat(),
        "expected_faxes": 10_000,
        "resume_at_pending": 200,
        "rows_total": 10_000,
        "rows_sent": 400,
        "poll_interval": 0.2,
        **overrides,
    }
    return FaxBatchTrigger(**kwargs)  # type: ignore[arg-type]


def test_serialize_round_trips_with_small_kwargs_and_no_secret(telnyx_fax_emulator):
    original = trigger(end_time=time.time() + 60, resume_after=time.time() + 5, not_before=time.time() + 1)
    path, kwargs = original.serialize()

    rebuilt = FaxBatchTrigger(**kwargs)
    assert path == "airflow_provider_telnyx_fax.triggers.batch.FaxBatchTrigger"
    assert rebuilt.serialize() == (path, kwargs)
    encoded = json.dumps(kwargs)
    # The same size for ten rows or a million: counts and a window, never ids.
    assert len(encoded) < 600
    assert len(json.dumps(trigger(expected_faxes=10**9, rows_total=10**9).serialize()[1])) < 600
    assert telnyx_fax_emulator.api_key not in encoded
    assert all(isinstance(value, (str, int, float, type(None))) for value in kwargs.values())


def send_batch(emulator, batch_id: str, numbers: list[str]) -> list[str]:
    from airflow_provider_telnyx_fax.fax_request import FaxSendRequest
    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

    hook = TelnyxFaxHook()
    ids = []
    for row, number in enumerate(numbers, start=1):
        key = SendKey("dag", "send", "manual__2026-01-01", 3, number, f"url#row={row}")
        request = FaxSendRequest(
            to=number,
            media_url="https://example.com/a.pdf",
            client_state=key.client_state(None, batch=batch_id, row=str(row), attempt=1),
        )
        ids.append(hook.send_fax(request)["id"])
    return ids


async def first_event(batch_trigger: FaxBatchTrigger, timeout: float = 180) -> dict:
    return (await asyncio.wait_for(anext(batch_trigger.run()), timeout)).payload


async def test_fires_when_the_whole_batch_is_finished_despite_rate_limits(telnyx_fax_emulator, monkeypatch):
    batch = trigger(expected_faxes=6, resume_at_pending=0, max_consecutive_errors=2)
    send_batch(telnyx_fax_emulator, batch.batch_id, [f"+1312555{index:04d}" for index in range(6)])
    # Another batch's fax in the same window is not waited for.
    send_batch(telnyx_fax_emulator, "another-batch", [NEVER_FINISHES])
    # One refusal more than the errors tolerated; each asks for a second, waited without the jitter's spread.
    telnyx_fax_emulator.add_fault("GET", "/v2/faxes", "rate_limit", count=3)
    monkeypatch.setattr(polling.random, "uniform", lambda low, high: low)

    event = await first_event(batch)

    assert event == {
        "status": "ready",
        "batch_id": batch.batch_id,
        "pending": 0,
        "message": "0 faxes of the batch are still on the line.",
    }
    assert all(fax["status"] == "delivered" for fax in telnyx_fax_emulator.faxes() if fax["to"] != NEVER_FINISHES)


async def test_a_restarted_trigger_resumes_from_its_kwargs_and_reads_only(telnyx_fax_emulator):
    batch = trigger(expected_faxes=3, resume_at_pending=0)
    send_batch(telnyx_fax_emulator, batch.batch_id, ["+13125550001", "+13125550002"])
    telnyx_fax_emulator.set_speed(15)  # the last fax takes a couple of seconds
    (slow,) = send_batch(telnyx_fax_emulator, batch.batch_id, ["+13125550003"])
    run = asyncio.ensure_future(first_event(FaxBatchTrigger(**batch.serialize()[1])))
    await until(lambda: telnyx_fax_emulator.request_count("GET", "/v2/faxes"), "the first listing")
    run.cancel()  # the triggerer went away mid-wait

    event = await first_event(FaxBatchTrigger(**batch.serialize()[1]))

    assert event["status"] == "ready"
    assert event["pending"] == 0
    assert telnyx_fax_emulator.request_count("POST", "/v2/*") == 3
    # One left: the last checks are single GETs of that fax, not listings.
    assert telnyx_fax_emulator.request_count("GET", f"/v2/faxes/{slow}") >= 1


async def test_waits_for_faxes_the_list_does_not_show_yet(telnyx_fax_emulator):
    batch = trigger(expected_faxes=2, resume_at_pending=0, poll_interval=0.1)
    send_batch(telnyx_fax_emulator, batch.batch_id, ["+13125550001"])

    waiting = asyncio.ensure_future(first_event(batch))
    # The one fax listed is delivered, and the trigger has listed it so since (the second check after that
    # one starts only once the first has been weighed): it is still waiting for the other.
    (first,) = telnyx_fax_emulator.faxes()
    await asyncio.to_thread(telnyx_fax_emulator.wait_for_status, first["id"], "delivered")
    listings = telnyx_fax_emulator.request_count("GET", "/v2/faxes")
    await until(lambda: telnyx_fax_emulator.request_count("GET", "/v2/faxes") >= listings + 2, "two more checks")
    assert not waiting.done(), "one of two faxes listed is not the end of the batch"
    send_batch(telnyx_fax_emulator, batch.batch_id, ["+13125550002"])

    assert (await waiting)["status"] == "ready"


async def test_times_out_at_its_end_time(telnyx_fax_emulator):
    batch = trigger(expected_faxes=1, resume_at_pending=0, end_time=time.time() + 1)
    send_batch(telnyx_fax_emulator, batch.batch_id, [NEVER_FINISHES])

    event = await first_event(batch)

    assert event["status"] == "timeout"
    assert "1 faxes on the line" in event["message"]


async def test_a_refused_check_ends_with_an_error_event(telnyx_fax_emulator, monkeypatch):
    conn = json.loads(telnyx_fax_emulator.airflow_conn_json)
    conn["password"] = "KEYwrong"
    monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", json.dumps(conn))

    event = await first_event(trigger(expected_faxes=1))

    assert event["status"] == "error"
