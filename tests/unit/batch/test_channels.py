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


def test_learning_starts_at_the_least_any_account_allows_and_doubles_each_round():
    ceiling = ChannelCeiling.start(stated=None, most=300)
    assert ceiling.limit == LEAST_CHANNELS

    for round_size in (2, 4, 8):
        for _ in range(round_size):
            dial(ceiling, "sending", calls_up=round_size)
        assert ceiling.limit == 2 * round_size


def test_a_refusal_lowers_the_ceiling_to_the_calls_that_were_up_and_probes_back_slowly():
    ceiling = ChannelCeiling.start(stated=None, most=300)
    ceiling.limit = 16
    dial(ceiling, "failed", calls_up=11, reason="user_channel_limit_exceeded")
    dial(ceiling, "failed", calls_up=12, reason="user_channel_limit_exceeded")

    assert ceiling.limit == 10
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


def test_other_failures_got_a_channel_and_faxes_not_yet_dialled_teach_nothing():
    ceiling = ChannelCeiling.start(stated=None, most=300)
    dial(ceiling, "failed", calls_up=1, reason="user_busy")
    dial(ceiling, "queued", calls_up=2)

    assert (ceiling.limit, ceiling.dials, ceiling.refusals) == (3, 1, 0)


def test_the_same_fax_is_learned_from_once():
    ceiling = ChannelCeiling.start(stated=None, most=300)
    fax = {"id": "once", "status": "delivered", "failure_reason": None}
    ceiling.observe([fax])
    ceiling.observe([fax])

    assert ceiling.limit == 3


def test_what_a_deferral_carries_restores_the_ceiling():
    ceiling = ChannelCeiling.start(stated=6, most=300)
    dial(ceiling, "failed", calls_up=5, reason="user_channel_limit_exceeded")

    carried = ChannelCeiling.start(stated=None, most=300, learned=ceiling.carried())

    assert (carried.limit, carried.most, carried.refused, carried.refusals) == (4, 6, True, 1)
