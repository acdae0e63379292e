"""The backend on its own, as any front end (routes, inbox, a test) drives it: plain arguments, no HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from telnyx_fax_emulator.backend import Backend
from telnyx_fax_emulator.documents import UploadedFile
from telnyx_fax_emulator.errors import ApiError
from telnyx_fax_emulator.settings import EmulatorSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

LINE = "+15557650100"


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    backend = Backend(EmulatorSettings(outcomes={LINE: "stays_sending"}, max_in_flight=3))
    await backend.dispatcher.start()
    try:
        yield backend
    finally:
        await backend.dispatcher.close()


async def send(backend: Backend, to: str = LINE, **document: Any) -> str:
    """Send a fax (by default of an outside URL) and return the outcome the backend planned for it."""
    fax = await backend.send_fax(
        connection_id=backend.settings.connection_id,
        from_=backend.settings.from_number,
        to=to,
        **(document or {"media_url": "https://example.com/a.pdf"}),
    )
    return fax.outcome


async def test_a_number_on_a_call_is_busy_until_the_call_is_cancelled(backend: Backend) -> None:
    assert await send(backend) == "stays_sending"
    (first,) = backend.store.faxes.values()

    assert await send(backend) == "user_busy"
    assert await send(backend, "+15557650200") == "delivered"
    backend.cancel_fax(first.id)
    assert await send(backend) == "stays_sending"


async def test_busy_lines_off_lets_every_fax_through(backend: Backend) -> None:
    backend.set_limits(busy_lines=False)

    assert [await send(backend) for _ in range(3)] == ["stays_sending"] * 3


async def test_the_in_flight_limit_refuses_one_more_with_429(backend: Backend) -> None:
    for index in range(3):
        await send(backend, f"+1555066000{index}")

    with pytest.raises(ApiError) as refused:
        await send(backend, "+15550669999")

    assert refused.value.status == 429
    assert refused.value.text == "There is a limit for outbound faxes of 3 faxes being processed at the same time"
    backend.set_limits(max_in_flight=None)
    assert await send(backend, "+15550669999") == "delivered"


async def test_a_document_problem_fails_before_any_call_so_the_line_stays_free(backend: Backend) -> None:
    unreadable = UploadedFile("scan.bin", "application/octet-stream", bytes(range(256)))

    assert await send(backend, contents=unreadable) == "file_format_invalid"
    assert await send(backend) == "stays_sending"
