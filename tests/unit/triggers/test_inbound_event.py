"""InboundFaxEventTrigger: one event per received fax, remembered across restarts in a durable store."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from airflow.sdk._shared.module_loading import import_string

from airflow_provider_telnyx_fax.triggers.inbound import InboundFaxEventTrigger, next_state
from tests.support.inbound import INBOX, OTHER_INBOX, ids, watermark


class FakeAssetStateStore:
    """What the triggerer injects as ``asset_state_store`` for one watched asset (JSON values, async API)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def _single_accessor(self) -> FakeAssetStateStore:
        return self

    async def aget(self, key: str, default: Any = None) -> Any:
        return json.loads(self.values[key]) if key in self.values else default

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = json.dumps(value)


class Watcher:
    """Run a trigger as the triggerer does (a task draining run() into a queue), then stop it by cancelling."""

    def __init__(self, trigger: InboundFaxEventTrigger) -> None:
        self.trigger = trigger
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        async for event in self.trigger.run():
            self.queue.put_nowait(event.payload["fax_id"])

    async def take(self, count: int, timeout: float = 10.0) -> list[str]:
        async with asyncio.timeout(timeout):
            return [await self.queue.get() for _ in range(count)]

    async def nothing_more(self, polls: int = 5) -> None:
        """Let the trigger poll a few more times; it must fire nothing (this also lets it commit)."""
        await asyncio.sleep(self.trigger.poll_interval * polls)
        assert self.queue.empty(), f"unexpected event for fax {self.queue.get_nowait()}"
        assert not self.task.done(), self.task

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def event_trigger(**kwargs: Any) -> InboundFaxEventTrigger:
    kwargs.setdefault("to", INBOX)
    return InboundFaxEventTrigger(poll_interval=0.05, page_size=2, **kwargs)


def rebuilt(trigger: InboundFaxEventTrigger) -> InboundFaxEventTrigger:
    classpath, kwargs = trigger.serialize()
    fresh: InboundFaxEventTrigger = import_string(classpath)(**kwargs)
    return fresh


class TestSerialization:
    def test_round_trip_serde_and_a_stable_hash(self, emulator):
        from airflow.sdk.serde import deserialize, serialize

        trigger = event_trigger(since="2026-01-01T00:00:00+00:00", state_dir="/var/lib/fax")
        classpath, kwargs = trigger.serialize()

        assert rebuilt(trigger).serialize() == (classpath, kwargs)
        assert deserialize(serialize(kwargs)) == kwargs
        assert all(isinstance(value, (str, int, float, type(None))) for value in kwargs.values())
        assert emulator.api_key not in repr(kwargs)
        assert InboundFaxEventTrigger.hash(classpath, kwargs) == InboundFaxEventTrigger.hash(
            *rebuilt(trigger).serialize()
        )

    def test_usable_in_an_asset_watcher(self):
        from airflow.sdk import Asset, AssetWatcher

        asset = Asset("telnyx_fax_inbox", watchers=[AssetWatcher(name="inbox", trigger=event_trigger())])

        assert isinstance(asset.watchers[0].trigger, InboundFaxEventTrigger)


@pytest.mark.parametrize("store", ["asset_state_store", "state_dir"])
async def test_each_fax_fires_once_across_a_restart(emulator, receive, tmp_path, store):
    asset_state = FakeAssetStateStore()
    options = {"state_dir": str(tmp_path / "state")} if store == "state_dir" else {}

    def start(trigger: InboundFaxEventTrigger) -> Watcher:
        trigger.asset_state_store = asset_state if store == "asset_state_store" else None
        return Watcher(trigger)

    first_trigger = event_trigger(since=watermark(), **options)
    first = start(first_trigger)
    early = receive(3)
    receive(1, to=OTHER_INBOX)
    assert sorted(await first.take(3)) == sorted(ids(early))
    await first.nothing_more()
    await first.stop()

    # The triggerer restarts: a new instance from the same kwargs, the same durable state.
    second = start(rebuilt(first_trigger))
    late = receive(2)

    assert sorted(await second.take(2)) == sorted(ids(late))
    await second.nothing_more()
    await second.stop()
    if store == "state_dir":
        assert len(list((tmp_path / "state").glob("*.json"))) == 1
    else:
        assert list(asset_state.values) == [f"telnyx_fax_inbound.telnyx_fax_default.{INBOX}"]


async def test_a_crash_before_the_commit_fires_again_rather_than_losing_faxes(emulator, receive, tmp_path):
    trigger = event_trigger(since=watermark(), state_dir=str(tmp_path))
    faxes = receive(2)
    crashed = Watcher(trigger)
    assert sorted(await crashed.take(2)) == sorted(ids(faxes))
    await crashed.stop()  # gone before its next poll: the firing was never recorded

    again = Watcher(rebuilt(trigger))

    assert sorted(await again.take(2)) == sorted(ids(faxes))
    await again.stop()


async def test_first_start_without_since_ignores_faxes_from_before(emulator, receive, tmp_path):
    receive(2)
    watcher = Watcher(event_trigger(state_dir=str(tmp_path)))
    await watcher.nothing_more()

    new = receive(1)

    assert await watcher.take(1) == ids(new)
    await watcher.stop()


async def test_a_fax_still_arriving_fires_once_it_is_received(emulator, receive, tmp_path):
    watcher = Watcher(event_trigger(since=watermark(), state_dir=str(tmp_path)))
    emulator.set_speed(20)  # about 1.6 s to arrive
    [slow] = receive(1, wait=False)
    emulator.set_speed(1000)
    fast = receive(1)

    assert await watcher.take(2) == [fast[0]["id"], slow["id"]]
    await watcher.stop()


def test_the_event_carries_no_media_link(emulator, receive, tmp_path):
    async def one() -> dict[str, Any]:
        events = event_trigger(since=watermark(), state_dir=str(tmp_path)).run()
        receive(1)
        event = await anext(events)
        await events.aclose()
        return dict(event.payload)

    payload = asyncio.run(one())

    assert set(payload) == {"fax_id", "from", "to", "fax"}
    assert "media_url" not in payload["fax"]
    assert payload["fax"]["status"] == "received"


def test_watermark_stops_at_the_oldest_fax_in_progress():
    from datetime import datetime, timezone

    faxes = [
        {"id": "a", "status": "received", "created_at": "2026-05-01T10:00:00Z"},
        {"id": "b", "status": "receiving", "created_at": "2026-05-01T10:00:05Z"},
        {"id": "c", "status": "received", "created_at": "2026-05-01T10:00:09Z"},
    ]
    now = datetime(2026, 5, 1, 10, 1, tzinfo=timezone.utc)

    state = next_state(faxes, {"a", "c"}, "2026-05-01T09:00:00+00:00", now)

    assert state == {"watermark": "2026-05-01T10:00:05+00:00", "seen": ["c"]}
