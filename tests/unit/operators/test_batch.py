"""SendFaxBatchOperator against the emulator: rows checked first, limits kept, one fax per row, retries resend."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_telnyx_fax.batch.manifest import read_manifest
from airflow_provider_telnyx_fax.operators.batch import SendFaxBatchOperator
from benchmarks.emulator_checks import (
    busy_line_failures,
    faxes_by_row,
    outbound,
    overlaps_per_number,
    peak_in_flight,
    refused_sends,
)
from tests.support.task_instances import RecordingTaskInstance as SendTaskInstance

if TYPE_CHECKING:
    from pathlib import Path

DELIVERS = "+15550100000"
BUSY = "+15550100001"  # user_busy: retryable
INVALID = "+15550100005"  # destination_invalid: permanent
BUSY_THEN_DELIVERS = "+15550100010"
GAP = 0.2


@dataclass
class RecordingTaskInstance(SendTaskInstance):
    try_number: int = 1


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"+1312555{index:04d}" for index in range(start, start + count)]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["row_id", "to"])
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.scale
@pytest.mark.timeout(600)
def test_ten_thousand_rows_in_one_task_match_the_emulator_row_by_row(run_dag, telnyx_fax_emulator, tmp_path):
    """About a minute: 10,000 real sends, listings and a manifest line each is the scale the batch promises."""
    # Unlimited channels: this is about the batch's own bookkeeping at scale (and its ceiling learning up
    # to max_in_flight), not about a real account's 10 calls, which test_batch_channels covers.
    telnyx_fax_emulator.set_limits(channel_limit=0)
    # Distinct numbers, plus numbers repeated across rows (they must queue behind each other) and failures.
    destinations = numbers(9_950) + [number for number in numbers(10, start=9_990) for _ in range(4)]
    destinations += [BUSY] * 3 + [INVALID] * 3 + [BUSY_THEN_DELIVERS] * 4
    assert len(destinations) == 10_000
    rows = [{"row_id": f"customer-{index}", "to": to} for index, to in enumerate(destinations)]
    recipients = write_csv(tmp_path / "recipients.csv", rows)
    manifest = tmp_path / "out" / "manifest.jsonl"

    result = run_dag(
        "batch_large", conf={"recipients": [], "recipients_path": str(recipients), "manifest_path": str(manifest)}
    )

    # Busy lines failed (retryable): the task fails with the roll-up, having sent every row once.
    assert result.task_states == {"send": "failed"}
    rollup = result.xcom("send", "rollup")
    busy_failures = 3 + 1  # the busy number thrice, and the first fax of the busy-then-delivers number
    assert rollup["total"] == 10_000
    assert rollup["failed"] == {"retryable": busy_failures, "permanent": 3}
    assert rollup["by_reason"] == {"destination_invalid": 3, "user_busy": busy_failures}
    assert rollup["delivered"] == 10_000 - busy_failures - 3
    assert rollup["pending"] == rollup["skipped"] == 0
    assert rollup["manifest"] == str(manifest)

    faxes = outbound(telnyx_fax_emulator)
    by_row = faxes_by_row(faxes)
    assert len(faxes) == 10_000
    assert sorted(by_row) == sorted(row["row_id"] for row in rows)
    lines = read_manifest(manifest)
    assert len(lines) == 10_000
    for line, row in zip(lines, rows, strict=True):
        (fax,) = by_row[row["row_id"]]
        assert line["row_id"] == row["row_id"]
        assert line["fax_id"] == fax["id"]
        assert fax["to"] == row["to"]
        assert (line["status"], line["failure_reason"]) == (fax["status"], fax["failure_reason"])
        assert line["attempts"] == 1
        assert row["to"][-4:] in line["to"]
        assert row["to"] not in json.dumps(line)

    assert peak_in_flight(faxes) <= 400
    assert overlaps_per_number(faxes, gap=GAP * 0.9) == []
    # The emulator's own models agree: no send refused for its in-flight limit, no line found busy with our fax.
    assert refused_sends(telnyx_fax_emulator) == 0
    assert busy_line_failures(faxes, busy_numbers={BUSY, BUSY_THEN_DELIVERS}) == []
    # Reconciling cost listings, not a look-up per row: status requests stay well under one per fax.
    single_gets = telnyx_fax_emulator.request_count("GET", "/v2/faxes/*")
    listings = telnyx_fax_emulator.request_count("GET", "/v2/faxes")
    assert single_gets + listings < 10_000, (single_gets, listings)


@pytest.mark.parametrize("dag_id", ["batch_deferred", "batch_on_worker"])
def test_repeated_numbers_wait_their_turn_and_the_roll_up_counts_outcomes(run_dag, telnyx_fax_emulator, dag_id):
    recipients = [DELIVERS, {"to": DELIVERS, "row_id": "again"}, *numbers(6), INVALID, DELIVERS]

    result = run_dag(dag_id, conf={"recipients": recipients})

    assert result.task_states == {"send": "failed"}
    rollup = result.xcom("send", "rollup")
    assert {key: rollup[key] for key in ("total", "delivered", "failed", "by_reason")} == {
        "total": 10,
        "delivered": 9,
        "failed": {"retryable": 0, "permanent": 1},
        "by_reason": {"destination_invalid": 1},
    }
    manifest = rollup["manifest"]
    assert [line["row_id"] for line in manifest] == ["1", "again", "3", "4", "5", "6", "7", "8", "9", "10"]
    faxes = outbound(telnyx_fax_emulator)
    assert len(faxes) == 10
    assert sum(fax["to"] == DELIVERS for fax in faxes) == 3
    assert overlaps_per_number(faxes, gap=GAP * 0.9) == []


def test_a_retry_resends_exactly_the_retryable_failures(run_dag, telnyx_fax_emulator):
    recipients = [DELIVERS, BUSY, INVALID, BUSY_THEN_DELIVERS, "+15550100020"]

    result = run_dag("batch_with_retry", conf={"recipients": recipients})

    assert result.task_states == {"send": "failed"}
    assert result.tries == {"send": 2}
    sent = [fax["to"] for fax in outbound(telnyx_fax_emulator)]
    # Try 1 sent every row; try 2 only the two busy ones (the invalid number is permanent).
    assert sorted(sent) == sorted([*recipients, BUSY, BUSY_THEN_DELIVERS])
    rollup = result.xcom("send", "rollup")
    assert rollup["failed"] == {"retryable": 1, "permanent": 1}
    assert rollup["delivered"] == 3
    attempts = {line["row_id"]: line["attempts"] for line in rollup["manifest"]}
    assert attempts == {"1": 1, "2": 2, "3": 1, "4": 2, "5": 1}


def test_a_rerun_of_a_finished_batch_sends_nothing(run_dag, telnyx_fax_emulator):
    day = datetime(2026, 3, 2, tzinfo=timezone.utc)
    conf = {"recipients": numbers(5)}
    first = run_dag("batch_deferred", conf=conf, logical_date=day)
    second = run_dag("batch_deferred", conf=conf, logical_date=day)

    assert first.task_states == second.task_states == {"send": "success"}
    assert telnyx_fax_emulator.request_count("POST", "/v2/faxes") == 5
    assert second.xcom("send")["delivered"] == 5


def test_mapped_over_chunks_each_chunk_is_its_own_batch(run_dag, telnyx_fax_emulator):
    chunks = [numbers(3), numbers(3, start=3), [DELIVERS, DELIVERS]]

    result = run_dag("batch_mapped", conf={"chunks": chunks})

    assert result.task_states == {"chunks": "success", "send[0]": "success", "send[1]": "success", "send[2]": "success"}
    faxes = outbound(telnyx_fax_emulator)
    assert len(faxes) == 8
    # The same row number in different chunks is a different row: the map index is part of each key.
    assert {result.xcom(f"send[{index}]", "batch_id") for index in range(3)} == {
        result.xcom(f"send[{index}]", "batch_id") for index in range(3)
    }
    assert len({result.xcom(f"send[{index}]", "batch_id") for index in range(3)}) == 3
    assert [result.xcom(f"send[{index}]")["delivered"] for index in range(3)] == [3, 3, 2]


# -- bad rows ------------------------------------------------------------------------------------------


def execute(**kwargs: Any) -> RecordingTaskInstance:
    ti = RecordingTaskInstance(task_id="batch")
    operator = SendFaxBatchOperator(task_id="batch", deferrable=False, poll_interval=0.2, **kwargs)
    operator.execute({"ti": ti})  # type: ignore[arg-type]
    return ti


def test_bad_rows_fail_the_task_naming_them_and_nothing_is_sent(telnyx_fax_emulator):
    recipients = [
        DELIVERS,
        "7735550199",
        {"to": DELIVERS, "media_url": "https://example.com/a.pdf", "media_name": "doc"},
        {"to": DELIVERS, "client_state": "not base64!"},
        {"to": DELIVERS, "fax_number": "+15550100000"},
        {"row_id": "no-number"},
        {"to": DELIVERS, "row_id": "1"},
    ]

    with pytest.raises(AirflowFailException) as failure:
        execute(recipients=recipients, media_url="https://example.com/statement.pdf")

    message = str(failure.value)
    assert "nothing was sent: 6 of 7 rows are invalid" in message
    for expected in (
        "row 2: to",
        "row 3: media_name cannot go with media_url",
        "row 4: client_state",
        "row 5: fax_number is not a row field",
        "row 6 (no-number): to is missing",
        "row 7 (1): row_id repeats the row_id of row 1",
    ):
        assert expected in message
    assert "7735550199" not in message
    assert "7•••••0199" in message
    assert telnyx_fax_emulator.request_count("POST", "/v2/*") == 0


def test_skipped_rows_are_reported_and_the_rest_sent(telnyx_fax_emulator):
    ti = RecordingTaskInstance(task_id="batch")
    operator = SendFaxBatchOperator(
        task_id="batch",
        recipients=[DELIVERS, "not a number", "+15550100021"],
        media_url="https://example.com/statement.pdf",
        on_invalid_row="skip",
        deferrable=False,
        poll_interval=0.2,
    )

    rollup = operator.execute({"ti": ti})  # type: ignore[arg-type]

    assert {key: rollup[key] for key in ("total", "delivered", "skipped", "pending")} == {
        "total": 3,
        "delivered": 2,
        "skipped": 1,
        "pending": 0,
    }
    (skipped,) = [line for line in rollup["manifest"] if line["status"] == "skipped"]
    assert skipped["row"] == 2
    assert "to" in skipped["error"]
    assert telnyx_fax_emulator.request_count("POST", "/v2/faxes") == 2


def test_a_large_batch_without_a_manifest_path_is_refused_before_sending(telnyx_fax_emulator):
    with pytest.raises(AirflowFailException, match="manifest_path"):
        execute(recipients=numbers(501), media_url="https://example.com/statement.pdf")
    assert telnyx_fax_emulator.request_count("POST", "/v2/*") == 0


def test_a_shared_local_document_is_uploaded_once(telnyx_fax_emulator, sample_pdf):
    ti = execute(recipients=numbers(4), media_path=str(sample_pdf), same_number_gap=0, sends_per_second=100)

    assert telnyx_fax_emulator.request_count("POST", "/v2/media") == 1
    faxes = outbound(telnyx_fax_emulator)
    assert len(faxes) == 4
    assert len({fax["media_name"] for fax in faxes}) == 1
    assert ti.pushed["batch_id"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_in_flight": 2001}, "2,000"),
        ({"max_in_flight": 0}, "max_in_flight"),
        ({"on_invalid_row": "ignore"}, "on_invalid_row"),
        ({"send_options": {"client_state": "eA=="}}, "send_options"),
        ({"resend_policy": "sometimes"}, "resend_policy"),
    ],
)
def test_bad_limits_are_refused_when_the_dag_is_parsed(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SendFaxBatchOperator(task_id="batch", recipients=[DELIVERS], **kwargs)
