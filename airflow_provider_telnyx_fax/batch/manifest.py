"""The batch manifest: one JSON line per row (numbers masked), written locally or to object storage."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.documents import as_path

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# Up to this many rows the manifest may travel inline in the roll-up XCom; above it, give manifest_path.
INLINE_MANIFEST_MAX_ROWS = 500


def write_manifest(manifest_path: Any, lines: Iterable[dict[str, Any]]) -> str:
    """Write ``lines`` as JSON Lines to ``manifest_path`` (replacing it); return where they went."""
    path = as_path(manifest_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    with path.open("wb") as handle:
        handle.write(text.encode())
    return str(manifest_path)


def read_manifest(manifest_path: Any) -> list[dict[str, Any]]:
    """The rows of a manifest written by :func:`write_manifest` (for summary tasks and reruns of failures)."""
    with as_path(manifest_path).open("rb") as handle:
        return [json.loads(line) for line in handle.read().decode().splitlines() if line.strip()]


def describe_rollup(rollup: Mapping[str, Any]) -> str:
    """``10,000 rows: 9,950 delivered, 41 failed (38 retryable, 3 permanent: user_busy 38, ...), ...``."""
    failed = rollup["failed"]
    reasons = ", ".join(f"{reason} {count:,}" for reason, count in rollup["by_reason"].items())
    return (
        f"{rollup['total']:,} rows: {rollup['delivered']:,} delivered, "
        f"{failed['retryable'] + failed['permanent']:,} failed ({failed['retryable']:,} retryable, "
        f"{failed['permanent']:,} permanent{': ' + reasons if reasons else ''}), "
        f"{rollup['skipped']:,} skipped, {rollup['pending']:,} pending"
    )
