"""The resend rule, alone and as both send operators apply it when a task is cleared."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_provider_telnyx_fax.operators.batch import SendFaxBatchOperator
from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator
from airflow_provider_telnyx_fax.resend import RESEND_POLICIES, checked_resend_policy, standing_fax
from benchmarks.emulator_checks import outbound
from tests.support.task_instances import RecordingTaskInstance

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator

DELIVERS = "+15550100000"
BUSY = "+15550100001"  # user_busy: retryable
INVALID = "+15550100005"  # destination_invalid: permanent
MEDIA_URL = "https://example.com/statement.pdf"


def fax(status: str, reason: str | None = None, fax_id: str = "f1") -> dict:
    return {"id": fax_id, "status": status, "failure_reason": reason}


def test_every_policy_passes_the_check_and_another_word_is_refused():
    assert [checked_resend_policy(policy) for policy in RESEND_POLICIES] == list(RESEND_POLICIES)
    with pytest.raises(ValueError, match="resend_policy must be one of if_failed, always, never, not 'sometimes'"):
        checked_resend_policy("sometimes")


@pytest.mark.parametrize(
    ("policy", "earlier", "stands"),
    [
        ("if_failed", fax("delivered"), True),
        ("if_failed", fax("sending"), True),
        ("if_failed", fax("failed", "user_busy"), False),
        ("if_failed", fax("failed", "destination_invalid"), True),
        ("never", fax("failed", "user_busy"), True),
        ("never", fax("delivered"), True),
        ("always", fax("delivered"), False),
        ("always", fax("failed", "destination_invalid"), False),
    ],
)
def test_what_stands_for_a_fax_an_earlier_try_sent(policy, earlier, stands):
    assert (standing_fax([earlier], policy=policy) == earlier) is stands


def test_nothing_sent_means_a_send_whatever_the_policy():
    assert {standing_fax([], policy=policy) for policy in RESEND_POLICIES} == {None}


@pytest.mark.parametrize("policy", RESEND_POLICIES)
def test_a_fax_of_this_try_stands_until_the_next_try(policy):
    busy = fax("failed", "user_busy")

    assert standing_fax([busy], policy=policy, sent_this_try=lambda _: True) == busy


@pytest.mark.parametrize("policy", RESEND_POLICIES)
@pytest.mark.parametrize(
    "reason",
    [
        "user_channel_limit_exceeded",
        "connection_channel_limit_exceeded",
        "outbound_profile_channel_limit_exceeded",
        "outbound_profile_daily_spend_limit_exceeded",
    ],
)
def test_a_fax_refused_before_dialling_never_stands_even_in_its_own_try(policy, reason):
    refused = fax("failed", reason)

    assert standing_fax([refused], policy=policy, sent_this_try=lambda _: True) is None
    delivered = fax("delivered", fax_id="old")
    assert standing_fax([refused, delivered], policy=policy) == (None if policy == "always" else delivered)


def test_a_delivery_stands_over_a_newer_failure():
    delivered, failed = fax("delivered", fax_id="old"), fax("failed", "user_busy", fax_id="new")

    assert standing_fax([failed, delivered], policy="if_failed") == delivered


def test_the_task_overrides_decide_the_failure_kind():
    busy = fax("failed", "user_busy")

    assert standing_fax([busy], policy="if_failed", permanent_reasons=["user_busy"]) == busy
    assert (
        standing_fax(
            [fax("failed", "destination_invalid")], policy="if_failed", retryable_reasons=["destination_invalid"]
        )
        is None
    )


# The same scenarios through both operators: try 1, then try 2 as clearing the task makes it.
@dataclass
class TaskInstanceAtTry(RecordingTaskInstance):
    try_number: int = 1


def run_try(operator: str, number: str, try_number: int) -> None:
    common: dict[str, Any] = {"task_id": "send", "media_url": MEDIA_URL, "deferrable": False, "poll_interval": 0.2}
    send: BaseOperator = (
        SendFaxOperator(to=number, wait_for_completion=True, **common)
        if operator == "SendFaxOperator"
        else SendFaxBatchOperator(recipients=[number], **common)
    )
    # A failed fax fails the try; what matters here is what the next try sends.
    with contextlib.suppress(AirflowException):
        send.execute({"ti": TaskInstanceAtTry(try_number=try_number)})  # type: ignore[arg-type]


@pytest.mark.parametrize("operator", ["SendFaxOperator", "SendFaxBatchOperator"])
@pytest.mark.parametrize(
    ("number", "faxes_after_clearing"),
    [(DELIVERS, 1), (BUSY, 2), (INVALID, 1)],
    ids=["after-a-delivery", "after-a-retryable-failure", "after-a-permanent-failure"],
)
def test_clearing_a_task_resends_only_after_a_retryable_failure(
    telnyx_fax_emulator, operator, number, faxes_after_clearing
):
    run_try(operator, number, try_number=1)
    run_try(operator, number, try_number=2)

    sent = [fax for fax in outbound(telnyx_fax_emulator) if fax["to"] == number]
    assert len(sent) == faxes_after_clearing
