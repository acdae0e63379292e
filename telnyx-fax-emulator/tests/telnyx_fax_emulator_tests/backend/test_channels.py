"""The channel book on its own, on hand-made timelines: no clock, so every count is exact by construction."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone

import pytest

from telnyx_fax_emulator import outcomes
from telnyx_fax_emulator.channels import ChannelBook, ChannelLimits
from telnyx_fax_emulator.state import FaxRecord

APP = "1234567890"
OTHER_APP = "555"
# A day's start, so spends on either side of midnight UTC are easy to place.
MIDNIGHT = datetime(2030, 1, 2, tzinfo=timezone.utc).timestamp()
_ids = itertools.count()


def call(dial_at: float, line_secs: float = 50.0, *, outcome: str = outcomes.DELIVERED, pages: int = 1) -> FaxRecord:
    """A fax whose call starts at ``dial_at`` and lasts ``line_secs`` (speed 1: created 5 s before)."""
    created = dial_at - outcomes.QUEUED_SECS - outcomes.MEDIA_PROCESSED_SECS
    timeline = [outcomes.Transition("queued", created), outcomes.Transition("media.processed", created + 2)]
    if outcome in outcomes.CALL_SETUP_FAILURES:
        timeline.append(outcomes.Transition("failed", dial_at))
    else:
        timeline += [outcomes.Transition("sending", dial_at), outcomes.Transition("delivered", dial_at + line_secs)]
    return FaxRecord(
        id=f"fax-{next(_ids)}", direction="outbound", connection_id=APP, from_="+15550199999", to="+15557650000",
        created_at=created, timeline=timeline, page_count=pages, outcome=outcome,
    )  # fmt: skip


NO_LIMITS = ChannelLimits()


def place(book: ChannelBook, fax: FaxRecord, limits: ChannelLimits = NO_LIMITS) -> str | None:
    """What the backend does for a new fax: ask for a refusal, then track the call (or the refusal)."""
    dial_at = fax.timeline[2].at
    refusal = book.refusal(fax.connection_id, fax.page_count, dial_at, limits)
    if refusal is not None:
        fax.outcome = refusal
    book.track(fax, dial_at, refused=refusal is not None)
    return refusal


def test_a_call_over_the_account_limit_is_refused_until_one_ends() -> None:
    book = ChannelBook()
    two = ChannelLimits(account=2)
    assert place(book, call(100), two) is None  # up 100..150
    assert place(book, call(110), two) is None  # up 110..160
    assert place(book, call(120), two) == outcomes.USER_CHANNEL_LIMIT_EXCEEDED
    # The first call ends at 150 sharp: its channel is free for a call starting then.
    assert place(book, call(150), two) is None

    report = book.report(1000)
    assert (report["peak"], report["dials"], report["in_use"]) == (2, 3, 0)
    assert report["refused_at_limit"] == {outcomes.USER_CHANNEL_LIMIT_EXCEEDED: 1}


def test_the_limits_are_checked_application_then_profile_then_account() -> None:
    book = ChannelBook()
    place(book, call(100, line_secs=1000))
    at = 200.0
    every, two = ChannelLimits(account=1, application=1, profile=1), ChannelLimits(account=1, profile=1)
    assert book.refusal(APP, 1, at, every) == outcomes.CONNECTION_CHANNEL_LIMIT_EXCEEDED
    assert book.refusal(APP, 1, at, two) == outcomes.OUTBOUND_PROFILE_CHANNEL_LIMIT_EXCEEDED
    assert book.refusal(APP, 1, at, ChannelLimits(account=1)) == outcomes.USER_CHANNEL_LIMIT_EXCEEDED
    # The application limit counts only that application's calls.
    assert book.refusal(OTHER_APP, 1, at, ChannelLimits(application=1)) is None
    assert book.refusal(APP, 1, at, ChannelLimits()) is None


def test_the_peak_is_exact_from_the_calls_start_and_end() -> None:
    book = ChannelBook()
    for dial_at, line_secs in ((100, 50), (120, 50), (140, 50), (160, 100), (300, 10)):
        place(book, call(dial_at, line_secs))

    # 140..150 has three calls up; 160 starts as 100..150 has ended, so never four.
    assert book.report(1000)["peak"] == 3
    # Only what has happened by then counts.
    assert book.report(125)["peak"] == 2
    assert (book.report(125)["in_use"], book.report(125)["dials"]) == (2, 2)
    assert book.report(305)["in_use"] == 1


def test_a_cancel_frees_the_channel_and_a_call_hung_up_before_its_start_never_happens() -> None:
    book = ChannelBook()
    one = ChannelLimits(account=1)
    on_the_line = call(100, line_secs=1000)
    place(book, on_the_line, one)
    assert book.refusal(APP, 1, 200, one) == outcomes.USER_CHANNEL_LIMIT_EXCEEDED

    # What Backend.cancel_fax does at 150: tell the book, rewrite the timeline.
    book.hang_up(on_the_line, 150)
    on_the_line.timeline = [*on_the_line.visible_timeline(150), outcomes.Transition("failed", 150)]
    assert book.refusal(APP, 1, 200, one) is None

    not_started = call(400, pages=3)
    place(book, not_started, ChannelLimits(daily_pages=10))
    book.hang_up(not_started, 390)
    report = book.report(1000)
    assert (report["dials"], report["peak"], report["in_use"]) == (1, 1, 0)
    assert report["pages_today"] == 1  # the cancelled call was dialled: its page is spent; the other is refunded


def test_the_daily_page_budget_counts_pages_dialled_per_utc_day() -> None:
    book = ChannelBook()
    budget = ChannelLimits(daily_pages=3)
    assert place(book, call(MIDNIGHT - 3600, pages=2), budget) is None
    assert place(book, call(MIDNIGHT - 1800, pages=2), budget) == outcomes.OUTBOUND_PROFILE_DAILY_SPEND_LIMIT_EXCEEDED
    # A call failing at dial (busy) spends nothing; neither does the refused one above.
    assert place(book, call(MIDNIGHT - 900, outcome=outcomes.USER_BUSY, pages=1), budget) is None
    assert place(book, call(MIDNIGHT - 600, pages=1), budget) is None
    assert place(book, call(MIDNIGHT - 300, pages=1), budget) == outcomes.OUTBOUND_PROFILE_DAILY_SPEND_LIMIT_EXCEEDED
    # The limit resets at 00:00:00 UTC.
    assert place(book, call(MIDNIGHT + 1, pages=3), budget) is None
    assert book.report(MIDNIGHT + 10)["pages_today"] == 3


@pytest.mark.parametrize("limits", [ChannelLimits(), ChannelLimits(daily_pages=10_000)])
def test_with_no_channel_limit_every_call_gets_through_and_is_counted_on_read(limits: ChannelLimits) -> None:
    book = ChannelBook()
    for dial_at in range(100, 2100):
        assert place(book, call(float(dial_at), line_secs=10_000), limits) is None
    assert book.report(5000)["in_use"] == 2000
    assert book.report(5000)["peak"] == 2000


def test_two_thousand_channels_stay_cheap_to_check() -> None:
    book = ChannelBook()
    limits = ChannelLimits(account=2000)
    # Calls of 1,000 s every second: 1,000 up at a time, each send settles what ended.
    refusals = [place(book, call(float(second), line_secs=1000), limits) for second in range(5000)]
    assert refusals == [None] * 5000
    assert book.report(10_000)["peak"] == 1000
