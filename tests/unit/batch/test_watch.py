"""Waiting for a batch: list the window, then only what is still on the line, and stop at the goal."""

from __future__ import annotations

import asyncio
import logging

import pytest

from airflow_provider_telnyx_fax.batch.watch import BatchWatch, WaitGoal, wait_for_batch
from airflow_provider_telnyx_fax.exceptions import TelnyxNotFoundError
from tests.support.batch_rows import BATCH_ID, fax_for, rows_to

log = logging.getLogger(__name__)
SINCE = "2026-01-05T10:00:00+00:00"


class ListingHook:
    """Lists ``faxes`` (any batch) and GETs them by id, counting both."""

    def __init__(self, faxes: list[dict]) -> None:
        self.faxes = {fax["id"]: fax for fax in faxes}
        self.listings: list[dict] = []
        self.gets: list[str] = []

    async def alist_faxes(self, **filters):
        self.listings.append(filters)
        for fax in list(self.faxes.values()):
            yield fax

    async def aget_fax(self, fax_id: str) -> dict:
        self.gets.append(fax_id)
        if fax_id not in self.faxes:
            raise TelnyxNotFoundError(404)
        return self.faxes[fax_id]


@pytest.mark.parametrize(
    ("goal", "pending", "now", "reached"),
    [
        (WaitGoal(0), 0, 100.0, True),
        (WaitGoal(0), 1, 100.0, False),
        (WaitGoal(5), 5, 100.0, True),
        (WaitGoal(0, resume_after=100.0), 3, 100.0, True),
        (WaitGoal(0, resume_after=100.0), 3, 99.0, False),
        (WaitGoal(0, not_before=200.0), 0, 100.0, False),
        (WaitGoal(-1, resume_after=100.0), 0, 99.0, False),
    ],
)
def test_a_wait_ends_at_few_enough_pending_or_its_time_never_before_not_before(goal, pending, now, reached):
    assert goal.reached(pending, now) is reached


def test_the_first_check_lists_the_window_and_keeps_only_the_batchs_faxes():
    rows = rows_to("+13125550101", "+13125550102")
    ours = [fax_for(rows[0], "sending"), fax_for(rows[1], "delivered")]
    hook = ListingHook([*ours, fax_for(rows[0], "sending", batch_id="another"), {"id": "x", "status": "queued"}])
    watch = BatchWatch(hook, batch_id=BATCH_ID, since=SINCE, expected_faxes=2)

    assert asyncio.run(watch.count_pending()) == 1

    assert hook.listings == [{"page_size": 250, "direction": "outbound", "created_at_gte": SINCE}]
    assert set(watch.faxes) == {fax["id"] for fax in ours}


def test_faxes_not_listed_yet_count_as_on_the_line():
    rows = rows_to("+13125550101", "+13125550102", "+13125550103")
    watch = BatchWatch(ListingHook([fax_for(rows[0], "delivered")]), batch_id=BATCH_ID, since=SINCE, expected_faxes=3)

    assert asyncio.run(watch.count_pending()) == 2
    assert not watch.settled


def test_once_few_are_left_it_gets_each_instead_of_listing_and_forgets_deleted_ones():
    rows = rows_to("+13125550101", "+13125550102")
    on_line, deleted = fax_for(rows[0], "sending"), fax_for(rows[1], "sending")
    hook = ListingHook([on_line])
    watch = BatchWatch(hook, batch_id=BATCH_ID, since=SINCE, expected_faxes=2, known=[on_line, deleted])
    hook.faxes[on_line["id"]] = {**on_line, "status": "delivered"}

    async def checks() -> list[int]:
        return [await watch.count_pending(), await watch.count_pending()]

    assert asyncio.run(checks()) == [1, 0]
    assert hook.listings == [{"page_size": 250, "direction": "outbound", "created_at_gte": on_line["created_at"]}]
    assert sorted(hook.gets) == sorted([deleted["id"]])


def test_progress_counts_each_rows_latest_fax():
    (row,) = rows_to("+13125550101")
    earlier = fax_for(row, "failed", reason="user_busy", created_at="2026-01-05T10:00:00Z")
    later = fax_for(row, "delivered", created_at="2026-01-05T10:10:00Z")
    watch = BatchWatch(ListingHook([]), batch_id=BATCH_ID, since=SINCE, expected_faxes=2, known=[earlier, later])

    assert watch.progress(sent=1, total=1) == "sent 1/1, 0 on the line, delivered 1, failed 0"


def test_wait_for_batch_returns_ready_when_the_goal_is_reached():
    (row,) = rows_to("+13125550101")
    fax = fax_for(row, "sending")
    hook = ListingHook([fax])
    watch = BatchWatch(hook, batch_id=BATCH_ID, since=SINCE, expected_faxes=1, known=[fax])
    checks = 0

    async def deliver_on_the_third_get(fax_id: str) -> dict:
        nonlocal checks
        checks += 1
        return {**fax, "status": "delivered" if checks >= 3 else "sending"}

    hook.aget_fax = deliver_on_the_third_get  # type: ignore[method-assign]

    event = asyncio.run(
        wait_for_batch(
            watch,
            WaitGoal(0),
            poll_interval=0.01,
            end_time=None,
            max_consecutive_errors=3,
            make_event=lambda status, message, pending: {"status": status, "message": message, "pending": pending},
            describe=lambda: "progress",
            log=log,
        )
    )

    assert event == {"status": "ready", "message": "0 faxes of the batch are still on the line.", "pending": 0}
    assert checks == 3
