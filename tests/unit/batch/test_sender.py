"""One wave of a batch: concurrent paced sends, each outcome recorded in the ledger, nothing sent twice."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from airflow_provider_telnyx_fax.batch.ledger import BatchLedger
from airflow_provider_telnyx_fax.batch.sender import Pacer, send_wave
from airflow_provider_telnyx_fax.exceptions import (
    TelnyxAPIError,
    TelnyxAuthenticationError,
    TelnyxOutcomeUnknownError,
    TelnyxRateLimitError,
    TelnyxServerError,
    TelnyxTransportError,
)
from tests.support.batch_rows import BATCH_ID, rows_to

log = logging.getLogger(__name__)


class ScriptedHook:
    """``asend_fax`` that accepts, or raises what is scripted for the destination."""

    def __init__(self, errors: dict[str, Exception] | None = None) -> None:
        self.errors = errors or {}
        self.sent: list[str] = []
        self.started: list[float] = []

    async def asend_fax(self, request):
        self.started.append(time.monotonic())
        self.sent.append(request.to)
        if request.to in self.errors:
            raise self.errors[request.to]
        return {"id": f"fax-{len(self.sent)}", "to": request.to, "status": "queued", "created_at": "2026-01-05T10:00Z"}


def wave_of(*numbers: str) -> BatchLedger:
    return BatchLedger(rows_to(*numbers), batch_id=BATCH_ID, try_number=1, resend_policy="if_failed")


def run_wave(hook: ScriptedHook, book: BatchLedger, per_second: float = 1000):
    async def main():
        return await send_wave(hook, book, list(book.rows), Pacer(per_second), log)

    return asyncio.run(main())


def test_accepted_sends_are_recorded_for_their_rows():
    book = wave_of("+13125550101", "+13125550102")

    result = run_wave(ScriptedHook(), book)

    assert (result.sent, result.unknown, result.deferred, result.refused, result.unreachable) == (2, 0, 0, 0, [])
    assert [entry.faxes[0]["to"] for entry in book.rows] == ["+13125550101", "+13125550102"]
    assert all(entry.tries == {entry.faxes[0]["id"]: 1} for entry in book.rows)
    assert book.fax_count == 2


def test_each_kind_of_failed_send_leaves_its_row_as_it_should_be():
    unknown, limited, down, refused = "+13125550101", "+13125550102", "+13125550103", "+13125550104"
    hook = ScriptedHook(
        {
            unknown: TelnyxOutcomeUnknownError(to=unknown, client_state=None, sent_at="now", reason="read timeout"),
            limited: TelnyxRateLimitError(429, retry_after=0.01),
            down: TelnyxServerError(503),
            refused: TelnyxAPIError(422, action=f"Telnyx rejected the fax to {refused}"),
        }
    )
    book = wave_of(unknown, limited, down, refused, "+13125550105")

    result = run_wave(hook, book)

    assert (result.sent, result.unknown, result.deferred, result.refused, len(result.unreachable)) == (1, 1, 1, 1, 1)
    by_number = {entry.row.to: entry for entry in book.rows}
    assert by_number[unknown].outcome_unknown
    assert not by_number[unknown].faxes
    assert by_number[limited].faxes == []
    assert by_number[limited].refused is None
    assert by_number[down].faxes == []
    assert by_number[down].refused is None
    assert by_number[refused].refused is not None
    assert refused not in by_number[refused].refused
    assert [entry.row.to for entry in book.next_wave(slots=10, same_number_gap=0, now=0)] == [limited, down]


def test_a_transport_error_is_unreachable_not_refused():
    book = wave_of("+13125550101")

    result = run_wave(ScriptedHook({"+13125550101": TelnyxTransportError("connection refused")}), book)

    assert result.unreachable == ["connection refused"]
    assert book.rows[0].refused is None


def test_a_bad_api_key_stops_the_wave():
    book = wave_of("+13125550101")

    with pytest.raises(TelnyxAuthenticationError):
        run_wave(ScriptedHook({"+13125550101": TelnyxAuthenticationError(401)}), book)


def test_sends_start_no_faster_than_the_rate():
    hook = ScriptedHook()

    run_wave(hook, wave_of(*(f"+1312555{index:04d}" for index in range(5))), per_second=20)

    # Starts are due every 1/20 s from the first (a late wake-up does not push the rest back).
    assert hook.started[-1] - hook.started[0] >= 4 * 0.05 * 0.9


def test_a_rate_limit_pushes_the_next_start_back():
    async def main() -> float:
        pacer = Pacer(1000)
        await pacer.wait_turn()
        pacer.slow_down(0.2)
        started = time.monotonic()
        await pacer.wait_turn()
        return time.monotonic() - started

    assert asyncio.run(main()) >= 0.15
