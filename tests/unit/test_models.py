"""Fax statuses and failure reasons: which statuses end a fax, and which failures a redial can fix."""

from __future__ import annotations

import pytest

from airflow_provider_telnyx_fax.models import (
    CANCELLABLE_STATUSES,
    FAILURE_REASONS,
    FailureKind,
    FaxStatus,
    classify_failure,
)


@pytest.mark.parametrize(
    ("status", "terminal", "success", "cancellable"),
    [
        ("queued", False, False, True),
        ("media.processed", False, False, True),
        ("originated", False, False, True),
        ("sending", False, False, True),
        ("delivered", True, True, False),
        ("failed", True, False, False),
        ("initiated", False, False, False),
        ("receiving", False, False, False),
        ("media.processing", False, False, False),
        ("received", True, True, False),
    ],
)
def test_each_status_knows_whether_it_ends_succeeds_or_can_be_cancelled(status, terminal, success, cancellable):
    fax_status = FaxStatus(status)

    assert (fax_status.is_terminal, fax_status.is_success, fax_status.is_cancellable) == (
        terminal,
        success,
        cancellable,
    )


def test_statuses_compare_equal_to_the_strings_telnyx_sends():
    assert FaxStatus.MEDIA_PROCESSED == "media.processed"
    assert {status.value for status in FaxStatus} >= {"queued", "sending", "delivered", "failed", "received"}
    assert all(not status.is_terminal for status in CANCELLABLE_STATUSES)


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError, match="'paused'"):
        FaxStatus("paused")


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("user_busy", FailureKind.RETRYABLE),
        ("receiver_no_answer", FailureKind.RETRYABLE),
        ("carrier_lost", FailureKind.RETRYABLE),
        ("destination_invalid", FailureKind.PERMANENT),
        ("file_size_limit_exceeded", FailureKind.PERMANENT),
        ("sender_canceled", FailureKind.PERMANENT),
    ],
)
def test_known_failure_reasons_follow_the_table(reason, kind):
    assert FAILURE_REASONS[reason] is kind
    assert classify_failure(reason) is kind


@pytest.mark.parametrize("reason", [None, "", "a_reason_telnyx_adds_next_year"])
def test_missing_or_unknown_reasons_count_as_retryable(reason):
    assert classify_failure(reason) is FailureKind.RETRYABLE


def test_task_level_overrides_win_over_the_table():
    assert classify_failure("user_busy", permanent_reasons=["user_busy"]) is FailureKind.PERMANENT
    assert classify_failure("destination_invalid", retryable_reasons={"destination_invalid"}) is FailureKind.RETRYABLE
    # Named both ways, the reason is permanent: a redial that cannot help is the costlier mistake to repeat.
    both = classify_failure("carrier_lost", retryable_reasons=["carrier_lost"], permanent_reasons=["carrier_lost"])
    assert both is FailureKind.PERMANENT
    # Overrides name reasons; they do not change the rule for a missing one.
    assert classify_failure(None, permanent_reasons=["user_busy"]) is FailureKind.RETRYABLE
