"""Between waves: send now, wait for faxes to finish or a number's gap, or stop."""

from __future__ import annotations

from airflow_provider_telnyx_fax.batch.ledger import BatchLedger
from airflow_provider_telnyx_fax.batch.waves import next_pause
from tests.support.batch_rows import BATCH_ID, fax_for, rows_to

A, B, C = "+13125550101", "+13125550102", "+13125550103"


def ledger_with(statuses: dict[str, str | None]) -> BatchLedger:
    """A ledger of one row per number; a status means that row's fax is in the listing."""
    book = BatchLedger(rows_to(*statuses), batch_id=BATCH_ID, try_number=1, resend_policy="if_failed")
    book.absorb([fax_for(entry.row, status) for entry in book.rows if (status := statuses[entry.row.to])])
    return book


def pause(book: BatchLedger, *, wait_for_completion: bool = True, max_in_flight: int = 10):
    return next_pause(book, max_in_flight=max_in_flight, same_number_gap=30, wait_for_completion=wait_for_completion)


def test_a_batch_with_every_fax_finished_is_done():
    assert pause(ledger_with({A: "delivered", B: "delivered"})) is None


def test_faxes_on_the_line_are_waited_for_only_when_asked():
    book = ledger_with({A: "delivered", B: "sending"})

    assert pause(book, wait_for_completion=False) is None
    waiting = pause(book)
    assert waiting is not None
    assert waiting.goal.resume_at_pending == 0
    assert (waiting.expected_faxes, waiting.rows_sent) == (2, 2)


def test_with_rows_left_the_next_wave_goes_when_half_the_slots_are_free():
    book = ledger_with({A: "sending", B: "sending", C: None})

    waiting = pause(book, max_in_flight=2)

    assert waiting is not None
    assert waiting.rows_sent == 2
    assert waiting.goal.resume_at_pending == 1
