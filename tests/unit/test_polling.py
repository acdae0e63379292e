"""The triggers' shared polling: the hook imported lazily off the event loop, and a triggerer that comes back
with many faxes waiting, where every trigger starts at once in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

STATUS_TRIGGERS = 200
INBOUND_TRIGGERS = 50

# Everything is imported lazily by the triggers themselves, as in a triggerer that has loaded nothing yet.
SCRIPT = """
import asyncio, json, sys
from airflow_provider_telnyx_fax.polling import HOOK_MODULE
from airflow_provider_telnyx_fax.triggers.fax import FaxStatusTrigger
from airflow_provider_telnyx_fax.triggers.inbound import InboundFaxEventTrigger, InboundFaxTrigger

assert HOOK_MODULE not in sys.modules, "the hook must not be imported before the triggers start"
plan = json.loads(sys.stdin.read())

async def first_event(trigger):
    async for event in trigger.run():
        return event.payload

triggers = [FaxStatusTrigger(fax_id=fax_id, poll_interval=0.2) for fax_id in plan["fax_ids"]]
for index, number in enumerate(plan["inbound_numbers"]):
    if index % 2:
        triggers.append(InboundFaxTrigger(since=plan["since"], to=number, poll_interval=0.2))
    else:
        triggers.append(InboundFaxEventTrigger(since=plan["since"], to=number, poll_interval=0.2))

async def main():
    return await asyncio.wait_for(asyncio.gather(*(first_event(t) for t in triggers), return_exceptions=True), 90)

results = asyncio.run(main())
print(json.dumps([r if isinstance(r, dict) else {"exception": repr(r)} for r in results]))
"""


def test_every_trigger_reaches_its_event_when_all_start_at_once(telnyx_fax_emulator):
    # Every fax on the line at once: more calls than a real account's 10 channels, on purpose.
    telnyx_fax_emulator.set_limits(channel_limit=0)
    since = (datetime.now(timezone.utc) - timedelta(seconds=5)).isoformat()
    hook = TelnyxFaxHook()
    fax_ids = [
        hook.send_fax(f"+1312555{index:04d}", media_url="https://example.com/a.pdf")["id"]
        for index in range(STATUS_TRIGGERS)
    ]
    inbound_numbers = [f"+1773555{index:04d}" for index in range(INBOUND_TRIGGERS)]
    for number in inbound_numbers:
        telnyx_fax_emulator.simulate_inbound("+14155550000", to=number)
    plan = {"fax_ids": fax_ids, "inbound_numbers": inbound_numbers, "since": since}

    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], input=json.dumps(plan), capture_output=True, text=True, timeout=180
    )

    assert result.returncode == 0, result.stderr[-3000:]
    events = json.loads(result.stdout.strip().splitlines()[-1])
    failures = [event for event in events if "exception" in event]
    assert failures == []
    status_events, inbound_events = events[:STATUS_TRIGGERS], events[STATUS_TRIGGERS:]
    assert [event["fax_id"] for event in status_events] == fax_ids
    assert {event["status"] for event in status_events} == {"delivered"}
    # The waiting trigger reports its window's faxes; the event trigger fires once per fax.
    received = [event.get("faxes", [event.get("fax")]) for event in inbound_events]
    assert all(len(faxes) == 1 for faxes in received)


def test_first_trigger_in_a_fresh_triggerer_imports_the_hook_off_the_event_loop():
    # A fresh interpreter, like a triggerer that has not loaded the hook yet. The hook's first import takes a
    # while (aiohttp, requests, providers-http): where it runs is checked, not how long it took, which on a
    # loaded machine says nothing. A finder on sys.meta_path sees the thread each module is imported on.
    script = """
import asyncio, sys, threading
from airflow_provider_telnyx_fax.polling import HOOK_MODULE, import_hook_module
assert HOOK_MODULE not in sys.modules
importing_threads = {}
class WhereImported:
    def find_spec(self, name, path=None, target=None):
        importing_threads.setdefault(name, threading.get_ident())
        return None
sys.meta_path.insert(0, WhereImported())
async def main():
    module = await import_hook_module()
    assert hasattr(module, "TelnyxFaxHook")
    return threading.get_ident()
loop_thread = asyncio.run(main())
heavy = ("airflow_provider_telnyx_fax.hooks", "aiohttp", "requests", "airflow.providers.http")
on_the_loop = sorted(n for n, thread in importing_threads.items() if thread == loop_thread and n.startswith(heavy))
print("IMPORTED" if HOOK_MODULE in importing_threads else "NOT SEEN", "ON THE LOOP:", on_the_loop)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    # Airflow may log warnings to stdout first; the verdict is the last line.
    assert result.stdout.strip().splitlines()[-1] == "IMPORTED ON THE LOOP: []", result.stdout
