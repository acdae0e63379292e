"""
Daily report fax: build a multi-page PDF report for each day, fax it, wait in the triggerer, record the outcome.

What it shows:

* a task that renders a real PDF (a title page plus a table spread over several pages) from data for the
  run's data interval, and writes it under a storage root (a local directory or any ``ObjectStoragePath``
  URL such as ``s3://bucket/reports``, param ``storage_root``);
* ``SendFaxOperator(media_path=...)`` taking that path from XCom: it checks the PDF, uploads it to Telnyx
  media storage once (content-addressed) and sends it;
* a deferrable ``FaxStatusSensor`` that hands the wait to the triggerer, freeing the worker slot while the
  fax line is busy (``poll_interval`` is a param, so a run can poll faster or slower);
* a task that records the outcome as a one-line log and a small XCom dict.

Catchup and backfill: ``catchup=False``, so turning the DAG on sends today's report only. A backfill sends
one report per day of the range::

    airflow backfill create --dag-id example_fax_daily_report --from-date 2026-01-01 --to-date 2026-01-07

Re-running a day never faxes the same report twice: the report's data and PDF bytes depend only on the
data interval, so a rerun (a retry, clearing the tasks or the run, a backfill with
``--reprocess-behavior completed``, which clears the existing runs) builds the identical document, and
``SendFaxOperator`` finds the fax its task instance already sent (the send key in ``client_state``) and
adopts it instead of dialling again; a delivered day sends nothing new. Only a day whose fax *failed* is
sent again (``resend_policy="if_failed"``, the default). A new run of the same day (``airflow dags test``,
a manual trigger) has a new run id and so sends a new fax.

Try it against the local emulator (``bash scripts/demo.sh`` does all of this)::

    airflow dags test example_fax_daily_report 2026-01-05 -c '{"to": "+15550100000", "poll_interval": 2}'
"""

from __future__ import annotations

import random
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator
from airflow_provider_telnyx_fax.sensors.fax import FaxStatusSensor

REGIONS = ("North", "South", "East", "West", "Central")
PRODUCTS = ("Paper A4", "Toner K", "Toner C", "Drum unit", "Fuser kit", "Service hour", "Cable kit")


def report_day(context: dict[str, Any]) -> date:
    """The day the report is about: the data interval's start, or the run date for runs without one."""
    moment = context.get("data_interval_start") or context.get("logical_date") or context["dag_run"].run_after
    return moment.date()


def report_rows(day: date, count: int) -> list[tuple[str, str, str, int, float]]:
    """Sample order lines for ``day``; seeded by the date, so a rerun of a day builds the same report."""
    rng = random.Random(day.isoformat())
    rows = []
    for number in range(1, count + 1):
        quantity = rng.randint(1, 40)
        price = round(rng.uniform(4, 180), 2)
        rows.append((f"{day:%Y%m%d}-{number:04d}", rng.choice(REGIONS), rng.choice(PRODUCTS), quantity, price))
    return rows


