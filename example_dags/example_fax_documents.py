"""
Invoice fax with its terms, a cover page, a transmission report, and business hours.

What it shows, in one ``SendFaxOperator``:

* ``media_paths``: two PDFs built by a task (the invoice and its terms and conditions), merged in order
  into one fax; Telnyx's limits (350 pages, 20 MB upload) are checked on the merged document before
  anything is sent;
* ``cover_page``: a dict of the cover's fields, templated (the subject names the run's date); the page
  count printed on it counts the cover too;
* ``report_path``: once the fax is delivered or failed, a transmission report PDF (fax id, from, masked
  to, pages, duration, start and end, the result, and the first page reduced) is written there, local or
  object storage, as proof of delivery;
* ``send_window``: the recipient takes faxes 8:00-18:00 on weekdays in Chicago; outside those hours the
  send waits in the triggerer (``deferrable=True``) and a retry after ``user_busy`` waits for the next
  window too. The window is a param here so a demo can open it wide.

The cover page and the report need the provider's ``documents`` extra
(``pip install 'airflow-provider-telnyx-fax[documents]'``: reportlab and pypdfium2). Rerunning a day
builds the same PDFs and the same cover, so the send key finds the fax already sent instead of dialling
again.

Try it against the local emulator, with a window that is always open::

    airflow dags test example_fax_documents 2026-01-05 \\
        -c '{"to": "+15550100000", "send_window": {"days": "mon-sun", "start": "00:00", "end": "23:59"}}'
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator

BUSINESS_HOURS = {"days": "mon-fri", "start": "08:00", "end": "18:00", "timezone": "America/Chicago"}

with DAG(
    dag_id="example_fax_documents",
    description="Fax an invoice and its terms behind a cover page, in business hours, and keep a report",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    params={
        "to": Param("+15550100000", type="string", description="Destination fax number (E.164)"),
        "recipient_name": Param("Accounts Payable, Lakeside Clinic", type="string"),
        "storage_root": Param(
            str(Path(tempfile.gettempdir()) / "airflow-fax-documents"),
            type="string",
            description="Directory or object storage URL (s3://..., file://...) for the documents and reports",
        ),
        "send_window": Param(BUSINESS_HOURS, type="object", description="When the recipient takes faxes"),
    },
    tags=["example", "telnyx", "fax"],
) as dag:

    @task
    def build_documents(ds: str | None = None, params: dict[str, Any] | None = None) -> list[str]:
        """Write the day's invoice (two pages) and the terms (one page) as PDFs; return their paths."""
        # Imported here so parsing the DAG file stays light.
        from reportlab.lib.pagesizes import letter
        from reportlab.pdfgen import canvas

        assert params is not None
        root = str(params["storage_root"])
        if "://" in root:
            from airflow.sdk import ObjectStoragePath

            folder: Any = ObjectStoragePath(root) / "documents" / str(ds)
        else:
            folder = Path(root) / "documents" / str(ds)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, pages in (("invoice", 2), ("terms", 1)):
            target = folder / f"{name}.pdf"
            with target.open("wb") as handle:
                # invariant: no creation time or random id, so a rerun builds the same bytes (same send key).
                pdf = canvas.Canvas(handle, pagesize=letter, invariant=1)
                for page in range(1, pages + 1):
                    pdf.setFont("Helvetica-Bold", 20)
                    pdf.drawString(72, 700, f"{name.capitalize()} for {ds}")
                    pdf.setFont("Helvetica", 12)
                    pdf.drawString(72, 670, f"Page {page} of {pages}")
                    pdf.showPage()
                pdf.save()
            paths.append(str(target))
        return paths

    SendFaxOperator(
        task_id="fax_invoice",
        to="{{ params.to }}",
        media_paths=build_documents(),
        cover_page={
            "subject": "Invoice {{ ds }} and terms",
            "recipient_name": "{{ params.recipient_name }}",
            "sender_name": "Acme Supplies, billing department",
            "message": "Please find our invoice for {{ ds }} and our terms and conditions attached. "
            "Payment is due within 30 days. Call us on the number above with any question.",
        },
        report_path="{{ params.storage_root }}/reports/{{ ds }}-invoice.pdf",
        send_window="{{ params.send_window | tojson }}",
        wait_for_completion=True,
        deferrable=True,
    )
