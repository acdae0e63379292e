"""
Batch fan-out: fax one document to a list of recipients with dynamic task mapping, then count the outcomes.

What it shows:

* ``SendFaxOperator.partial(...).expand(to=...)``: one mapped send per recipient (param ``recipients``);
  each mapped task instance has its own send key, so a retry or rerun of one recipient never re-faxes the
  others, and a rerun of a recipient whose fax went through sends nothing new;
* the document is either a URL Telnyx fetches (param ``media_url``) or, when that is empty, a PDF generated
  here and uploaded once (its media name is derived from its bytes, so all recipients share one upload);
* mapped deferrable ``FaxStatusSensor`` tasks, one per fax, expanded over the send tasks' return values
  (the fax records) with ``send.output.map(...)``, so sensor ``[i]`` waits for the fax sent by ``[i]``;
* a summary task with ``trigger_rule="all_done"`` that runs even when some faxes failed, reads every fax's
  final status from Telnyx and reports delivered/failed counts. With ``fail_if_any_failed`` (the default)
  it then fails, so the run is marked failed when a recipient did not get the fax.

Try it against the local emulator (``+15550100001`` answers busy)::

    airflow dags test example_fax_batch -c '{"recipients": ["+15550100000", "+15550100001", "+15550100020"]}'
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, ObjectStoragePath, Param, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator
from airflow_provider_telnyx_fax.sensors.fax import FaxStatusSensor


def fax_id_of(fax: dict[str, Any]) -> str:
    """The id of a fax record returned by ``SendFaxOperator``."""
    return str(fax["id"])


with DAG(
    dag_id="example_fax_batch",
    description="Fax one document to many recipients with dynamic task mapping",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    params={
        "recipients": Param(
            ["+15550100000", "+15550100020", "+15550100021"],
            type="array",
            items={"type": "string"},
            minItems=1,
            description="Destination fax numbers (E.164)",
        ),
        "media_url": Param("", type="string", description="URL of the document; empty: generate a notice PDF"),
        "notice": Param(
            "Our offices are closed on Friday. Orders placed that day ship on Monday.",
            type="string",
            description="Text of the generated notice when no media_url is given",
        ),
        "storage_root": Param(
            str(Path(tempfile.gettempdir()) / "airflow-fax-batch"),
            type="string",
            description="Directory or object storage URL (s3://...) for the generated notice PDF",
        ),
        "poll_interval": Param(15, type="number", minimum=0.1, description="Seconds between status checks"),
        "fail_if_any_failed": Param(True, type="boolean", description="Fail the run when any fax failed"),
    },
    tags=["example", "telnyx", "fax"],
) as dag:

    @task
    def recipients(params: dict[str, Any] | None = None) -> list[str]:
        """The destinations, each once: a duplicate would be a second map index and so a second fax."""
        assert params is not None
        return list(dict.fromkeys(str(number).strip() for number in params["recipients"]))

    @task(multiple_outputs=True)
    def prepare_document(params: dict[str, Any] | None = None) -> dict[str, str]:
        """Use ``media_url`` when given; otherwise write a one-page notice PDF and return its path."""
        assert params is not None
        if params["media_url"]:
            return {"media_url": params["media_url"], "media_path": ""}
        import hashlib
        import io

        from reportlab.lib.pagesizes import letter
        from reportlab.lib.styles import getSampleStyleSheet
        from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

        run_id = get_current_context()["run_id"]
        digest = hashlib.sha256(params["notice"].encode()).hexdigest()[:12]
        root = str(params["storage_root"])
        # With several workers the send tasks may run elsewhere: give storage every worker reaches (s3://...).
        target: Any = (ObjectStoragePath(root) if "://" in root else Path(root)) / f"notice-{digest}.pdf"
        target.parent.mkdir(parents=True, exist_ok=True)
        styles = getSampleStyleSheet()
        buffer = io.BytesIO()
        # invariant=True: the same notice gives the same bytes, hence the same send key on a rerun.
        document = SimpleDocTemplate(buffer, pagesize=letter, invariant=True, title="Notice")
        document.build(
            [Paragraph("Notice", styles["Title"]), Spacer(1, 24), Paragraph(params["notice"], styles["BodyText"])]
        )
        target.write_bytes(buffer.getvalue())
        print(f"Run {run_id}: faxing the generated notice {target}")
        return {"media_url": "", "media_path": str(target)}

    document = prepare_document()
    numbers = recipients()

    send = SendFaxOperator.partial(
        task_id="send",
        media_url=document["media_url"],
        media_path=document["media_path"],
    ).expand(to=numbers)

    wait = FaxStatusSensor.partial(
        task_id="wait",
        deferrable=True,
        poll_interval="{{ params.poll_interval }}",
        timeout=2 * 60 * 60,
        # Retrying a sensor would only re-read the same fax.
        retries=0,
    ).expand(fax_id=send.output.map(fax_id_of))

    @task(trigger_rule="all_done")
    def summarize(numbers: list[str], params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Count delivered and failed faxes from Telnyx's own records, whatever the sensors ended with."""
        from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

        assert params is not None
        ti = get_current_context()["ti"]
        # One entry per send map index that got as far as Telnyx accepting a fax; failed sends have none.
        fax_ids = [fax_id for fax_id in ti.xcom_pull(task_ids="send", key="fax_id") or [] if fax_id]
        hook = TelnyxFaxHook()
        faxes = [hook.get_fax(fax_id) for fax_id in fax_ids]
        summary: dict[str, Any] = {
            "recipients": len(numbers),
            "sent": len(faxes),
            "delivered": sum(fax["status"] == "delivered" for fax in faxes),
            "failed": sum(fax["status"] == "failed" for fax in faxes),
            "in_flight": sum(fax["status"] not in ("delivered", "failed") for fax in faxes),
            "failures": {fax["to"]: fax.get("failure_reason") for fax in faxes if fax["status"] == "failed"},
            "not_sent": sorted(set(numbers) - {fax["to"] for fax in faxes}),
        }
        print(
            f"Batch: {summary['delivered']} delivered, {summary['failed']} failed, {summary['in_flight']} in flight, "
            f"{len(summary['not_sent'])} not sent, of {summary['recipients']} recipients. "
            f"Failures: {summary['failures'] or 'none'}"
        )
        ti.xcom_push(key="summary", value=summary)
        problems = summary["failed"] + summary["in_flight"] + len(summary["not_sent"])
        if problems and params["fail_if_any_failed"]:
            raise AirflowFailException(f"{problems} of {summary['recipients']} recipients did not get the fax.")
        return summary

    wait >> summarize(numbers)
