"""DAGs the batch tests run with ``dag.test()`` against the emulator; rows, limits and waiting come from params."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_provider_telnyx_fax.operators.batch import SendFaxBatchOperator

PARAMS = {
    "recipients": ["+15550100000"],
    "recipients_path": "",
    "manifest_path": "",
    "chunks": [["+15550100000"]],
}
LIMITS = {"max_in_flight": 50, "sends_per_second": 500.0, "same_number_gap": 0.2, "poll_interval": 0.2}


def batch_dag(dag_id: str, *, retries: int = 0) -> DAG:
    return DAG(
        dag_id,
        schedule=None,
        start_date=datetime(2026, 1, 1),
        params=PARAMS,
        catchup=False,
        default_args={"retries": retries, "retry_delay": timedelta(seconds=0)},
        render_template_as_native_obj=True,
    )


for mode, deferrable in (("deferred", True), ("on_worker", False)):
    with batch_dag(f"batch_{mode}"):
        SendFaxBatchOperator(
            task_id="send",
            recipients="{{ params.recipients or None }}",
            recipients_path="{{ params.recipients_path or None }}",
            manifest_path="{{ params.manifest_path or None }}",
            media_url="https://example.com/statement.pdf",
            deferrable=deferrable,
            **LIMITS,
        )

with batch_dag("batch_with_retry", retries=1):
    SendFaxBatchOperator(
        task_id="send",
        recipients="{{ params.recipients }}",
        media_url="https://example.com/statement.pdf",
        deferrable=True,
        **LIMITS,
    )

with batch_dag("batch_large", retries=0):
    SendFaxBatchOperator(
        task_id="send",
        recipients_path="{{ params.recipients_path }}",
        manifest_path="{{ params.manifest_path }}",
        media_url="https://example.com/statement.pdf",
        deferrable=True,
        max_in_flight=400,
        sends_per_second=5000.0,
        same_number_gap=0.2,
        poll_interval=0.5,
    )

with batch_dag("batch_mapped"):

    @task
    def chunks(params: dict[str, object] | None = None) -> object:
        return params["chunks"] if params else []

    SendFaxBatchOperator.partial(
        task_id="send", media_url="https://example.com/invoice.pdf", deferrable=True, **LIMITS
    ).expand(recipients=chunks())

# The batch's defaults for channels and waiting; only the send rate is raised, so tests are quick.
with batch_dag("batch_channel_defaults"):
    SendFaxBatchOperator(
        task_id="send",
        recipients="{{ params.recipients }}",
        media_url="https://example.com/statement.pdf",
        deferrable=True,
        sends_per_second=500.0,
    )
