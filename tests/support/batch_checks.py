"""What the emulator saw of a batch: its faxes per row, the peak number on the line, overlaps per number."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import datetime
from typing import Any

from airflow_provider_telnyx_fax.idempotency import decode_client_state

TERMINAL = ("delivered", "failed")


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def outbound(emulator: Any) -> list[dict[str, Any]]:
    return [fax for fax in emulator.faxes() if fax["direction"] == "outbound"]


def interval(fax: dict[str, Any]) -> tuple[float, float]:
    """From creation to the terminal status (a fax never finished counts as on the line for ever)."""
    ends = [epoch(step["at"]) for step in fax["timeline"] if step["status"] in TERMINAL]
    return epoch(fax["created_at"]), ends[-1] if ends else float("inf")


def peak_in_flight(faxes: list[dict[str, Any]]) -> int:
    """The most faxes the emulator had between created and finished at any one moment."""
    changes = []
    for fax in faxes:
        start, end = interval(fax)
        changes += [(start, 1), (end, -1)]
    # At equal times a finish counts before a start: the slot is free again.
    changes.sort(key=lambda change: (change[0], change[1]))
    peak = current = 0
    for _, step in changes:
        current += step
        peak = max(peak, current)
    return peak


def overlaps_per_number(faxes: list[dict[str, Any]], gap: float = 0.0) -> list[tuple[str, str, str]]:
    """Pairs of faxes to one number where the second started before the first ended (plus ``gap``)."""
    by_number: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for fax in faxes:
        by_number[fax["to"]].append((*interval(fax), fax["id"]))
    clashes = []
    for number, spans in by_number.items():
        spans.sort()
        for (_, first_end, first), (second_start, _, second) in itertools.pairwise(spans):
            if second_start < first_end + gap:
                clashes.append((number, first, second))
    return clashes


def faxes_by_row(faxes: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fax in faxes:
        state = decode_client_state(fax.get("client_state"))
        assert state is not None, fax
        assert "row" in state, fax
        rows[str(state["row"])].append(fax)
    return dict(rows)
