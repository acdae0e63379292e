"""example_fax_documents under ``airflow dags test``: two PDFs merged behind a cover, a report, a send window."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pypdf import PdfReader

if TYPE_CHECKING:
    from pathlib import Path

    from tests.system.example_dags.conftest import ExampleAirflow

DAG_ID = "example_fax_documents"
ALWAYS_OPEN = {"days": "mon-sun", "start": "00:00", "end": "23:59", "timezone": "UTC"}


def test_the_documents_example_faxes_invoice_and_terms_behind_a_cover_and_keeps_a_report(
    example_airflow: ExampleAirflow, tmp_path: Path
):
    storage = tmp_path / "storage"
    conf = {"to": "+15550100000", "storage_root": str(storage), "send_window": ALWAYS_OPEN}

    run = example_airflow.dags_test(DAG_ID, "2026-01-05", conf)

    assert run.state == "success", run.tail()
    [fax] = [fax for fax in example_airflow.emulator.faxes() if fax["direction"] == "outbound"]
    # Invoice (2 pages) + terms (1) + the cover page, as Telnyx counts them.
    assert fax["page_count"] == 4
    assert fax["status"] == "delivered"
    (report,) = (storage / "reports").glob("*.pdf")
    text = re.sub(r":[ \n]+", ": ", PdfReader(report).pages[0].extract_text())
    assert f"Fax id: {fax['id']}" in text
    assert "Result: Delivered (OK)" in text
    assert "Pages: 4" in text
    assert "+15550100000" not in text
