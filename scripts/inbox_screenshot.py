"""Regenerate docs/inbox.png: the emulator's fax inbox with delivered, failed, sending and received faxes.

Needs Debian's chromium and chromium-driver (``apt-get install chromium chromium-driver``)::

    .venv/bin/python scripts/inbox_screenshot.py [output.png]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import requests
from selenium import webdriver

from airflow_provider_telnyx_fax.idempotency import SendKey
from telnyx_fax_emulator import start_emulator
from telnyx_fax_emulator.documents import blank_pdf

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess

REPO_ROOT = Path(__file__).resolve().parent.parent
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,760",
)  # fmt: skip


def send(handle: EmulatorProcess, to: str, name: str, task: str, pages: int) -> None:
    """Upload, then send by media_name with the provider's send key, as the operator does."""
    files = {"media": (name, blank_pdf(pages))}
    upload = requests.post(
        f"{handle.base_url}/media", data={"media_name": name}, files=files, headers=handle.auth_headers, timeout=10
    )
    upload.raise_for_status()
    key = SendKey("monthly_invoices", task, "scheduled__2025-06-01T00:00:00+00:00", -1, to, name)
    body = {
        "connection_id": handle.connection_id,
        "from": handle.from_number,
        "to": to,
        "media_name": name,
        "client_state": key.client_state(),
    }
    requests.post(f"{handle.base_url}/faxes", json=body, headers=handle.auth_headers, timeout=10).raise_for_status()


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT / "docs" / "inbox.png"
    with start_emulator(speed=20) as handle:
        send(handle, "+15550100000", "invoice-2025-06.pdf", "fax_invoice", 2)
        send(handle, "+15550100001", "reminder-2025-06.pdf", "fax_reminder", 1)
        handle.simulate_inbound("+15551230000", document=blank_pdf(1), filename="signed-order.pdf")
        send(handle, "+15550100011", "statement-2025-06.pdf", "fax_statement", 3)
        time.sleep(4)  # everything but the never-ending fax is finished
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        with tempfile.TemporaryDirectory() as profile:
            for flag in (*FLAGS, f"--user-data-dir={profile}"):
                options.add_argument(flag)
            driver = webdriver.Chrome(options=options, service=webdriver.ChromeService("/usr/bin/chromedriver"))
            try:
                driver.get(handle.inbox_url)
                time.sleep(1.5)  # one live update
                output.parent.mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(str(output))
            finally:
                driver.quit()
    print(f"wrote {output} ({output.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
