"""DAGs the operator tests run with ``dag.test()`` against the emulator; numbers and documents come from params."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_provider_telnyx_fax.operators.fax import CancelFaxOperator, SendFaxOperator
from airflow_provider_telnyx_fax.sensors.fax import FaxStatusSensor

PARAMS = {"to": "+15550100000", "media_url": "", "media_path": "", "recipients": ["+15550100000"]}
FAST = {"retries": 1, "retry_delay": timedelta(seconds=0)}
FAX_ID = "{{ ti.xcom_pull(task_ids='send', key='fax_id') }}"


def send(task_id: str = "send", **kwargs: object) -> SendFaxOperator:
    return SendFaxOperator(
        task_id=task_id,
        to="{{ params.to }}",
        media_url="{{ params.media_url }}",
        media_path="{{ params.media_path }}",
        poll_interval=0.2,
        **FAST,
        **kwargs,
    )


def fax_dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), params=PARAMS, catchup=False)


for mode, deferrable in (("deferred", True), ("on_worker", False)):
    with fax_dag(f"send_and_wait_{mode}"):
        send(wait_for_completion=True, deferrable=deferrable)

    with fax_dag(f"send_then_sensor_{mode}"):
        send() >> FaxStatusSensor(
            task_id="wait", fax_id=FAX_ID, deferrable=deferrable, poll_interval=0.2, timeout=60, **FAST
        )

with fax_dag("send_always"):
    send(wait_for_completion=True, deferrable=True, resend_policy="always")

with fax_dag("sensor_times_out"):
    # Retries are allowed, so a single try proves the timeout failed the task outright.
    send() >> FaxStatusSensor(task_id="wait", fax_id=FAX_ID, deferrable=True, poll_interval=0.2, timeout=2, **FAST)

with fax_dag("send_and_cancel"):
    send() >> CancelFaxOperator(task_id="cancel", fax_id=FAX_ID)

with fax_dag("send_mapped"):

    @task
    def recipients(params: dict[str, object] | None = None) -> object:
        return params["recipients"] if params else []

    SendFaxOperator.partial(
        task_id="send", media_url="https://example.com/invoice.pdf", wait_for_completion=True, poll_interval=0.2
    ).expand(to=recipients())
