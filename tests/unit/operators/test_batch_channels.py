"""
A batch on a real account's channels: Telnyx refuses a dial when every channel is busy (the emulator
models it: 10 channels by default, like a verified account). The batch learns the ceiling, puts refused
rows back in the queue within the try, and stops dialling at a spend limit.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from airflow_provider_telnyx_fax.models import CHANNEL_LIMIT_REASONS
from benchmarks.emulator_checks import faxes_by_row, outbound

FAST_LINES = 1000  # a one-page call takes about 50 ms: the rounds, not the lines, set the test's length


def numbers(count: int) -> list[str]:
    return [f"+1312555{index:04d}" for index in range(count)]


def wasted_dials(channels: dict) -> float:
    """Dials Telnyx refused for want of a channel, over every dial (the emulator's ``dials`` got a channel)."""
    refused = sum(count for reason, count in channels["refused_at_limit"].items() if reason in CHANNEL_LIMIT_REASONS)
    return refused / (channels["dials"] + refused)


@pytest.mark.parametrize(("channel_limit", "rows"), [(2, 80), (10, 200), (100, 300)])
def test_a_batch_with_its_defaults_delivers_every_row_in_one_try_on_any_account(
    run_dag, telnyx_fax_emulator, channel_limit, rows
):
    telnyx_fax_emulator.set_speed(FAST_LINES)
    telnyx_fax_emulator.set_limits(channel_limit=channel_limit)

    result = run_dag("batch_channel_defaults", conf={"recipients": numbers(rows)})

    assert result.task_states == {"send": "success"}
    assert result.tries == {"send": 1}
    rollup = result.xcom("send")
    assert rollup["delivered"] == rows
    channels = telnyx_fax_emulator.channels()
    assert channels["peak"] <= channel_limit
    assert wasted_dials(channels) <= 0.05, channels
    # A refused dial is not a failed row: every row has exactly one delivered fax, its refusals counted.
    delivered = [fax for fax in outbound(telnyx_fax_emulator) if fax["status"] == "delivered"]
    assert sorted(faxes_by_row(delivered)) == sorted(line["row_id"] for line in rollup["manifest"])
    assert all(len(faxes) == 1 for faxes in faxes_by_row(delivered).values())
    refused = sum(line["not_dialled"] for line in rollup["manifest"])
    assert sum(line["attempts"] for line in rollup["manifest"]) == rows + refused


def test_a_spend_limit_leaves_the_rest_pending_and_a_clear_finishes_them_once_each(
    run_dag, telnyx_fax_emulator, capsys
):
    telnyx_fax_emulator.set_speed(FAST_LINES)
    telnyx_fax_emulator.set_limits(daily_page_budget=12)
    day = datetime(2026, 3, 2, tzinfo=timezone.utc)
    conf = {"recipients": numbers(30)}

    stopped = run_dag("batch_channel_defaults", conf=conf, logical_date=day)

    assert stopped.task_states == {"send": "failed"}
    assert stopped.tries == {"send": 1}
    rollup = stopped.xcom("send", "rollup")
    assert (rollup["delivered"], rollup["pending"], rollup["failed"]) == (12, 18, {"retryable": 0, "permanent": 0})
    log = capsys.readouterr().out
    assert "Telnyx stopped dialling the batch: outbound_profile_daily_spend_limit_exceeded" in log
    assert "clear this task once the limit resets" in log

    telnyx_fax_emulator.set_limits(daily_page_budget=None)
    cleared = run_dag("batch_channel_defaults", conf=conf, logical_date=day)

    assert cleared.task_states == {"send": "success"}
    assert cleared.xcom("send")["delivered"] == 30
    delivered = [fax for fax in outbound(telnyx_fax_emulator) if fax["status"] == "delivered"]
    assert len(delivered) == 30
    assert all(len(faxes) == 1 for faxes in faxes_by_row(delivered).values())


def test_a_single_send_refused_for_want_of_a_channel_is_redialled_in_the_same_try(run_dag, telnyx_fax_emulator):
    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

    fax_hook = TelnyxFaxHook()
    telnyx_fax_emulator.set_limits(channel_limit=1)
    blocker = fax_hook.send_fax("+15550100011", media_url="https://example.com/hold.pdf")  # stays sending
    telnyx_fax_emulator.wait_for_status(blocker["id"], "sending")

    refused = threading.Event()

    def free_the_channel_after_a_refusal() -> None:
        # A generous deadline: the operator redials for minutes, so the refusal comes long before it.
        for _ in range(6000):
            if telnyx_fax_emulator.channels()["refused_at_limit"]:
                refused.set()
                break
            refused.wait(0.05)
        fax_hook.cancel_fax(blocker["id"])

    freer = threading.Thread(target=free_the_channel_after_a_refusal, daemon=True)
    freer.start()
    result = run_dag("send_and_wait_deferred", conf={"to": "+15550100000", "media_url": "https://example.com/a.pdf"})
    freer.join(timeout=60)
    assert refused.is_set(), "the send was never refused for want of a channel"

    assert result.task_states == {"send": "success"}
    assert result.tries == {"send": 1}
    sent = [fax for fax in outbound(telnyx_fax_emulator) if fax["to"] == "+15550100000"]
    assert sorted(fax["failure_reason"] or fax["status"] for fax in sent) == [
        "delivered",
        "user_channel_limit_exceeded",
    ]
