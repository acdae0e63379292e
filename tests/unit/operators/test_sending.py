"""The base both send operators share: one set of document, delivery and resend arguments, checked once."""

from __future__ import annotations

from datetime import datetime

import pytest
from airflow.sdk import DAG

from airflow_provider_telnyx_fax.operators.batch import SendFaxBatchOperator
from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator
from airflow_provider_telnyx_fax.operators.sending import FaxSendingOperator

MEDIA_URL = "https://example.com/statement.pdf"
TO = "+15550100000"
BUILDERS = {
    "SendFaxOperator": lambda **kwargs: SendFaxOperator(task_id="send", to=TO, **kwargs),
    "SendFaxBatchOperator": lambda **kwargs: SendFaxBatchOperator(task_id="send", recipients=[TO], **kwargs),
}


@pytest.mark.parametrize("operator", list(BUILDERS))
def test_both_operators_take_the_shared_arguments_from_the_base(operator):
    send = BUILDERS[operator](media_url=MEDIA_URL, resend_policy="never", retryable_reasons=["destination_invalid"])

    assert isinstance(send, FaxSendingOperator)
    assert (send.media_url, send.resend_policy, send.retryable_reasons) == (
        MEDIA_URL,
        "never",
        ("destination_invalid",),
    )
    assert send.hook.telnyx_conn_id == "telnyx_fax_default"


@pytest.mark.parametrize("operator", list(BUILDERS))
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"resend_policy": "sometimes"}, "resend_policy must be one of"),
        ({"report_path": "/tmp/report.pdf", "wait_for_completion": False}, "report_path needs wait_for_completion"),
    ],
)
def test_the_shared_checks_refuse_bad_arguments_for_both_operators(operator, kwargs, match):
    with pytest.raises(ValueError, match=match):
        BUILDERS[operator](media_url=MEDIA_URL, **kwargs)


@pytest.mark.parametrize("operator", list(BUILDERS))
def test_default_args_reach_the_shared_arguments(operator):
    default_args = {"telnyx_conn_id": "telnyx_fax_other", "resend_policy": "always"}
    with DAG("shared", schedule=None, start_date=datetime(2026, 1, 1), default_args=default_args):
        send = BUILDERS[operator](media_url=MEDIA_URL)

    assert (send.telnyx_conn_id, send.resend_policy) == ("telnyx_fax_other", "always")


def test_the_wait_default_stays_each_operators_own():
    assert BUILDERS["SendFaxOperator"](media_url=MEDIA_URL).wait_for_completion is False
    assert BUILDERS["SendFaxBatchOperator"](media_url=MEDIA_URL).wait_for_completion is True
