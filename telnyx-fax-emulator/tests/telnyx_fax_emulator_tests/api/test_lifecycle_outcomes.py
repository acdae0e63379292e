"""Outbound lifecycle and the documented test-number outcomes."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

from telnyx_fax_emulator.documents import blank_pdf
from telnyx_fax_emulator_tests.support import OTHER_NUMBER, send_fax

if TYPE_CHECKING:
    from pathlib import Path

    from telnyx_fax_emulator.launcher import EmulatorProcess
    from telnyx_fax_emulator_tests.support import ApiSession

TERMINAL = ("delivered", "failed")


def statuses(fax: dict[str, Any]) -> list[str]:
    return [step["status"] for step in fax["timeline"]]


def planned_secs(fax: dict[str, Any]) -> float:
    steps = fax["timeline"]
    start, end = (datetime.fromisoformat(steps[i]["at"]) for i in (0, -1))
    return (end - start).total_seconds()


@pytest.mark.parametrize(
    ("number", "reason", "path"),
    [
        ("+15550100001", "user_busy", ["queued", "media.processed", "failed"]),
        ("+15550100002", "receiver_no_answer", ["queued", "media.processed", "failed"]),
        ("+15550100003", "receiver_call_dropped", ["queued", "media.processed", "sending", "failed"]),
        ("+15550100004", "carrier_lost", ["queued", "media.processed", "sending", "failed"]),
        ("+15550100005", "destination_invalid", ["queued", "media.processed", "failed"]),
        ("+15550100006", "receiver_unallocated_number", ["queued", "media.processed", "failed"]),
        ("+15550100007", "file_download_failed", ["queued", "failed"]),
        ("+15550100008", "file_format_invalid", ["queued", "failed"]),
        ("+15550100009", "page_count_limit_exceeded", ["queued", "failed"]),
    ],
)
def test_failing_test_numbers(
    api: ApiSession, emulator: EmulatorProcess, number: str, reason: str, path: list[str]
) -> None:
    fax = send_fax(api, emulator, number)
    final = emulator.wait_for_status(fax["id"], TERMINAL)
    assert statuses(final) == path
    seen = api.get(f"/faxes/{fax['id']}").json()["data"]
    assert seen["status"] == "failed"
    assert seen["failure_reason"] == reason
    assert seen["internal_failure_reason"]  # a granular reason accompanies every failure


def test_delivered_number_and_unlisted_numbers_deliver(api: ApiSession, emulator: EmulatorProcess) -> None:
    for number in ("+15550100000", OTHER_NUMBER, "sip:fax@example.com"):
        fax = send_fax(api, emulator, number)
        final = emulator.wait_for_status(fax["id"], TERMINAL)
        assert statuses(final) == ["queued", "media.processed", "sending", "delivered"]
        seen = api.get(f"/faxes/{fax['id']}").json()["data"]
        assert (seen["failure_reason"], seen["internal_failure_reason"]) == (None, None)


def test_busy_once_number_fails_first_then_delivers(api: ApiSession, emulator: EmulatorProcess) -> None:
    # One after the other, as a redial would: a line takes one call at a time.
    outcomes = []
    for _ in range(3):
        fax = send_fax(api, emulator, "+15550100010")
        final = emulator.wait_for_status(fax["id"], TERMINAL)
        outcomes.append(final["failure_reason"] or final["status"])
    assert outcomes == ["user_busy", "delivered", "delivered"]


def test_stays_sending_number_never_finishes(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = send_fax(api, emulator, "+15550100011")
    view = emulator.wait_for_status(fax["id"], "sending")
    assert view["pending"] == []  # nothing else is planned: only a cancel ends it


def test_outcomes_settable_at_run_time_with_sequences(api: ApiSession, emulator: EmulatorProcess) -> None:
    emulator.set_outcome(OTHER_NUMBER, ["carrier_lost", "receiver_no_answer", "delivered"])
    results = []
    for _ in range(4):
        fax = send_fax(api, emulator, OTHER_NUMBER)
        results.append(emulator.wait_for_status(fax["id"], TERMINAL))
    assert [r["failure_reason"] or r["status"] for r in results] == [
        "carrier_lost",
        "receiver_no_answer",
        "delivered",
        "delivered",  # the last entry repeats
    ]
    emulator.set_outcome("+15550100000", "user_busy")
    fax = send_fax(api, emulator, "+15550100000")
    assert emulator.wait_for_status(fax["id"], TERMINAL)["failure_reason"] == "user_busy"
    # reset restores the documented table
    emulator.reset()
    assert emulator.outcomes()["+15550100000"] == "delivered"


def test_page_count_comes_from_the_pdf_and_sets_the_duration(
    api: ApiSession, emulator: EmulatorProcess, pdf_file: Any
) -> None:
    one = send_fax(api, emulator, "+15557650001", media_url=pdf_file(1, "one.pdf").as_uri())
    three = send_fax(api, emulator, "+15557650003", media_url=pdf_file(3, "three.pdf").as_uri())
    one_view = emulator.wait_for_status(one["id"], "delivered")
    three_view = emulator.wait_for_status(three["id"], "delivered")
    assert (one_view["page_count"], three_view["page_count"]) == (1, 3)
    # Planned from the fast default (100x): 2 s queued + 3 s processing + a 20 s call set-up + 30 s per page.
    assert planned_secs(one_view) == pytest.approx(0.55, abs=0.01)
    assert planned_secs(three_view) == pytest.approx(1.15, abs=0.01)
    delivered = [e for e in emulator.events(three["id"]) if e["event_type"] == "fax.delivered"]
    assert delivered[0]["payload"]["page_count"] == 3


def test_url_outside_loopback_gets_the_default_single_page(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = send_fax(api, emulator, media_url="https://example.com/unreachable.pdf")
    assert emulator.wait_for_status(fax["id"], "delivered")["page_count"] == 1


def test_realistic_speed_plans_real_durations(api: ApiSession, emulator: EmulatorProcess, pdf_file: Any) -> None:
    assert emulator.set_speed("realistic") == 1.0
    fax = send_fax(api, emulator, media_url=pdf_file(2).as_uri())
    view = emulator.fax(fax["id"])
    steps = [datetime.fromisoformat(s["at"]) for s in view["timeline"] + view["pending"]]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(steps)]
    assert gaps == pytest.approx([2.0, 3.0, 80.0], abs=0.01)
    assert emulator.set_speed(10) == 10.0


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"\x00\x01\x02 definitely not a document \xff\xfe", "file_format_invalid"),
        (b"%PDF-1.4 truncated garbage", "file_format_invalid"),
        (b"351 pages", "page_count_limit_exceeded"),
    ],
)
def test_document_problems_fail_like_telnyx(
    api: ApiSession, emulator: EmulatorProcess, tmp_path: Path, document: bytes, reason: str
) -> None:
    path = tmp_path / "doc.bin"
    # Built here rather than at collection: every test run would pay for the 351-page PDF.
    path.write_bytes(blank_pdf(351) if document == b"351 pages" else document)
    fax = send_fax(api, emulator, media_url=path.as_uri())
    final = emulator.wait_for_status(fax["id"], TERMINAL)
    assert (final["status"], final["failure_reason"]) == ("failed", reason)


def test_file_over_50_mb_fails_with_file_size_limit(api: ApiSession, emulator: EmulatorProcess, tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:  # sparse: no 50 MB written to disk
        handle.truncate(50 * 1024 * 1024 + 1)
    fax = send_fax(api, emulator, media_url=big.as_uri())
    assert emulator.wait_for_status(fax["id"], TERMINAL)["failure_reason"] == "file_size_limit_exceeded"


def test_missing_file_fails_with_download_failure(api: ApiSession, emulator: EmulatorProcess, tmp_path: Path) -> None:
    fax = send_fax(api, emulator, media_url=(tmp_path / "missing.pdf").as_uri())
    assert emulator.wait_for_status(fax["id"], TERMINAL)["failure_reason"] == "file_download_failed"


def test_loopback_http_media_url_is_fetched(api: ApiSession, emulator: EmulatorProcess) -> None:
    # Forward a received fax: its media_url is a loopback URL the emulator can fetch like Telnyx would.
    inbound = emulator.simulate_inbound("+15551230000", document=blank_pdf(2))
    received = emulator.wait_for_status(inbound["id"], "received")
    fax = send_fax(api, emulator, media_url=received["media_url"])
    assert emulator.wait_for_status(fax["id"], TERMINAL)["page_count"] == 2

    # A loopback URL that answers 401 (the media download needs a bearer) is a download failure.
    upload = api.post("/media", files={"media": ("one.pdf", blank_pdf(1), "application/pdf")})
    url = f"{emulator.root_url}/v2/media/{upload.json()['data']['media_name']}/download"
    fax = send_fax(api, emulator, media_url=url)
    assert emulator.wait_for_status(fax["id"], TERMINAL)["failure_reason"] == "file_download_failed"


def test_multipart_send_with_contents(api: ApiSession, emulator: EmulatorProcess) -> None:
    response = api.post(
        "/faxes",
        data={"connection_id": emulator.connection_id, "from": emulator.from_number, "to": OTHER_NUMBER},
        files={"contents": ("two.pdf", blank_pdf(2), "application/pdf")},
    )
    assert response.status_code == 202, response.text
    fax = response.json()["data"]
    assert "media_url" not in fax
    assert emulator.wait_for_status(fax["id"], "delivered")["page_count"] == 2
