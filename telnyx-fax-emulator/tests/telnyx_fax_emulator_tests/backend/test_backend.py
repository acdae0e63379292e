"""The backend on its own, as any front end (routes, inbox, a test) drives it: plain arguments, no HTTP."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from telnyx_fax_emulator.backend import Backend
from telnyx_fax_emulator.documents import UploadedFile, blank_pdf
from telnyx_fax_emulator.errors import ApiError
from telnyx_fax_emulator.settings import EmulatorSettings
from telnyx_fax_emulator.state import PREVIEW, STORED_MEDIA

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


async def test_a_stored_file_link_serves_until_it_expires(backend: Backend) -> None:
    document = blank_pdf(2)
    fax = await backend.send_fax(
        connection_id=backend.settings.connection_id, from_=backend.settings.from_number, to="+15557650200",
        contents=UploadedFile("two.pdf", "application/pdf", document), store_media=True, store_preview=True,
    )  # fmt: skip
    # As if sent a quarter of an hour ago: its media is processed, and a link read ten minutes ago has expired.
    fax.timeline = [replace(step, at=step.at - 900) for step in fax.timeline]
    now = time.time()

    def open_link(kind: str, read_at: float) -> Any:
        link = fax.stored_file_url(kind, "", read_at)
        assert link is not None
        query = parse_qs(urlsplit(link).query)
        name = urlsplit(link).path.rsplit("/", 1)[-1]
        return backend.stored_file(fax.id, name, query["expires"][0], query["signature"][0])

    assert await open_link(STORED_MEDIA, now) == (document, "application/pdf")
    content, content_type = await open_link(PREVIEW, now)
    assert (content[:4], content_type) == (b"II*\x00", "image/tiff")
    with pytest.raises(ApiError) as expired:
        await open_link(STORED_MEDIA, now - 600)
    assert expired.value.status == 403
    assert expired.value.text == "Request has expired. Read the fax again to get a new link."
