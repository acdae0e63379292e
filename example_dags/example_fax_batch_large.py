"""
A large batch in one task: fax one statement to 10,000 recipients read from a CSV in object storage.

What it shows:

* ``SendFaxBatchOperator`` with ``recipients_path``: the rows (``row_id``, ``to``) come from a CSV in any
  object storage (``file://``, ``s3://``, ``gs://``, ...; param ``storage_root``), too big for XCom;
* one shared document, generated here and uploaded to Telnyx media storage once for every row;
* at most ``max_in_flight`` faxes on the line, ``sends_per_second`` at most, one call at a time per number;
* the wait deferred to ``FaxBatchTrigger`` between waves and until every fax has finished;
* the per-row manifest (JSON Lines, numbers masked) written next to the CSV, and a summary task that prints
  the roll-up and runs whatever happened to the batch (``trigger_rule="all_done"``).

Rerunning only the failures: the batch task fails when any row failed, and its retries (``retries=2``)
resend only the rows whose fax failed for a retryable reason (a busy line, a dropped call); rows that were
delivered, or failed for good (a wrong number), are left alone. Clearing the task later does the same:
each row's send key (in ``client_state``) tells the operator which rows already have a fax.

Against the local emulator (numbers ``+1312555xxxx`` deliver; ``+15550100001`` answers busy)::

    airflow dags test example_fax_batch_large -c '{"size": 200}'

The limits can be set from the environment for trying the DAG out: ``EXAMPLE_FAX_BATCH_MAX_IN_FLIGHT``,
``EXAMPLE_FAX_BATCH_SENDS_PER_SECOND``, ``EXAMPLE_FAX_BATCH_RETRY_DELAY`` and
``EXAMPLE_FAX_BATCH_SAME_NUMBER_GAP`` (seconds).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, ObjectStoragePath, Param, get_current_context, task

from airflow_provider_telnyx_fax.operators.batch import SendFaxBatchOperator

DEFAULT_STORAGE = (Path(tempfile.gettempdir()) / "airflow-fax-batch-large").as_uri()
MAX_IN_FLIGHT = int(os.environ.get("EXAMPLE_FAX_BATCH_MAX_IN_FLIGHT", "500"))
SENDS_PER_SECOND = float(os.environ.get("EXAMPLE_FAX_BATCH_SENDS_PER_SECOND", "20"))
RETRY_DELAY = timedelta(seconds=float(os.environ.get("EXAMPLE_FAX_BATCH_RETRY_DELAY", "300")))
SAME_NUMBER_GAP = float(os.environ.get("EXAMPLE_FAX_BATCH_SAME_NUMBER_GAP", "30"))

with DAG(
    dag_id="example_fax_batch_large",
    description="Fax one statement to thousands of recipients from a CSV, in one task",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "size": Param(10_000, type="integer", minimum=1, description="How many recipients to write to the CSV"),
        "busy": Param(0, type="integer", minimum=0, description="How many of them answer busy (emulator)"),
        "numbers": Param(
            0, type="integer", minimum=0, description="How many distinct numbers the rows share (0: one per row)"
        ),
        "storage_root": Param(DEFAULT_STORAGE, type="string", description="Object storage folder for CSV and manifest"),
        "poll_interval": Param(15, type="number", minimum=0.1, description="Seconds between status checks"),
    },
    tags=["example", "telnyx", "fax"],
) as dag:

    @task
    def write_recipients(params: dict[str, Any] | None = None) -> str:
        """The recipients CSV (``row_id,to``) in object storage; a real DAG would export it from a database."""
        assert params is not None
        run_id = get_current_context()["run_id"]
        target = ObjectStoragePath(params["storage_root"]) / "recipients" / f"{run_id.replace(':', '_')}.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        lines = ["row_id,to"]
        shared = int(params["numbers"])
        for index in range(int(params["size"])):
            slot = index % shared if shared else index
            number = "+15550100001" if index < int(params["busy"]) else f"+1312{5550000 + slot:07d}"
            lines.append(f"customer-{index:05d},{number}")
        target.write_text("\n".join(lines) + "\n")
        return str(target)

    @task
    def write_statement(params: dict[str, Any] | None = None) -> str:
        """One statement PDF shared by every row (the same bytes each run, so a rerun keeps the send keys).

        It goes to the storage root, not the worker's temp dir: the batch task may run on another worker.
        """
        import io

        from reportlab.lib.pagesizes import letter
        from reportlab.lib.styles import getSampleStyleSheet
        from reportlab.platypus import Paragraph, SimpleDocTemplate

        assert params is not None
        target = ObjectStoragePath(params["storage_root"]) / "statements" / "statement.pdf"
        target.parent.mkdir(parents=True, exist_ok=True)
        styles = getSampleStyleSheet()
        buffer = io.BytesIO()
        document = SimpleDocTemplate(buffer, pagesize=letter, invariant=True, title="Statement")
        document.build([Paragraph("Your monthly statement is ready in the customer portal.", styles["Title"])])
        target.write_bytes(buffer.getvalue())
        return str(target)

    recipients_csv = write_recipients()
    statement = write_statement()

    send = SendFaxBatchOperator(
        task_id="send_batch",
        recipients_path=recipients_csv,
        media_path=statement,
        manifest_path="{{ params.storage_root }}/manifests/{{ run_id | replace(':', '_') }}.jsonl",
        max_in_flight=MAX_IN_FLIGHT,
        sends_per_second=SENDS_PER_SECOND,
        same_number_gap=SAME_NUMBER_GAP,
        deferrable=True,
        poll_interval="{{ params.poll_interval }}",
        retries=2,
        retry_delay=RETRY_DELAY,
    )

    @task(trigger_rule="all_done")
    def summarize() -> dict[str, Any]:
        """Print the batch's roll-up and the failed rows from the manifest, whatever the batch ended with."""
        ti = get_current_context()["ti"]
        rollup = ti.xcom_pull(task_ids="send_batch") or ti.xcom_pull(task_ids="send_batch", key="rollup")
        if not rollup:
            raise RuntimeError("The batch task left no roll-up: it failed before sending (see its log).")
        # The manifest is JSON Lines: one object per row (row id, masked number, fax id, status, reason, attempts).
        with ObjectStoragePath(rollup["manifest"]).open("r") as manifest:
            rows = [json.loads(line) for line in manifest if line.strip()]
        failed = [row for row in rows if row["status"] == "failed"]
        print(
            f"Batch: {rollup['delivered']:,} of {rollup['total']:,} delivered, "
            f"{rollup['failed']['retryable']:,} failed retryably, {rollup['failed']['permanent']:,} for good, "
            f"{rollup['pending']:,} pending; reasons {rollup['by_reason'] or 'none'}; manifest {rollup['manifest']}"
        )
        for line in failed[:20]:
            print(f"  row {line['row_id']} to {line['to']}: {line['failure_reason']} ({line['failure_kind']})")
        return {key: rollup[key] for key in ("total", "delivered", "failed", "skipped", "pending", "by_reason")}

    send >> summarize()
