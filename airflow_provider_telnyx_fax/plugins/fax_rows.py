"""
What the Faxes page shows: one row per fax, the roll-up per DAG and run, the filters and the CSV.

Plain data in, plain data out (no Airflow, no HTTP): :mod:`.faxes_page` lists the faxes and checks
who may see them; this module decides what each fax becomes on the page. A row carries the fax's
identifiers, status, failure reason, page count, its numbers masked and the task instance decoded
from the send key in ``client_state``. Never the media URL, the media name or the rest of
``client_state``: a document's name is often a patient's, and the caller's own state is theirs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_telnyx_fax.idempotency import decode_client_state
from airflow_provider_telnyx_fax.models import FaxStatus
from airflow_provider_telnyx_fax.privacy import mask_number

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# The time windows the page offers, newest faxes first; the default is the first.
WINDOWS: Mapping[str, timedelta] = {
    "24h": timedelta(hours=24),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
DEFAULT_WINDOW = "24h"
DIRECTIONS = ("outbound", "inbound")
# What the status filter offers: the outcome a person asks about, not each of Telnyx's steps.
STATUS_FILTERS = ("delivered", "failed", "pending")
# Shown for a fax whose client_state holds no send key (received faxes, faxes sent outside Airflow).
NO_DAG = ""
FILTER_NAMES = ("window", "status", "direction", "dag_id", "run_id")
_SUCCESS = {FaxStatus.DELIVERED.value, FaxStatus.RECEIVED.value}
# Text copied from Telnyx is cut to this many characters: a row is not the place for an essay.
_MAX_TEXT = 250


class FilterError(ValueError):
    """A filter value the page does not offer; the message names the field and the values it takes."""


def outcome_of(status: str) -> str:
    """``delivered`` (or received), ``failed``, or ``pending`` for every status on the way."""
    if status in _SUCCESS:
        return "delivered"
    if status == FaxStatus.FAILED.value:
        return "failed"
    return "pending"


def task_instance_path(dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """The task instance's page in the Airflow UI, relative to the UI root, each piece URL-encoded."""
    path = "/dags/{}/runs/{}/tasks/{}".format(*(quote(piece, safe="") for piece in (dag_id, run_id, task_id)))
    return f"{path}/mapped/{map_index}" if map_index >= 0 else path


def run_path(dag_id: str, run_id: str) -> str:
    return "/dags/{}/runs/{}".format(*(quote(piece, safe="") for piece in (dag_id, run_id)))


def _text(value: Any) -> str:
    return "" if value is None else str(value)[:_MAX_TEXT]


def _map_index(value: Any) -> int:
    try:
        return int(value) if not isinstance(value, bool) else -1
    except (TypeError, ValueError):
        return -1


@dataclass(frozen=True)
class FaxRow:
    """One fax as the page shows it and the CSV exports it (every field is text or a number)."""

    fax_id: str
    created_at: str
    updated_at: str
    direction: str
    status: str
    outcome: str
    failure_reason: str
    page_count: int | None
    from_number: str
    to_number: str
    dag_id: str
    task_id: str
    run_id: str
    map_index: int | None
    task_instance_url: str
    run_url: str

    @property
    def in_flight(self) -> bool:
        return self.outcome == "pending"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "in_flight": self.in_flight}


def fax_row(fax: Mapping[str, Any], *, mask: bool, ui_root: str = "") -> FaxRow:
    """
    The row of one Telnyx fax record.

    :param fax: the record as the list API returns it.
    :param mask: mask the numbers (``[telnyx_fax] mask_numbers``).
    :param ui_root: the path the Airflow UI is served under (``""`` at the host's root).
    """
    client_state = fax.get("client_state")
    # Decoded whole (a send key with a long run id and labels is longer than any cell): only its fields are cut.
    state = decode_client_state(client_state if isinstance(client_state, str) else None) or {}
    dag_id, task_id, run_id = (_text(state.get(name)) for name in ("dag", "task", "run"))
    map_index = _map_index(state.get("map")) if dag_id else None
    has_task = bool(dag_id and task_id and run_id)
    ti_path = task_instance_path(dag_id, run_id, task_id, -1 if map_index is None else map_index) if has_task else ""
    status = _text(fax.get("status"))
    page_count = fax.get("page_count")
    return FaxRow(
        fax_id=_text(fax.get("id")),
        created_at=_text(fax.get("created_at")),
        updated_at=_text(fax.get("updated_at")),
        direction=_text(fax.get("direction")),
        status=status,
        outcome=outcome_of(status),
        failure_reason=_text(fax.get("failure_reason")) if status == FaxStatus.FAILED.value else "",
        page_count=page_count if isinstance(page_count, int) and not isinstance(page_count, bool) else None,
        from_number=mask_number(fax["from"], enabled=mask) if fax.get("from") else "",
        to_number=mask_number(fax["to"], enabled=mask) if fax.get("to") else "",
        dag_id=dag_id,
        task_id=task_id,
        run_id=run_id,
        map_index=map_index,
        task_instance_url=ui_root + ti_path if ti_path else "",
        run_url=ui_root + run_path(dag_id, run_id) if dag_id and run_id else "",
    )


