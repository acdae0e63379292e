"""
The rows of a fax batch: read from a list, a CSV or a JSON Lines file, and every one checked before any send.

A row is a destination number, or a mapping with ``to`` and optionally ``media_url`` / ``media_name`` /
``media_path``, ``from_number``, ``client_state`` and ``row_id``. A row that names no document gets the
batch's. Each row becomes a prepared :class:`~airflow_provider_telnyx_fax.fax_request.FaxSendRequest`
carrying its own send key, so a retry can tell which rows already have a fax.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.documents import as_path, load_document
from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
from airflow_provider_telnyx_fax.idempotency import document_identity
from airflow_provider_telnyx_fax.validation import check_client_state

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from airflow_provider_telnyx_fax.documents import LocalDocument
    from airflow_provider_telnyx_fax.fax_request import FaxSendRequest
    from airflow_provider_telnyx_fax.idempotency import SendKey

ROW_FIELDS = ("to", "media_url", "media_name", "media_path", "from_number", "client_state", "row_id")
DOCUMENT_FIELDS = ("media_url", "media_name", "media_path")
MAX_ROW_ID_LENGTH = 64
# How many bad rows a message names; the rest are counted.
NAMED_IN_MESSAGE = 20


@dataclass(frozen=True)
class BatchRow:
    """
    One checked row: what to send and under which send key.

    :param number: the row's position, from 1 (a CSV's header is not a row); messages name it.
    :param row_id: the caller's ``row_id``, or the row number; unique within the batch.
    :param request: the send request, connection defaults applied, ``client_state`` holding the key.
    :param key: the row's send key (task instance, destination, document and row id).
    :param document: the local document to upload before sending, if the row's document is a file.
    """

    number: int
    row_id: str
    request: FaxSendRequest
    key: SendKey
    document: LocalDocument | None = None

    @property
    def to(self) -> str:
        return self.request.to


@dataclass(frozen=True)
class InvalidRow:
    """A row that cannot be sent: which one, which field, and why (numbers masked)."""

    number: int
    row_id: str | None
    field: str
    message: str

    def describe(self) -> str:
        named = f"row {self.number}" + (f" ({self.row_id})" if self.row_id and self.row_id != str(self.number) else "")
        return f"{named}: {self.field} {self.message}"


def describe_invalid_rows(invalid: list[InvalidRow], total: int) -> str:
    """``3 of 10,000 rows are invalid: row 2: to ...; row 7: media_url ...``, the first few named."""
    shown = "; ".join(row.describe() for row in invalid[:NAMED_IN_MESSAGE])
    more = f"; and {len(invalid) - NAMED_IN_MESSAGE:,} more" if len(invalid) > NAMED_IN_MESSAGE else ""
    return f"{len(invalid):,} of {total:,} rows are invalid: {shown}{more}"


# -- reading -----------------------------------------------------------------------------------------


def read_recipients(recipients: Any, recipients_path: Any) -> list[Any]:
    """The raw rows, from ``recipients`` (a list, or its JSON text) or from the file at ``recipients_path``."""
    if (recipients is None) == (recipients_path in (None, "")):
        raise TelnyxFaxValidationError("recipients", "give exactly one of recipients or recipients_path")
    if recipients_path not in (None, ""):
        return read_recipients_file(recipients_path)
    if isinstance(recipients, str):
        # A template renders a list as its text unless the DAG renders native objects.
        try:
            recipients = json.loads(recipients)
        except ValueError:
            raise TelnyxFaxValidationError("recipients", "is text that is not a JSON list of rows") from None
    if isinstance(recipients, (str, bytes)) or not hasattr(recipients, "__iter__") or isinstance(recipients, dict):
        raise TelnyxFaxValidationError("recipients", "must be a list of numbers or of row mappings")
    return list(recipients)


def read_recipients_file(recipients_path: Any) -> list[Any]:
    """Rows from a CSV (a header naming the row fields) or a JSON Lines file, local or in object storage."""
    path = as_path(recipients_path)
    suffix = Path(str(path.name)).suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise TelnyxFaxValidationError(
            "recipients_path", f"must end in .csv, .jsonl or .ndjson, not {suffix or 'no extension'}"
        )
    if not path.exists():
        raise TelnyxFaxValidationError("recipients_path", "no file at the given path; check the path and its template")
    with path.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        unknown = [name for name in reader.fieldnames or () if name not in ROW_FIELDS]
        if unknown or "to" not in (reader.fieldnames or ()):
            raise TelnyxFaxValidationError(
                "recipients_path",
                f"the CSV header must name 'to' and only row fields ({', '.join(ROW_FIELDS)}); got {reader.fieldnames}",
            )
        # An empty cell means "not given", like a missing key.
        return [{name: value for name, value in row.items() if value not in (None, "")} for row in reader]
    rows: list[Any] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            raise TelnyxFaxValidationError("recipients_path", f"line {line_number} is not JSON") from None
    return rows


# -- checking ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowDefaults:
    """
    What every row gets unless it says otherwise: the batch's document and send options.

    :param template: a request carrying the batch-wide options (``to`` is a placeholder).
    :param document: the batch's local document, loaded once, when it is a file.
    """

    template: FaxSendRequest
    document: LocalDocument | None = None


def check_rows(
    raw_rows: Iterable[Any],
    defaults: RowDefaults,
    *,
    key_for: Callable[[str, str, str], SendKey],
    client_state_for: Callable[[SendKey, str, str | None], str],
    prepare: Callable[[FaxSendRequest], FaxSendRequest],
) -> tuple[list[BatchRow], list[InvalidRow]]:
    """
    Check every row; return the good rows and the bad ones, in order.

    :param key_for: ``(to, document identity, row id)`` to the row's send key.
    :param client_state_for: ``(key, row id, the row's own client_state)`` to the ``client_state`` to send.
    :param prepare: applies connection defaults and Telnyx's checks (the hook's ``prepare_send``).
    """
    rows: list[BatchRow] = []
    invalid: list[InvalidRow] = []
    seen_ids: dict[str, int] = {}
    documents: dict[str, LocalDocument] = {}
    for number, raw in enumerate(raw_rows, start=1):
        fields = raw if isinstance(raw, dict) else {"to": raw}
        row_id = str(fields.get("row_id") or number)
        try:
            row = _check_row(number, row_id, fields, defaults, documents, key_for, client_state_for, prepare)
            if row_id in seen_ids:
                raise TelnyxFaxValidationError("row_id", f"repeats the row_id of row {seen_ids[row_id]}")
        except TelnyxFaxValidationError as error:
            invalid.append(InvalidRow(number, row_id, error.field, _reason(error)))
            continue
        seen_ids[row_id] = number
        rows.append(row)
    return rows, invalid


def _reason(error: TelnyxFaxValidationError) -> str:
    text = str(error)
    # The exception's text starts by naming its field; the row description names it already.
    prefix = f"Invalid '{error.field}': "
    return text[len(prefix) :] if text.startswith(prefix) else text


def _check_row(
    number: int,
    row_id: str,
    fields: Mapping[str, Any],
    defaults: RowDefaults,
    documents: dict[str, LocalDocument],
    key_for: Callable[[str, str, str], SendKey],
    client_state_for: Callable[[SendKey, str, str | None], str],
    prepare: Callable[[FaxSendRequest], FaxSendRequest],
) -> BatchRow:
    if not isinstance(fields, dict):
        raise TelnyxFaxValidationError("to", "the row is neither a number nor a mapping of row fields")
    unknown = sorted(str(name) for name in fields if name not in ROW_FIELDS)
    if unknown:
        raise TelnyxFaxValidationError(unknown[0], f"is not a row field; use {', '.join(ROW_FIELDS)}")
    if len(row_id) > MAX_ROW_ID_LENGTH:
        raise TelnyxFaxValidationError("row_id", f"is longer than {MAX_ROW_ID_LENGTH} characters")
    values = {name: (value.strip() if isinstance(value, str) else value) for name, value in fields.items()}
    to = values.get("to")
    if not isinstance(to, str) or not to:
        raise TelnyxFaxValidationError("to", "is missing")
    own_client_state = values.get("client_state")
    if own_client_state is not None:
        check_client_state(own_client_state)
    media_url, media_name, document = _row_document(values, defaults, documents)
    key = key_for(to, document_identity(document, media_url, media_name), row_id)
    request = replace(
        defaults.template,
        to=to,
        media_url=media_url,
        media_name=document.media_name if document else media_name,
        from_number=values.get("from_number") or defaults.template.from_number,
        client_state=client_state_for(key, row_id, own_client_state),
    )
    return BatchRow(number=number, row_id=row_id, request=prepare(request), key=key, document=document)


def _row_document(
    values: Mapping[str, Any], defaults: RowDefaults, documents: dict[str, LocalDocument]
) -> tuple[str | None, str | None, LocalDocument | None]:
    """The row's document (its own, or else the batch's) as ``(media_url, media_name, local document)``."""
    given = [name for name in DOCUMENT_FIELDS if values.get(name)]
    if len(given) > 1:
        raise TelnyxFaxValidationError(given[1], f"cannot go with {given[0]}; give a row one document")
    if not given:
        if defaults.document is None and not (defaults.template.media_url or defaults.template.media_name):
            raise TelnyxFaxValidationError("media_url", "is missing: the row names no document and the batch has none")
        return defaults.template.media_url, defaults.template.media_name, defaults.document
    if given[0] != "media_path":
        return values.get("media_url"), values.get("media_name"), None
    path = str(values["media_path"])
    # Rows sharing a file read and check it once.
    if path not in documents:
        documents[path] = load_document(values["media_path"])
    return None, None, documents[path]
