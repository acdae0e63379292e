"""
Where a batch stands: each row's faxes (found by their send keys), what to send next, and the roll-up.

The ledger is rebuilt on every try and every resume from one listing of the run's window, so it never
has to be stored: the faxes Telnyx holds, with the send keys in their ``client_state``, are the record.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.idempotency import decode_client_state
from airflow_provider_telnyx_fax.models import (
    SPEND_LIMIT_REASONS,
    FailureKind,
    FaxStatus,
    classify_failure,
    was_not_dialled,
)
from airflow_provider_telnyx_fax.polling import parse_time
from airflow_provider_telnyx_fax.privacy import mask_number
from airflow_provider_telnyx_fax.resend import standing_fax

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from airflow_provider_telnyx_fax.batch.rows import BatchRow, InvalidRow

# A fax Telnyx refused outright (4xx) has no record; its row shows this reason.
REFUSED = "rejected"


def batch_id_for(dag_id: str, task_id: str, run_id: str, map_index: int) -> str:
    """The id every fax of one batch (one task instance) carries in its ``client_state``."""
    identity = "\x1f".join([dag_id, task_id, run_id, str(map_index)])
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def batch_state(fax: dict[str, Any], batch_id: str) -> dict[str, Any] | None:
    """The send-key state of ``fax`` when it belongs to batch ``batch_id``, else ``None``."""
    state = decode_client_state(fax.get("client_state"))
    return state if state is not None and state.get("batch") == batch_id else None


def is_pending(fax: dict[str, Any]) -> bool:
    return not FaxStatus(fax["status"]).is_terminal


@dataclass
class RowLedger:
    """One row and what happened to it: its faxes newest first, or Telnyx's refusal."""

    row: BatchRow
    faxes: list[dict[str, Any]] = field(default_factory=list)
    tries: dict[str, int] = field(default_factory=dict)
    refused: str | None = None
    outcome_unknown: bool = False

    def add(self, fax: dict[str, Any], try_number: int) -> None:
        if any(known["id"] == fax["id"] for known in self.faxes):
            self.faxes = [fax if known["id"] == fax["id"] else known for known in self.faxes]
        else:
            self.faxes.append(fax)
            self.faxes.sort(key=lambda item: str(item.get("created_at") or ""), reverse=True)
        self.tries[fax["id"]] = try_number
        self.outcome_unknown = False


