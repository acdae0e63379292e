"""DAGs the documents and delivery-policy tests run with ``dag.test()``: documents, cover and paths come from params."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_telnyx_fax.operators.batch import SendFaxBatchOperator
from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator

PARAMS = {
    "to": "+15550100000",
    "recipients": ["+15550100000"],
    "media_url": "",
    "media_path": "",
    "media_paths": [],
    "cover_page": {},
    "report_path": "",
}
# Wednesday to Friday's business hours in Chicago: the frozen clock's moments in the tests fall around them.
WINDOW = {"days": "mon-fri", "start": "08:00", "end": "18:00", "timezone": "America/Chicago"}


def documents_dag(dag_id: str) -> DAG:
    return DAG(
        dag_id,
        schedule=None,
        start_date=datetime(2026, 1, 1),
        params=PARAMS,
        catchup=False,
        default_args={"retries": 1, "retry_delay": timedelta(seconds=0)},
    )


for mode, deferrable in (("deferred", True), ("on_worker", False)):
    with documents_dag(f"send_documents_{mode}"):
        SendFaxOperator(
            task_id="send",
            to="{{ params.to }}",
            media_url="{{ params.media_url }}",
            media_path="{{ params.media_path }}",
            media_paths="{{ params.media_paths | tojson }}",
            cover_page="{{ params.cover_page | tojson }}",
            report_path="{{ params.report_path }}",
            wait_for_completion=True,
            deferrable=deferrable,
            poll_interval=0.2,
        )

    with documents_dag(f"send_in_window_{mode}"):
        SendFaxOperator(
            task_id="send",
            to="{{ params.to }}",
            media_url="https://example.com/letter.pdf",
            send_window=WINDOW,
            wait_for_completion=True,
            deferrable=deferrable,
            poll_interval=0.2,
        )

    with documents_dag(f"batch_documents_{mode}"):
        SendFaxBatchOperator(
            task_id="send",
            recipients="{{ params.recipients | tojson }}",
            media_paths="{{ params.media_paths | tojson }}",
            cover_page="{{ params.cover_page | tojson }}",
            report_path="{{ params.report_path }}",
            send_window=WINDOW,
            deferrable=deferrable,
            max_in_flight=50,
            sends_per_second=500.0,
            same_number_gap=0.2,
            poll_interval=0.2,
        )
