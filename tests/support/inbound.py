"""Inbound faxes for the tests: the numbers they arrive at, watermarks, making them arrive, a trigger's first event."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

INBOX = "+15550142000"
OTHER_INBOX = "+15550142111"
SENDER = "+15550177000"


def watermark() -> str:
    """Now, as an ISO 8601 UTC watermark, strictly after anything created before the call."""
    time.sleep(0.002)
    moment = datetime.now(timezone.utc).isoformat()
    time.sleep(0.002)
    return moment


def receive_faxes(
    emulator: Any, count: int = 1, *, to: str = INBOX, document: bytes | None = None, wait: bool = True, **kwargs: Any
) -> list[dict[str, Any]]:
    """Simulate ``count`` faxes arriving and wait until each is ``received``; returns their control views."""
    faxes = [emulator.simulate_inbound(SENDER, to=to, document=document, **kwargs) for _ in range(count)]
    if wait:
        faxes = [emulator.wait_for_status(fax["id"], "received") for fax in faxes]
    return faxes


def ids(faxes: list[dict[str, Any]]) -> list[str]:
    return [fax["id"] for fax in faxes]


async def first_event(trigger: Any) -> dict[str, Any]:
    """The payload of the first event ``trigger.run()`` yields."""
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")