with DAG(
    dag_id="example_fax_daily_report",
    description="Fax a daily PDF report and wait for delivery in the triggerer",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    params={
        "to": Param("+15550100000", type="string", description="Destination fax number (E.164)"),
        "storage_root": Param(
            str(Path(tempfile.gettempdir()) / "airflow-fax-reports"),
            type="string",
            description="Directory or object storage URL (s3://..., gs://..., file://...) for the reports",
        ),
        "rows": Param(90, type="integer", minimum=1, maximum=2000, description="Order lines in the report"),
        "poll_interval": Param(15, type="number", minimum=0.1, description="Seconds between status checks"),
    },
    tags=["example", "telnyx", "fax"],
) as dag:

    @task
    def build_report(params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Render the report PDF for the data interval and write it under ``storage_root``."""
        # Imported here so parsing the DAG file stays light (reportlab is the provider's `examples` extra).
        import io

        from reportlab.lib import colors
        from reportlab.lib.pagesizes import letter
        from reportlab.lib.styles import getSampleStyleSheet
        from reportlab.lib.units import inch
        from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

        assert params is not None
        day = report_day(get_current_context())  # type: ignore[arg-type]
        rows = report_rows(day, int(params["rows"]))
        revenue = sum(quantity * price for *_, quantity, price in rows)
        styles = getSampleStyleSheet()

        story: list[Any] = [
            Spacer(1, 2 * inch),
            Paragraph("Daily sales report", styles["Title"]),
            Paragraph(f"{day:%A, %d %B %Y}", styles["Heading2"]),
            Spacer(1, 0.4 * inch),
            Paragraph(f"{len(rows)} order lines, {revenue:,.2f} USD in total.", styles["Normal"]),
            Paragraph("Sent by Apache Airflow with Telnyx Programmable Fax.", styles["Normal"]),
            PageBreak(),
        ]
        header = ("Order", "Region", "Product", "Qty", "Unit price", "Total")
        lines = [
            (order, region, product, str(qty), f"{price:,.2f}", f"{qty * price:,.2f}")
            for order, region, product, qty, price in rows
        ]
        table = Table(
            [header, *lines],
            repeatRows=1,
            colWidths=[1.3 * inch, 0.9 * inch, 1.4 * inch, 0.6 * inch, 1.0 * inch, 1.1 * inch],
        )
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold"),
                    ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
                    ("ALIGN", (3, 1), (-1, -1), "RIGHT"),
                    ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.lightgrey]),
                ]
            )
        )
        story.append(table)

        def footer(canvas: Any, doc: Any) -> None:
            canvas.setFont("Helvetica", 8)
            canvas.drawRightString(
                letter[0] - inch, 0.5 * inch, f"Daily sales report {day.isoformat()} - page {doc.page}"
            )

        buffer = io.BytesIO()
        # invariant=True leaves out the creation time and random document id: the same day gives the same
        # bytes, so the send key matches on a rerun and the fax is not sent twice.
        document = SimpleDocTemplate(buffer, pagesize=letter, invariant=True, title=f"Daily sales report {day}")
        document.build(story, onFirstPage=footer, onLaterPages=footer)

        root = str(params["storage_root"])
        if "://" in root:
            from airflow.sdk import ObjectStoragePath

            target: Any = ObjectStoragePath(root) / "daily-report" / f"{day.isoformat()}.pdf"
        else:
            target = Path(root) / "daily-report" / f"{day.isoformat()}.pdf"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            handle.write(buffer.getvalue())
        return {"path": str(target), "pages": document.page, "rows": len(rows), "day": day.isoformat()}

    report = build_report()

    send_report = SendFaxOperator(
        task_id="send_report",
        to="{{ params.to }}",
        media_path="{{ ti.xcom_pull(task_ids='build_report')['path'] }}",
    )

    wait_for_delivery = FaxStatusSensor(
        task_id="wait_for_delivery",
        fax_id="{{ ti.xcom_pull(task_ids='send_report', key='fax_id') }}",
        deferrable=True,
        poll_interval="{{ params.poll_interval }}",
        timeout=2 * 60 * 60,
        # Retrying would only re-read the same fax; a failed fax is for the next run or a rerun to resend.
        retries=0,
    )

    @task(trigger_rule="all_done")
    def record_outcome(report: dict[str, Any] | None) -> dict[str, Any]:
        """Log one line about the fax and return it; fail the run when the report was not delivered."""
        from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

        context = get_current_context()
        fax_id = context["ti"].xcom_pull(task_ids="send_report", key="fax_id")
        if not fax_id:
            raise AirflowFailException("No fax was sent for this report; see the send_report task's log.")
        fax = TelnyxFaxHook().get_fax(fax_id)
        outcome = {
            "fax_id": fax_id,
            "to": fax["to"],
            "status": fax["status"],
            "failure_reason": fax.get("failure_reason"),
            "pages": (report or {}).get("pages"),
            "day": (report or {}).get("day"),
        }
        print(
            f"Report {outcome['day']}: fax {fax_id} to {fax['to']} is {fax['status']}"
            f"{' (' + str(fax.get('failure_reason')) + ')' if fax.get('failure_reason') else ''}, "
            f"{outcome['pages']} pages."
        )
        if fax["status"] != "delivered":
            context["ti"].xcom_push(key="outcome", value=outcome)
            raise AirflowFailException(f"The report fax {fax_id} was not delivered: {fax['status']}.")
        return outcome

    report >> send_report >> wait_for_delivery >> record_outcome(report)
