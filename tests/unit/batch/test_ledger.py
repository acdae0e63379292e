"""The batch ledger: each row's faxes found by send key, what the resend policy sends next, and the roll-up."""

from __future__ import annotations

import pytest

from airflow_provider_telnyx_fax.batch.ledger import (
    BatchLedger,
    batch_id_for,
    batch_state,
    describe_progress,
    finished_at,
    is_pending,
)
from tests.support.batch_rows import BATCH_ID, checked, fax_for, rows_to

A, B, C = "+13125550101", "+13125550102", "+13125550103"


def ledger(rows, *, try_number: int = 2, resend_policy: str = "if_failed", **kwargs) -> BatchLedger:
    return BatchLedger(rows, batch_id=BATCH_ID, try_number=try_number, resend_policy=resend_policy, **kwargs)


def test_the_batch_id_is_stable_per_task_instance():
    assert batch_id_for("d", "t", "r", -1) == batch_id_for("d", "t", "r", -1)
    assert len({batch_id_for("d", "t", "r", index) for index in (-1, 0, 1)}) == 3
    assert batch_id_for("d_t", "r", "x", -1) != batch_id_for("d", "t_r", "x", -1)


def test_a_fax_belongs_to_a_batch_by_its_client_state():
    (row,) = rows_to(A)

    assert batch_state(fax_for(row, "queued"), BATCH_ID)["row"] == "1"  # type: ignore[index]
    assert batch_state(fax_for(row, "queued", batch_id="another"), BATCH_ID) is None
    assert batch_state({"id": "x", "client_state": None}, BATCH_ID) is None
    assert (is_pending(fax_for(row, "sending")), is_pending(fax_for(row, "delivered"))) == (True, False)


def test_absorb_keeps_the_batchs_faxes_per_row_newest_first_and_counts_each_once():
    rows = rows_to(A, B)
    first = fax_for(rows[0], "failed", reason="user_busy", attempt=1, created_at="2026-01-05T10:00:01Z")
    second = fax_for(rows[0], "queued", attempt=2, created_at="2026-01-05T10:05:00Z")
    book = ledger(rows)

    book.absorb([first, fax_for(rows[1], "queued", batch_id="another"), {"id": "foreign", "status": "queued"}])
    book.absorb([second, first])
    book.absorb([{**second, "status": "delivered"}])

    entry = book.rows[0]
    assert [(fax["id"], fax["status"]) for fax in entry.faxes] == [(second["id"], "delivered"), (first["id"], "failed")]
    assert entry.tries == {first["id"]: 1, second["id"]: 2}
    assert book.rows[1].faxes == []
    assert book.fax_count == 2


@pytest.mark.parametrize(
    ("policy", "status", "reason", "attempt", "stands"),
    [
        ("if_failed", "delivered", None, 1, True),
        ("if_failed", "sending", None, 1, True),
        ("if_failed", "failed", "user_busy", 1, False),  # an earlier try's retryable failure is resent
        ("if_failed", "failed", "user_busy", 2, True),  # this try's failure waits for the next try
        ("if_failed", "failed", "destination_invalid", 1, True),  # a permanent failure is never resent
        ("never", "failed", "user_busy", 1, True),
        ("always", "delivered", None, 1, False),  # only this try's faxes stand
        ("always", "delivered", None, 2, True),
    ],
)
def test_the_resend_policy_decides_which_fax_stands_for_a_row(policy, status, reason, attempt, stands):
    (row,) = rows_to(A)
    fax = fax_for(row, status, reason=reason, attempt=attempt)
    book = ledger([row], resend_policy=policy)
    book.absorb([fax])

    assert (book.standing(book.rows[0]) == fax) is stands
    assert book.needs_send(book.rows[0]) is not stands
    assert (book.unsent() == []) is stands


def test_a_later_success_stands_over_an_earlier_failure():
    (row,) = rows_to(A)
    failed = fax_for(row, "failed", reason="user_busy", attempt=1, created_at="2026-01-05T10:00:00Z")
    delivered = fax_for(row, "delivered", attempt=1, created_at="2026-01-05T09:00:00Z")
    book = ledger([row])
    book.absorb([failed, delivered])

    assert book.standing(book.rows[0]) == delivered


