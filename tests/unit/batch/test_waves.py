"""Between waves: send now, wait for faxes to finish or a number's gap, or stop."""

from __future__ import annotations

import time

from airflow_provider_telnyx_fax.batch.ledger import BatchLedger
from airflow_provider_telnyx_fax.batch.waves import next_pause
from tests.support.batch_rows import BATCH_ID, fax_for, rows_to

A, B, C = "+13125550101", "+13125550102", "+13125550103"


def ledger_with(statuses: dict[str, str | None]) -> BatchLedger:
    """A ledger of one row per number; a status means that row's fax is in the listing."""
    book = BatchLedger(rows_to(*statuses), batch_id=BATCH_ID, try_number=1, resend_policy="if_failed")
    book.absorb([fax_for(entry.row, status) for entry in book.rows if (status := statuses[entry.row.to])])
    return book


def pause(book: BatchLedger, *, wait_for_completion: bool = True, ceiling: int = 10, dialling: bool = True):
    return next_pause(
        book, ceiling=ceiling, same_number_gap=30, wait_for_completion=wait_for_completion, dialling=dialling
    )


def test_a_batch_with_every_fax_finished_is_done():
    assert pause(ledger_with({A: "delivered", B: "delivered"})) is None


def test_faxes_on_the_line_are_waited_for_only_when_asked():
    book = ledger_with({A: "delivered", B: "sending"})

    assert pause(book, wait_for_completion=False) is None
    waiting = pause(book)
    assert waiting is not None
    assert waiting.goal.resume_at_pending == 0
    assert waiting.tail
    assert (waiting.expected_faxes, waiting.rows_sent) == (2, 2)


def test_with_rows_left_the_next_send_goes_as_soon_as_one_channel_frees():
    book = ledger_with({A: "sending", B: "sending", C: None})

    waiting = pause(book, ceiling=2)

    assert waiting is not None
    assert not waiting.tail
    assert waiting.rows_sent == 2
    assert waiting.goal.resume_at_pending == 1


def test_a_ceiling_lowered_below_the_calls_up_waits_until_it_has_a_free_channel():
    book = ledger_with({A: "sending", B: "sending", C: None})

    waiting = pause(book, ceiling=1)

    assert waiting is not None
    assert waiting.goal.resume_at_pending == 0


def test_a_refused_dial_puts_its_row_back_without_the_numbers_gap():
    book = ledger_with({A: "sending", B: None})
    (refused_row,) = [entry for entry in book.rows if entry.row.to == B]
    book.absorb([fax_for(refused_row.row, "failed", reason="user_channel_limit_exceeded")])

    assert refused_row in book.unsent()
    assert book.next_wave(slots=5, same_number_gap=30, now=time.time()) == [refused_row]
    assert book.rollup()["pending"] == 2  # A on the line, B back in the queue
    (line,) = [line for line in book.manifest_rows() if line["row"] == refused_row.row.number]
    assert (line["status"], line["attempts"], line["not_dialled"]) == ("not_sent", 1, 1)


def test_after_a_spend_limit_the_batch_only_waits_for_its_faxes_on_the_line():
    book = ledger_with({A: "sending", B: None, C: None})

    waiting = pause(book, dialling=False)

    assert waiting is not None
    assert waiting.tail
    assert pause(ledger_with({A: "delivered", B: None}), dialling=False) is None
