"""Checked batch rows and the faxes Telnyx would hold for them, for the batch modules' unit tests."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.batch.ledger import batch_id_for
from airflow_provider_telnyx_fax.batch.rows import RowDefaults, check_rows
from airflow_provider_telnyx_fax.fax_request import FaxSendRequest
from airflow_provider_telnyx_fax.idempotency import SendKey

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow_provider_telnyx_fax.batch.rows import BatchRow, InvalidRow
    from airflow_provider_telnyx_fax.documents import LocalDocument

DAG_ID, TASK_ID, RUN_ID = "batch_dag", "send_batch", "manual__2026-01-05T10:00:00+00:00"
BATCH_ID = batch_id_for(DAG_ID, TASK_ID, RUN_ID, -1)
MEDIA_URL = "https://example.com/statement.pdf"
FROM_NUMBER = "+13125790015"
CONNECTION_ID = "1293384261075731499"
_fax_ids = itertools.count(1)


def prepare(request: FaxSendRequest) -> FaxSendRequest:
    """What the hook's ``prepare_send`` does, with this module's connection."""
    prepared = request.with_defaults(from_number=FROM_NUMBER, connection_id=CONNECTION_ID)
    prepared.check()
    return prepared


def checked(
    raw_rows: Iterable[Any],
    *,
    try_number: int = 1,
    media_url: str | None = MEDIA_URL,
    document: LocalDocument | None = None,
) -> tuple[list[BatchRow], list[InvalidRow]]:
    """``check_rows`` as the batch operator calls it, for one task instance of ``batch_dag``."""
    template = FaxSendRequest(to="", media_url=media_url)

    def key_for(to: str, identity: str, row_id: str) -> SendKey:
        return SendKey(DAG_ID, TASK_ID, RUN_ID, -1, to, f"{identity}#row={row_id}")

    def client_state_for(key: SendKey, row_id: str, own: str | None) -> str:
        return key.client_state(own, batch=BATCH_ID, row=row_id, attempt=try_number)

    return check_rows(
        raw_rows, RowDefaults(template, document), key_for=key_for, client_state_for=client_state_for, prepare=prepare
    )


def rows_to(*numbers: str) -> list[BatchRow]:
    rows, invalid = checked(numbers)
    assert invalid == [], invalid
    return rows


def fax_for(
    row: BatchRow,
    status: str,
    *,
    reason: str | None = None,
    attempt: int = 1,
    created_at: str = "2026-01-05T10:00:01Z",
    updated_at: str | None = None,
    batch_id: str = BATCH_ID,
) -> dict[str, Any]:
    """A fax record as Telnyx lists it, carrying the row's send key in its ``client_state``."""
    return {
        "id": f"fax-{next(_fax_ids)}",
        "to": row.to,
        "direction": "outbound",
        "status": status,
        "failure_reason": reason,
        "created_at": created_at,
        "updated_at": updated_at or created_at,
        "client_state": row.key.client_state(None, batch=batch_id, row=row.row_id, attempt=attempt),
    }
