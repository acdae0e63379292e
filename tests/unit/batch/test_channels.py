"""The channel ceiling: stated, carried over a deferral, or learned from Telnyx's answers."""

from __future__ import annotations

import itertools

import pytest

from airflow_provider_telnyx_fax.batch.channels import CALLS_PER_PROBE, LEAST_CHANNELS, ChannelCeiling

_ids = itertools.count()


def dial(ceiling: ChannelCeiling, status: str, calls_up: int, reason: str | None = None) -> None:
    fax_id = f"fax-{next(_ids)}"
    ceiling.sent(fax_id, calls_up)
    ceiling.observe([{"id": fax_id, "status": status, "failure_reason": reason}])


def test_a_stated_limit_is_the_ceiling_and_never_grows_past_it():
    ceiling = ChannelCeiling.start(stated=10, most=300)

    for _ in range(1000):
        dial(ceiling, "delivered", calls_up=10)

    assert ceiling.limit == 10


def test_a_stated_limit_above_max_in_flight_is_capped():
    assert ChannelCeiling.start(stated=50, most=20).limit == 20


def play_round(ceiling: ChannelCeiling, *, refused_above: int | None = None) -> None:
    """Dial up to the ceiling, then let every dial get a channel (or be refused above ``refused_above``)."""
    faxes = []
    for calls_up in range(1, ceiling.free(0) + 1):
        fax_id = f"fax-{next(_ids)}"
        ceiling.sent(fax_id, calls_up)
        refused = refused_above is not None and calls_up > refused_above
        faxes.append(
            {"id": fax_id, "status": "failed" if refused else "sending",
             "failure_reason": "user_channel_limit_exceeded" if refused else None}
        )  # fmt: skip
        if not refused or calls_up == refused_above + 1:
            assert ceiling.free(calls_up) == 0, "a learning round sends nothing more until its dials have outcomes"
    ceiling.observe(faxes)


def test_learning_doubles_each_round_up_to_ten_then_grows_by_fifteen_percent():
    ceiling = ChannelCeiling.start(stated=None, most=300)
    assert ceiling.limit == LEAST_CHANNELS

    limits = []
    for _ in range(7):
        play_round(ceiling)
        limits.append(ceiling.limit)

    assert limits == [4, 8, 10, 12, 14, 17, 20]


def test_the_round_that_finds_the_limit_wastes_at_most_the_growth():
    ceiling = ChannelCeiling.start(stated=None, most=300)
    while ceiling.learning:
        play_round(ceiling, refused_above=100)

    assert ceiling.limit == 100
    assert ceiling.refusals <= 0.15 * 100


def test_a_round_waits_for_dials_that_have_no_outcome_yet():
    ceiling = ChannelCeiling.start(stated=None, most=300)
    ceiling.sent("a", 1)
    ceiling.sent("b", 2)
    ceiling.observe([{"id": "a", "status": "sending"}, {"id": "b", "status": "queued"}])

    assert ceiling.free(1) == 0
    ceiling.observe([{"id": "b", "status": "delivered"}])
    assert (ceiling.limit, ceiling.free(0)) == (4, 4)


def test_a_refusal_lowers_the_ceiling_to_the_calls_that_were_up_and_probes_back_slowly():
    ceiling = ChannelCeiling.start(stated=None, most=300)
    ceiling.limit = 16
    dial(ceiling, "failed", calls_up=11, reason="user_channel_limit_exceeded")
    dial(ceiling, "failed", calls_up=12, reason="user_channel_limit_exceeded")

    assert ceiling.limit == 10
    assert not ceiling.learning
    for _ in range(CALLS_PER_PROBE * 10 - 1):
        dial(ceiling, "delivered", calls_up=10)
    assert ceiling.limit == 10
    dial(ceiling, "delivered", calls_up=10)
    assert ceiling.limit == 11
    assert (ceiling.refusals, ceiling.dials) == (2, 2 + CALLS_PER_PROBE * 10)


@pytest.mark.parametrize("reason", ["connection_channel_limit_exceeded", "outbound_profile_channel_limit_exceeded"])
def test_every_channel_limit_counts_as_a_refusal(reason):
    ceiling = ChannelCeiling.start(stated=None, most=300)
    dial(ceiling, "failed", calls_up=2, reason=reason)

    assert (ceiling.limit, ceiling.refusals) == (1, 1)


def test_other_failures_got_a_channel():
    ceiling = ChannelCeiling.start(stated=None, most=300)
    ceiling.sent("busy", 1)
    ceiling.sent("delivered", 2)
    ceiling.observe(
        [{"id": "busy", "status": "failed", "failure_reason": "user_busy"}, {"id": "delivered", "status": "delivered"}]
    )

    assert (ceiling.limit, ceiling.dials, ceiling.refusals) == (4, 2, 0)


def test_the_same_fax_is_learned_from_once():
    ceiling = ChannelCeiling.start(stated=10, most=300)
    ceiling.limit = 5
    fax = {"id": "once", "status": "failed", "failure_reason": "user_channel_limit_exceeded"}
    ceiling.sent("once", 5)
    ceiling.observe([fax])
    ceiling.observe([fax])

    assert (ceiling.limit, ceiling.refusals) == (4, 1)


def test_what_a_deferral_carries_restores_the_ceiling():
    ceiling = ChannelCeiling.start(stated=6, most=300)
    dial(ceiling, "failed", calls_up=5, reason="user_channel_limit_exceeded")

    carried = ChannelCeiling.start(stated=None, most=300, learned=ceiling.carried())

    assert (carried.limit, carried.most, carried.refused, carried.refusals) == (4, 6, True, 1)
