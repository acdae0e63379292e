"""Regenerate the pictures in docs/images/: a cover page, a transmission report and a batch report.

They are drawn by the provider's own code (the ``documents`` extra) from sample data, then rendered
to PNG with pypdfium2::

    .venv/bin/python scripts/document_images.py [output-folder]
"""

from __future__ import annotations

import sys
from pathlib import Path

from airflow_provider_telnyx_fax.documents.cover_page import CoverPage, render_cover_page
from airflow_provider_telnyx_fax.documents.merge import merge_pdfs
from airflow_provider_telnyx_fax.documents.report import render_batch_report, render_transmission_report
from airflow_provider_telnyx_fax.privacy import mask_number

REPO_ROOT = Path(__file__).resolve().parent.parent
COVER = CoverPage(
    subject="Invoice 2026-06 and terms",
    message=(
        "Please find our invoice for June and our terms and conditions attached.\n"
        "Payment is due within 30 days. Call us on the number above with any question; "
        "a transmission report is kept as proof of delivery."
    ),
    sender_name="Acme Supplies, billing",
    recipient_name="Accounts Payable, Lakeside Clinic",
)
FAX = {
    "id": "6b1f0c2e-3d4a-4f5b-9c8d-7e6f5a4b3c2d",
    "from": "+13125550100",
    "to": "+13125550123",
    "status": "delivered",
    "created_at": "2026-06-01T14:00:03.120Z",
    "updated_at": "2026-06-01T14:01:15.480Z",
}


def render_png(pdf: bytes, output: Path, *, scale: float = 1.25) -> None:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        document[0].render(scale=scale).to_pil().save(output)
    finally:
        document.close()
    print(f"wrote {output} ({output.stat().st_size // 1024} KB)")


def main(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    cover = render_cover_page(COVER, to="+13125550123", from_number="+13125550100", total_pages=4, date="1 June 2026")
    lines = [
        {
            "row": number,
            "row_id": f"clinic-{number:03d}",
            "to": mask_number(f"+1312555{number:04d}", enabled=True),
            "fax_id": f"6b1f0c2e-3d4a-4f5b-9c8d-7e6f5a4b{number:04d}",
            "status": "failed" if number % 9 == 0 else "delivered",
            "failure_reason": "user_busy" if number % 9 == 0 else None,
            "attempts": 3 if number % 9 == 0 else 1,
        }
        for number in range(1, 37)
    ]
    images = {
        "cover-page.png": cover,
        "transmission-report.png": render_transmission_report(FAX, pages=4, document=merge_pdfs([cover])),
        "batch-report.png": render_batch_report(
            "b-3f2a9c41d0",
            "36 rows: 32 delivered, 4 failed (4 retryable, 0 permanent: user_busy 4), 0 skipped, 0 pending",
            lines,
        ),
    }
    written = []
    for name, pdf in images.items():
        render_png(pdf, folder / name)
        written.append(folder / name)
    return written


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "docs" / "images")