class BatchLedger:
    """
    Every row of a batch and its faxes, and the decisions the resend policy makes from them.

    :param rows: the checked rows.
    :param batch_id: see :func:`batch_id_for`.
    :param try_number: the task's current try; a fax sent in an earlier try may be resent, one sent in
        this try never is (the task's retries do that).
    :param resend_policy: ``if_failed``, ``never`` or ``always``, as :mod:`airflow_provider_telnyx_fax.resend`
        decides for every send.
    """

    def __init__(
        self,
        rows: Iterable[BatchRow],
        *,
        batch_id: str,
        try_number: int,
        resend_policy: str,
        retryable_reasons: Iterable[str] = (),
        permanent_reasons: Iterable[str] = (),
        skipped: Iterable[InvalidRow] = (),
    ) -> None:
        self.rows = [RowLedger(row) for row in rows]
        self.by_digest = {entry.row.key.digest: entry for entry in self.rows}
        self.batch_id = batch_id
        self.try_number = try_number
        self.resend_policy = resend_policy
        self.retryable_reasons = tuple(retryable_reasons)
        self.permanent_reasons = tuple(permanent_reasons)
        self.skipped = list(skipped)
        self.fax_count = 0
        # Faxes this execution sent itself (a resume or a rerun of the run starts a new execution).
        self.sent_here: set[str] = set()

    # -- what Telnyx holds ---------------------------------------------------------------------------

    def absorb(self, faxes: Iterable[dict[str, Any]]) -> None:
        """Take in faxes from a listing or status check; faxes of other batches, or of no row, are ignored."""
        for fax in faxes:
            state = batch_state(fax, self.batch_id)
            entry = self.by_digest.get(str(state["key"])) if state else None
            if state is None or entry is None:
                continue
            known = any(item["id"] == fax["id"] for item in entry.faxes)
            entry.add(fax, int(state.get("attempt") or 0))
            self.fax_count += 0 if known else 1

    def record_sent(self, entry: RowLedger, fax: dict[str, Any]) -> None:
        entry.add(fax, self.try_number)
        self.sent_here.add(fax["id"])
        self.fax_count += 1

    # -- decisions -------------------------------------------------------------------------------------

    def standing(self, entry: RowLedger) -> dict[str, Any] | None:
        """The fax that stands for the row under the resend policy, or ``None`` when it needs a send."""
        return standing_fax(
            entry.faxes,
            policy=self.resend_policy,
            sent_this_try=lambda fax: entry.tries.get(fax["id"]) == self.try_number,
            retryable_reasons=self.retryable_reasons,
            permanent_reasons=self.permanent_reasons,
        )

    def kind(self, fax: dict[str, Any]) -> FailureKind:
        return classify_failure(
            fax.get("failure_reason"),
            retryable_reasons=self.retryable_reasons,
            permanent_reasons=self.permanent_reasons,
        )

    def needs_send(self, entry: RowLedger) -> bool:
        return entry.refused is None and not entry.outcome_unknown and self.standing(entry) is None

    def unsent(self) -> list[RowLedger]:
        """Rows still to send, including those whose last send had an unknown outcome (looked for first)."""
        return [entry for entry in self.rows if entry.refused is None and self.standing(entry) is None]

    def pending(self) -> list[dict[str, Any]]:
        """Every fax of the batch still queued or on the line (any row, any try)."""
        return [fax for entry in self.rows for fax in entry.faxes if is_pending(fax)]

    def next_wave(self, *, slots: int, same_number_gap: float, now: float) -> list[RowLedger]:
        """
        Up to ``slots`` rows to send now, in row order: at most one per destination, none to a number
        with a fax of this batch on the line or one that ended less than ``same_number_gap`` seconds ago.
        """
        busy = self.destinations_busy_until(same_number_gap)
        wave: list[RowLedger] = []
        for entry in self.rows:
            if len(wave) >= slots:
                break
            if not self.needs_send(entry):
                continue
            if busy.get(entry.row.to, 0.0) > now:
                continue
            busy[entry.row.to] = float("inf")
            wave.append(entry)
        return wave

    def destinations_busy_until(self, same_number_gap: float) -> dict[str, float]:
        """When each destination this batch faxed is free again (infinity while a fax is on the line)."""
        busy: dict[str, float] = {}
        for entry in self.rows:
            for fax in entry.faxes:
                if was_not_dialled(fax):
                    continue  # Telnyx never called the number
                ends = float("inf") if is_pending(fax) else finished_at(fax) + same_number_gap
                busy[entry.row.to] = max(busy.get(entry.row.to, 0.0), ends)
        return busy

    def spend_limit_reached(self) -> str | None:
        """The reason, when Telnyx refused a dial this execution sent for the profile's spend limit."""
        for entry in self.rows:
            for fax in entry.faxes:
                reason = fax.get("failure_reason")
                if reason in SPEND_LIMIT_REASONS and fax["id"] in self.sent_here:
                    return str(reason)
        return None

    def faxes(self) -> Iterator[dict[str, Any]]:
        """Every fax of the batch, any row, any try."""
        for entry in self.rows:
            yield from entry.faxes

    def earliest_release(self, same_number_gap: float, now: float) -> float | None:
        """The first time a row waiting only for its number's gap may be sent, or ``None``."""
        busy = self.destinations_busy_until(same_number_gap)
        waits = [
            busy[entry.row.to]
            for entry in self.rows
            if self.needs_send(entry) and now < busy.get(entry.row.to, 0.0) < float("inf")
        ]
        return min(waits) if waits else None

    # -- reporting -------------------------------------------------------------------------------------

    def manifest_rows(self) -> Iterator[dict[str, Any]]:
        """One line per row: row number and id, masked number, fax id, status, failure reason, attempts."""
        for entry in self.rows:
            dialled = [fax for fax in entry.faxes if not was_not_dialled(fax)]
            fax = self.standing(entry) or (dialled[0] if dialled else None)
            status = fax["status"] if fax else ("failed" if entry.refused else "not_sent")
            reason = (fax.get("failure_reason") if fax else None) or (REFUSED if entry.refused else None)
            line: dict[str, Any] = {
                "row": entry.row.number,
                "row_id": entry.row.row_id,
                "to": mask_number(entry.row.to),
                "fax_id": fax["id"] if fax else None,
                "status": status,
                "failure_reason": reason if status == "failed" else None,
                "failure_kind": self._row_kind(entry, fax).value if status == "failed" else None,
                "attempts": len(entry.faxes),
                # Dials Telnyx refused for want of a channel or budget: never reached the recipient.
                "not_dialled": len(entry.faxes) - len(dialled),
            }
            if entry.refused:
                line["error"] = entry.refused
            yield line
        for bad in self.skipped:
            yield {
                "row": bad.number,
                "row_id": bad.row_id,
                "to": None,
                "fax_id": None,
                "status": "skipped",
                "failure_reason": None,
                "failure_kind": None,
                "attempts": 0,
                "not_dialled": 0,
                "error": bad.describe(),
            }

    def _row_kind(self, entry: RowLedger, fax: dict[str, Any] | None) -> FailureKind:
        return FailureKind.PERMANENT if fax is None else self.kind(fax)

    def rollup(self) -> dict[str, Any]:
        """``{total, delivered, failed: {retryable, permanent}, skipped, pending, by_reason}``."""
        statuses: Counter[str] = Counter()
        by_reason: Counter[str] = Counter()
        for line in self.manifest_rows():
            if line["status"] == "failed":
                statuses[f"failed_{line['failure_kind']}"] += 1
                by_reason[line["failure_reason"] or "unknown"] += 1
            else:
                statuses[line["status"]] += 1
        delivered = statuses[FaxStatus.DELIVERED.value]
        failed = {"retryable": statuses["failed_retryable"], "permanent": statuses["failed_permanent"]}
        skipped = statuses["skipped"]
        total = len(self.rows) + len(self.skipped)
        return {
            "total": total,
            "delivered": delivered,
            "failed": failed,
            "skipped": skipped,
            "pending": total - delivered - failed["retryable"] - failed["permanent"] - skipped,
            "by_reason": dict(sorted(by_reason.items())),
        }

    def progress(self, channels: str | None = None, line_seconds: float | None = None, ceiling: int = 1) -> str:
        """``sent 3,200/10,000, 10 of 10 channels busy, delivered 3,150, failed 12, ETA 14 h 10 min``."""
        sent = sum(1 for entry in self.rows if entry.refused or self.standing(entry) is not None)
        in_flight = len(self.pending())
        eta = None
        if line_seconds:
            # The rows left go ``ceiling`` at a time; the last round ends one line time after it starts.
            rounds = (len(self.rows) - sent) / max(ceiling, 1) + (1 if in_flight or sent < len(self.rows) else 0)
            eta = rounds * line_seconds
        return describe_progress(
            sent=sent,
            total=len(self.rows),
            in_flight=in_flight,
            delivered=sum(1 for entry in self.rows if _status(self.standing(entry)) == FaxStatus.DELIVERED.value),
            failed=sum(
                1 for entry in self.rows if entry.refused or _status(self.standing(entry)) == FaxStatus.FAILED.value
            ),
            channels=channels,
            eta_seconds=eta,
        )

    def line_seconds(self) -> float | None:
        """The median time a delivered fax of the batch took, from its send to its end, if any ended."""
        times = sorted(
            finished_at(fax) - parse_time(str(fax["created_at"])).timestamp()
            for fax in self.faxes()
            if fax["status"] == FaxStatus.DELIVERED.value and fax.get("created_at")
        )
        return times[len(times) // 2] if times else None


def _status(fax: dict[str, Any] | None) -> str | None:
    return fax["status"] if fax else None


def describe_progress(
    *,
    sent: int,
    total: int,
    in_flight: int,
    delivered: int,
    failed: int,
    channels: str | None = None,
    eta_seconds: float | None = None,
) -> str:
    on_the_line = channels or f"{in_flight:,} on the line"
    line = f"sent {sent:,}/{total:,}, {on_the_line}, delivered {delivered:,}, failed {failed:,}"
    if eta_seconds is not None and sent + in_flight:
        line += f", ETA {describe_duration(eta_seconds)}"
    return line


def describe_duration(seconds: float) -> str:
    """``14 h 10 min``, ``7 min``, ``40 s``."""
    seconds = max(0, round(seconds))
    hours, minutes = divmod(seconds // 60, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{seconds} s"


def finished_at(fax: dict[str, Any]) -> float:
    """When a finished fax ended (its last update), as Unix time."""
    stamp = fax.get("updated_at") or fax.get("created_at")
    return parse_time(str(stamp)).timestamp() if stamp else 0.0
