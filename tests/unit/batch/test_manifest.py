"""The batch manifest: JSON Lines written and read back, and the roll-up in one line."""

from __future__ import annotations

from airflow_provider_telnyx_fax.batch.manifest import describe_rollup, read_manifest, write_manifest

LINES = [
    {"row": 1, "row_id": "1", "to": "+1•••••0101", "fax_id": "f1", "status": "delivered"},
    {"row": 2, "row_id": "acme", "to": "+1•••••0102", "fax_id": None, "status": "skipped", "error": "row 2: ..."},
]


def test_lines_round_trip_and_missing_folders_are_made(tmp_path):
    path = tmp_path / "runs" / "2026-01-05" / "manifest.jsonl"

    where = write_manifest(str(path), LINES)

    assert where == str(path)
    assert read_manifest(path) == LINES
    assert path.read_text().count("\n") == len(LINES)


def test_writing_again_replaces_the_manifest(tmp_path):
    path = tmp_path / "manifest.jsonl"
    write_manifest(path, LINES)

    write_manifest(path, LINES[:1])

    assert read_manifest(path) == LINES[:1]


def test_a_manifest_in_object_storage(tmp_path):
    url = f"file://{tmp_path}/bucket/manifest.jsonl"

    write_manifest(url, iter(LINES))

    assert read_manifest(url) == LINES


def test_the_rollup_in_one_line():
    rollup = {
        "total": 10_000,
        "delivered": 9_950,
        "failed": {"retryable": 38, "permanent": 3},
        "skipped": 2,
        "pending": 7,
        "by_reason": {"destination_invalid": 3, "user_busy": 38},
    }

    assert describe_rollup(rollup) == (
        "10,000 rows: 9,950 delivered, 41 failed (38 retryable, 3 permanent: destination_invalid 3, user_busy 38), "
        "2 skipped, 7 pending"
    )
    nothing_failed = {**rollup, "failed": {"retryable": 0, "permanent": 0}, "by_reason": {}}
    assert "0 failed (0 retryable, 0 permanent), " in describe_rollup(nothing_failed)
