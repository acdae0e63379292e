"""A finished fax or a trigger's event turned into a task result, a retry, or a failure for good."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_telnyx_fax.outcomes import checked_event, describe_event, result_for_finished_fax

FAX_ID = "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0"
TO = "+13125550123"


def fax(status: str, reason: str | None = None) -> dict:
    return {"id": FAX_ID, "to": TO, "status": status, "failure_reason": reason}


@pytest.mark.parametrize("status", ["delivered", "received"])
def test_a_delivered_or_received_fax_is_the_result(status):
    record = fax(status)

    assert result_for_finished_fax(record) is record


def test_a_retryable_failure_fails_the_try_so_retries_redial():
    with pytest.raises(AirflowException) as raised:
        result_for_finished_fax(fax("failed", "user_busy"))

    assert not isinstance(raised.value, AirflowFailException)
    assert f"Fax {FAX_ID} to " in str(raised.value)
    assert "failed: user_busy (retryable)" in str(raised.value)
    assert TO not in str(raised.value)


def test_a_permanent_failure_fails_for_good():
    with pytest.raises(AirflowFailException, match=r"destination_invalid \(permanent\); not retrying"):
        result_for_finished_fax(fax("failed", "destination_invalid"))


def test_a_failure_without_a_reason_is_retryable_and_says_so():
    with pytest.raises(AirflowException, match=r"no failure_reason given \(retryable\)") as raised:
        result_for_finished_fax(fax("failed"))
    assert not isinstance(raised.value, AirflowFailException)


def test_the_tasks_overrides_decide():
    with pytest.raises(AirflowFailException):
        result_for_finished_fax(fax("failed", "user_busy"), permanent_reasons=["user_busy"])
    with pytest.raises(AirflowException) as raised:
        result_for_finished_fax(fax("failed", "destination_invalid"), retryable_reasons=["destination_invalid"])
    assert not isinstance(raised.value, AirflowFailException)


@pytest.mark.parametrize("status", ["delivered", "received", "failed", "error", "timeout"])
def test_a_known_event_for_this_fax_is_accepted(status):
    event = {"status": status, "fax_id": FAX_ID}

    assert checked_event(event, FAX_ID) is event


@pytest.mark.parametrize("event", [None, {}, [], "delivered", {"status": "sending", "fax_id": FAX_ID}])
def test_an_empty_or_unknown_event_is_refused(event):
    with pytest.raises(AirflowException, match="empty or unknown event"):
        checked_event(event, FAX_ID)


def test_an_event_for_another_fax_is_refused():
    with pytest.raises(AirflowException, match="for fax 'another' while waiting for fax"):
        checked_event({"status": "delivered", "fax_id": "another"}, FAX_ID)


def test_an_event_in_a_message_is_masked_and_cut_short():
    text = describe_event({"status": "bogus", "to": TO, "padding": "x" * 1000})

    assert TO not in text
    assert len(text) <= 500
