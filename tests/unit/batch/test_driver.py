"""The batch's loop against the emulator's channels: how many calls it keeps up, and where it stops."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_telnyx_fax.batch.driver import (
    MAX_DIAL_CHECK_SECONDS,
    MIN_DIAL_CHECK_SECONDS,
    BatchDriver,
    BatchSettings,
)
from airflow_provider_telnyx_fax.batch.ledger import BatchLedger
from airflow_provider_telnyx_fax.batch.rows import RowDefaults, check_rows
from airflow_provider_telnyx_fax.batch.waves import BatchPlan
from airflow_provider_telnyx_fax.fax_request import FaxSendRequest
from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
from airflow_provider_telnyx_fax.idempotency import SendKey
from tests.support.batch_rows import BATCH_ID, DAG_ID, RUN_ID, TASK_ID, fax_for, rows_to

LOG = logging.getLogger(__name__)
STAYS_SENDING = "+15550100011"


def settings(**overrides: object) -> BatchSettings:
    values: dict = {
        "channel_limit": None,
        "connection_id": None,
        "max_in_flight": 300,
        "sends_per_second": 500.0,
        "same_number_gap": 0.0,
        "wait_for_completion": True,
        "deferrable": False,
        "poll_interval": 15.0,
    }
    return BatchSettings(**{**values, **overrides})


def plan_for(hook: TelnyxFaxHook, numbers: list[str]) -> BatchPlan:
    def key_for(to: str, identity: str, row_id: str) -> SendKey:
        return SendKey(DAG_ID, TASK_ID, RUN_ID, -1, to, f"{identity}#row={row_id}")

    def client_state_for(key: SendKey, row_id: str, own: str | None) -> str:
        return key.client_state(own, batch=BATCH_ID, row=row_id, attempt=1)

    template = FaxSendRequest(to="", media_url="https://example.com/statement.pdf")
    rows, invalid = check_rows(
        numbers, RowDefaults(template, None), key_for=key_for, client_state_for=client_state_for,
        prepare=hook.prepare_send,
    )  # fmt: skip
    assert invalid == []
    since = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    return BatchPlan(rows, [], BATCH_ID, since, try_number=1)


def driver(hook: TelnyxFaxHook, **overrides: object) -> BatchDriver:
    def new_ledger(plan: BatchPlan) -> BatchLedger:
        return BatchLedger(plan.rows, batch_id=plan.batch_id, try_number=plan.try_number, resend_policy="if_failed")

    return BatchDriver(
        hook, LOG, settings(**overrides), window=None, upload=lambda document: None, new_ledger=new_ledger
    )


def numbers(count: int) -> list[str]:
    return [f"+1312555{index:04d}" for index in range(count)]


def test_on_three_channels_it_learns_the_ceiling_and_never_has_more_calls_up(telnyx_fax_emulator):
    telnyx_fax_emulator.set_speed(1000)
    telnyx_fax_emulator.set_limits(channel_limit=3)
    hook = TelnyxFaxHook()

    drive = asyncio.run(driver(hook).drive(plan_for(hook, numbers(40)), None, stop=False, learned=None))

    assert drive.pause is None
    assert drive.ledger.rollup()["delivered"] == 40
    assert drive.ceiling.limit == 3
    channels = telnyx_fax_emulator.channels()
    assert channels["peak"] <= 3
    assert drive.ceiling.refusals == sum(channels["refused_at_limit"].values())


def test_a_stated_limit_is_kept_from_the_first_dial(telnyx_fax_emulator):
    telnyx_fax_emulator.set_speed(1000)
    telnyx_fax_emulator.set_limits(channel_limit=4)
    hook = TelnyxFaxHook()

    drive = asyncio.run(
        driver(hook, channel_limit=4).drive(plan_for(hook, numbers(20)), None, stop=False, learned=None)
    )

    assert drive.ledger.rollup()["delivered"] == 20
    assert telnyx_fax_emulator.channels()["refused_at_limit"] == {}


def test_the_fax_applications_limit_is_read_when_none_is_stated(telnyx_fax_emulator):
    telnyx_fax_emulator.set_limits(application_channel_limit=2)
    hook = TelnyxFaxHook()

    assert asyncio.run(driver(hook).stated_channel_limit()) == 2


def test_deferrable_it_hands_over_the_last_faxes_after_the_watch_and_carries_what_it_learned(telnyx_fax_emulator):
    hook = TelnyxFaxHook()

    drive = asyncio.run(
        driver(hook, deferrable=True).drive(plan_for(hook, [STAYS_SENDING]), None, stop=False, learned=None)
    )

    assert drive.pause is not None
    assert drive.pause.tail
    assert drive.pause.goal.resume_at_pending == 0
    assert drive.carried() == {**drive.ceiling.carried(), "spent": None}


def test_a_spend_limit_stops_the_dialling_and_is_carried(telnyx_fax_emulator):
    telnyx_fax_emulator.set_speed(1000)
    telnyx_fax_emulator.set_limits(daily_page_budget=3)
    hook = TelnyxFaxHook()

    drive = asyncio.run(driver(hook).drive(plan_for(hook, numbers(8)), None, stop=False, learned=None))

    assert drive.spent == "outbound_profile_daily_spend_limit_exceeded"
    assert drive.carried()["spent"] == drive.spent
    rollup = drive.ledger.rollup()
    assert (rollup["delivered"], rollup["pending"]) == (3, 5)


@pytest.mark.parametrize(
    ("line_seconds", "expected"),
    [(None, 1.0), (1.0, MIN_DIAL_CHECK_SECONDS), (40.0, 2.0), (600.0, MAX_DIAL_CHECK_SECONDS)],
)
def test_it_looks_for_a_freed_channel_every_twentieth_of_a_line_time_within_bounds(line_seconds, expected):
    book = BatchLedger(rows_to("+13125550101"), batch_id=BATCH_ID, try_number=1, resend_policy="if_failed")
    if line_seconds is not None:
        (entry,) = book.rows
        ended = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc) + timedelta(seconds=line_seconds)
        book.absorb([fax_for(entry.row, "delivered", created_at="2026-01-05T10:00:00Z", updated_at=ended.isoformat())])

    assert driver(TelnyxFaxHook()).dial_check_seconds(book) == expected