@dataclass(frozen=True)
class Filters:
    """What the person asked to see; every field is optional but the window."""

    window: str = DEFAULT_WINDOW
    status: str = ""
    direction: str = ""
    dag_id: str = ""
    run_id: str = ""

    @classmethod
    def of(cls, **given: str | None) -> Filters:
        """Check the query's values: an unknown window, status or direction is refused by name."""
        values = {name: (given.get(name) or "").strip() for name in FILTER_NAMES}
        values["window"] = values["window"] or DEFAULT_WINDOW
        for name, allowed in (("window", tuple(WINDOWS)), ("status", STATUS_FILTERS), ("direction", DIRECTIONS)):
            if values[name] and values[name] not in allowed:
                raise FilterError(f"'{name}' must be one of {', '.join(allowed)}; leave it empty for all.")
        return cls(**values)

    def since(self, now: datetime | None = None) -> datetime:
        return (now or datetime.now(timezone.utc)) - WINDOWS[self.window]

    def matches(self, row: FaxRow) -> bool:
        return (
            (not self.status or row.outcome == self.status)
            and (not self.direction or row.direction == self.direction)
            and (not self.dag_id or row.dag_id == self.dag_id)
            and (not self.run_id or row.run_id == self.run_id)
        )

    def query(self) -> dict[str, str]:
        """The non-empty filters, for links that keep them (the CSV export)."""
        return {name: value for name, value in asdict(self).items() if value}


@dataclass
class RollupLine:
    """The counts of one DAG, or of one run of it (``run_id`` set)."""

    dag_id: str
    run_id: str = ""
    run_url: str = ""
    total: int = 0
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    failed_by_reason: dict[str, int] = field(default_factory=dict)

    def count(self, row: FaxRow) -> None:
        self.total += 1
        if row.outcome == "delivered":
            self.delivered += 1
        elif row.outcome == "failed":
            self.failed += 1
            reason = row.failure_reason or "unknown"
            self.failed_by_reason[reason] = self.failed_by_reason.get(reason, 0) + 1
        else:
            self.pending += 1

    def as_dict(self) -> dict[str, Any]:
        reasons = sorted(self.failed_by_reason.items(), key=lambda item: (-item[1], item[0]))
        return {**asdict(self), "failed_by_reason": [{"reason": reason, "count": n} for reason, n in reasons]}


def rollup(rows: Iterable[FaxRow]) -> list[RollupLine]:
    """Per DAG (by id), each followed by its runs in the order the rows show them; faxes of no DAG last."""
    per_dag: dict[str, RollupLine] = {}
    per_run: dict[tuple[str, str], RollupLine] = {}
    first_seen: dict[tuple[str, str], int] = {}
    for order, row in enumerate(rows):
        per_dag.setdefault(row.dag_id, RollupLine(row.dag_id)).count(row)
        if row.dag_id and row.run_id:
            key = (row.dag_id, row.run_id)
            per_run.setdefault(key, RollupLine(row.dag_id, row.run_id, row.run_url)).count(row)
            first_seen.setdefault(key, order)
    lines: list[RollupLine] = []
    for dag_id in sorted(per_dag, key=lambda dag: (dag == NO_DAG, dag)):
        lines.append(per_dag[dag_id])
        runs = [key for key in per_run if key[0] == dag_id]
        lines.extend(per_run[key] for key in sorted(runs, key=first_seen.__getitem__))
    return lines


def sort_newest_first(rows: Iterable[FaxRow]) -> list[FaxRow]:
    return sorted(rows, key=lambda row: (row.created_at, row.fax_id), reverse=True)


CSV_COLUMNS = tuple(
    item.name for item in fields(FaxRow) if item.name not in ("task_instance_url", "run_url", "outcome")
)


def to_csv(rows: Iterable[FaxRow]) -> str:
    """The rows as CSV, one line per fax, in the order shown; a cell starting with = + - @ is quoted as text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = row.as_dict()
        writer.writerow([_cell(values[name]) for name in CSV_COLUMNS])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell starting with these as a formula; client_state is anyone's text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
