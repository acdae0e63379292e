"""Fax numbers are masked and document names left out of what the package logs, raises and shows."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest

from airflow_provider_telnyx_fax.privacy import mask_number, mask_numbers_in
from airflow_provider_telnyx_fax.triggers.inbound import InboundFaxEventTrigger
from tests.support.documents import make_pdf

if TYPE_CHECKING:
    from pathlib import Path

DELIVERS = "+15550100000"
FAILS_PERMANENTLY = "+15550100006"
SENDER = "+14155550199"
DOCUMENT = "jane-doe-lab-results.pdf"


def test_numbers_are_masked_to_the_country_digit_and_last_four():
    assert mask_number("+13125550123", enabled=True) == "+1•••••0123"
    assert mask_number("sip:frontdesk@clinic.example", enabled=True) == "sip:•••@clinic.example"
    assert mask_number("+13125550123", enabled=False) == "+13125550123"
    assert mask_numbers_in("to %2B13125550123 and sip:a@b.example", enabled=True) == (
        "to %2B1•••••0123 and sip:•••@b.example"
    )


def first_inbound_event(since: str) -> dict:
    async def run() -> dict:
        async for event in InboundFaxEventTrigger(since=since, poll_interval=0.1).run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(run(), 30))


def what_the_package_wrote(run_dag, emulator, airflow_home: Path, capfd, tmp_path: Path) -> str:
    """A send with an upload and a wait, a failed fax, a retried call and an inbound event, as text."""
    document = make_pdf(tmp_path / DOCUMENT, pages=2)
    emulator.add_fault("GET", "/v2/faxes", "503", count=1)
    run_dag("send_and_wait_on_worker", conf={"to": DELIVERS, "media_path": str(document)})
    run_dag("send_and_wait_deferred", conf={"to": FAILS_PERMANENTLY, "media_url": "https://example.com/a.pdf"})
    since = (datetime.now(timezone.utc) - timedelta(seconds=5)).isoformat()
    emulator.simulate_inbound(SENDER)
    event = first_inbound_event(since)
    captured = capfd.readouterr()
    logs = "".join(path.read_text(errors="replace") for path in airflow_home.rglob("*.log"))
    return "\n".join([captured.out, captured.err, logs, repr(event)])


def test_no_full_number_and_no_file_name_in_logs_errors_or_asset_events(
    run_dag, telnyx_fax_emulator, airflow_home, capfd, tmp_path
):
    written = what_the_package_wrote(run_dag, telnyx_fax_emulator, airflow_home, capfd, tmp_path)

    assert "Telnyx accepted fax" in written  # the send was logged...
    assert "receiver_unallocated_number" in written  # ...and so was the failure
    for number in (DELIVERS, FAILS_PERMANENTLY, SENDER):
        assert number.lstrip("+") not in written
    assert mask_number(FAILS_PERMANENTLY, enabled=True) in written
    assert DOCUMENT not in written
    assert "jane-doe" not in written


def test_with_masking_turned_off_the_numbers_are_shown(run_dag, telnyx_fax_emulator, airflow_home, capfd, tmp_path):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__TELNYX_FAX__MASK_NUMBERS", "False")
        written = what_the_package_wrote(run_dag, telnyx_fax_emulator, airflow_home, capfd, tmp_path)

    assert DELIVERS in written
    assert FAILS_PERMANENTLY in written
    assert SENDER in written
    # Document names stay out either way: they are not numbers.
    assert DOCUMENT not in written
