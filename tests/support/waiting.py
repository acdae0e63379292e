"""Waiting in async tests for something to have happened, with a generous deadline, never a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


async def until(condition: Callable[[], Any], what: str, timeout: float = 120) -> Any:
    """Call the (blocking) ``condition`` in a thread until it returns something truthy; return that.

    It runs off the event loop so that the triggers under test keep running while it asks the emulator.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await asyncio.to_thread(condition)
        if result:
            return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