def test_an_overridden_reason_changes_the_decision():
    (row,) = rows_to(A)
    book = ledger([row], permanent_reasons=["user_busy"])
    book.absorb([fax_for(row, "failed", reason="user_busy", attempt=1)])

    assert not book.needs_send(book.rows[0])


def test_refused_and_unknown_outcome_rows_are_not_sent_again_in_the_wave():
    rows = rows_to(A, B, C)
    book = ledger(rows)
    book.rows[0].refused = "Telnyx rejected the fax (422)"
    book.rows[1].outcome_unknown = True

    assert [entry.row.to for entry in book.next_wave(slots=10, same_number_gap=0, now=0)] == [C]
    # The unknown one is still unsent: the next listing shows whether Telnyx took it.
    assert [entry.row.to for entry in book.unsent()] == [B, C]


def test_a_wave_has_one_row_per_number_and_no_more_than_the_free_slots():
    rows = rows_to(A, A, B, C, A)
    book = ledger(rows)

    assert [entry.row.number for entry in book.next_wave(slots=10, same_number_gap=0, now=0)] == [1, 3, 4]
    assert [entry.row.number for entry in book.next_wave(slots=2, same_number_gap=0, now=0)] == [1, 3]


def test_a_number_waits_while_its_fax_is_on_the_line_and_for_the_gap_after():
    rows = rows_to(A, A, B)
    book = ledger(rows, try_number=1)
    on_line = fax_for(rows[2], "sending", attempt=1)
    done = fax_for(rows[0], "delivered", attempt=1, updated_at="2026-01-05T10:00:30Z")
    book.absorb([on_line, done])
    ended = finished_at(done)

    assert book.next_wave(slots=10, same_number_gap=60, now=ended + 59) == []
    assert [entry.row.number for entry in book.next_wave(slots=10, same_number_gap=60, now=ended + 60)] == [2]
    assert book.earliest_release(60, now=ended) == ended + 60
    assert book.earliest_release(0, now=ended) is None
    assert book.pending() == [on_line]


def test_manifest_rows_and_rollup_count_every_outcome():
    rows, invalid = checked([A, B, C, "+13125550104", "+13125550105", "bad"])
    book = ledger(rows, try_number=1, skipped=invalid)
    book.absorb(
        [
            fax_for(rows[0], "delivered"),
            fax_for(rows[1], "failed", reason="user_busy"),
            fax_for(rows[2], "failed", reason="destination_invalid"),
        ]
    )
    book.rows[3].refused = "Telnyx rejected the fax (422, code 10016): 'to': not dialable"

    lines = list(book.manifest_rows())

    assert [(line["row"], line["status"], line["failure_reason"], line["failure_kind"]) for line in lines] == [
        (1, "delivered", None, None),
        (2, "failed", "user_busy", "retryable"),
        (3, "failed", "destination_invalid", "permanent"),
        (4, "failed", "rejected", "permanent"),
        (5, "not_sent", None, None),
        (6, "skipped", None, None),
    ]
    assert lines[0]["to"] != A
    assert lines[0]["to"].endswith("0101")
    assert lines[3]["error"].startswith("Telnyx rejected the fax")
    assert book.rollup() == {
        "total": 6,
        "delivered": 1,
        "failed": {"retryable": 1, "permanent": 2},
        "skipped": 1,
        "pending": 1,
        "by_reason": {"destination_invalid": 1, "rejected": 1, "user_busy": 1},
    }
    assert book.progress() == "sent 4/5, 0 on the line, delivered 1, failed 3"


def test_progress_reads_in_thousands_and_names_the_channels_and_the_eta():
    assert describe_progress(sent=3_200, total=10_000, in_flight=400, delivered=2_650, failed=41) == (
        "sent 3,200/10,000, 400 on the line, delivered 2,650, failed 41"
    )
    assert describe_progress(
        sent=3_200,
        total=10_000,
        in_flight=10,
        delivered=3_150,
        failed=0,
        channels="10 of 10 channels busy",
        eta_seconds=14 * 3600 + 10 * 60,
    ) == ("sent 3,200/10,000, 10 of 10 channels busy, delivered 3,150, failed 0, ETA 14 h 10 min")
