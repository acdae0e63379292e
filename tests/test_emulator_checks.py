"""The emulator checks the batch benchmark and tests share (``benchmarks/emulator_checks.py``) see what they claim."""

from __future__ import annotations

import requests

from benchmarks.emulator_checks import busy_line_failures, outbound, overlaps_per_number, peak_in_flight, refused_sends


def send(emulator, to: str) -> requests.Response:
    body = {
        "connection_id": emulator.connection_id,
        "from": emulator.from_number,
        "to": to,
        "media_url": "https://example.com/statement.pdf",
    }
    return requests.post(f"{emulator.base_url}/faxes", json=body, headers=emulator.auth_headers, timeout=10)


def test_a_send_over_the_in_flight_limit_counts_as_refused(telnyx_fax_emulator):
    telnyx_fax_emulator.set_limits(max_in_flight=1)
    assert send(telnyx_fax_emulator, "+13125550001").status_code == 202
    assert send(telnyx_fax_emulator, "+13125550002").status_code == 429
    assert refused_sends(telnyx_fax_emulator) == 1
    assert len(outbound(telnyx_fax_emulator)) == 1


def test_two_faxes_at_once_to_one_number_count_as_our_own_busy_line(telnyx_fax_emulator):
    first = send(telnyx_fax_emulator, "+13125550003").json()["data"]["id"]
    second = send(telnyx_fax_emulator, "+13125550003").json()["data"]["id"]
    busy = send(telnyx_fax_emulator, "+15550100001").json()["data"]["id"]  # set to answer busy
    for fax_id in (first, second, busy):
        telnyx_fax_emulator.wait_for_status(fax_id, ("delivered", "failed"))
    faxes = outbound(telnyx_fax_emulator)
    assert [fax["id"] for fax in busy_line_failures(faxes, busy_numbers={"+15550100001"})] == [second]
    assert refused_sends(telnyx_fax_emulator) == 0
    # The timelines show the pair too (from creation to the end, so a fax still queued counts as overlapping).
    assert overlaps_per_number(faxes) == [("+13125550003", first, second)]
    assert peak_in_flight(faxes) <= 3
