"""
What both send operators do for documents and delivery policy: ``media_paths`` merged behind an optional
``cover_page``, a ``report_path`` written once the fax is finished, and a ``send_window``.

The operators call these; the work itself lives in :mod:`airflow_provider_telnyx_fax.documents` and
:mod:`airflow_provider_telnyx_fax.send_window`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError

# The documents and send-window modules load when a task runs, never while a DAG file is parsed.
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Context

    from airflow_provider_telnyx_fax.documents.cover_page import CoverPage
    from airflow_provider_telnyx_fax.documents.files import LocalDocument
    from airflow_provider_telnyx_fax.fax_request import FaxSendRequest
    from airflow_provider_telnyx_fax.send_window import SendWindow


def from_template(field: str, value: Any) -> Any:
    """A list or dict argument that a template rendered as JSON text (``{{ ... | tojson }}``), parsed back."""
    if not isinstance(value, str) or not value.strip():
        return value or None
    try:
        return json.loads(value)
    except ValueError:
        raise TelnyxFaxValidationError(
            field, "is text that is not JSON; render it with '| tojson', or use render_template_as_native_obj"
        ) from None


def checked_policy(*, send_window: Any, report_path: Any, wait_for_completion: bool) -> Any:
    """
    Construction-time checks: a report needs the task to wait for the outcome, and a window given as a
    ``SendWindow`` or dict parses (a templated one is checked when rendered). Returns ``send_window``.
    """
    if report_path and not wait_for_completion:
        raise ValueError(
            "report_path needs wait_for_completion=True: the report is written once the fax is delivered or failed"
        )
    if send_window is not None and not isinstance(send_window, str) and "{{" not in repr(send_window):
        from airflow_provider_telnyx_fax.send_window import SendWindow

        SendWindow.of(send_window)
    return send_window


def window_of(send_window: Any) -> SendWindow | None:
    """The operator's ``send_window`` as rendered: a ``SendWindow``, a dict, its JSON text, or nothing."""
    from airflow_provider_telnyx_fax.send_window import SendWindow

    return SendWindow.of(from_template("send_window", send_window))


def run_date(context: Context, window: SendWindow | None) -> str:
    """The date the cover page prints: the run's, so a retry or a cleared rerun draws the same page."""
    dag_run = context.get("dag_run")
    moment = getattr(dag_run, "run_after", None) or getattr(dag_run, "logical_date", None)
    if moment is None:
        return ""
    if window is not None:
        moment = moment.astimezone(window.zone)
    return f"{moment.day} {moment:%B %Y}"


def assemble(
    context: Context,
    *,
    sources: Mapping[str, Any],
    cover_page: CoverPage | Mapping[str, Any] | None,
    to: str,
    from_number: str | None,
    window: SendWindow | None,
) -> LocalDocument | None:
    """
    The document to upload (``media_path``, or ``media_paths`` merged, behind the cover page), checked.

    :param sources: the operator's ``media_url``, ``media_name``, ``media_path`` and ``media_paths``;
        exactly one must be given.
    """
    from airflow_provider_telnyx_fax.documents.cover_page import CoverPage
    from airflow_provider_telnyx_fax.documents.merge import CoverDetails, assemble_document

    sources = {**sources, "media_paths": from_template("media_paths", sources.get("media_paths"))}
    given = [name for name, value in sources.items() if value]
    if len(given) != 1:
        choice = "none was given" if not given else f"got {', '.join(given)}"
        raise TelnyxFaxValidationError("media_path", f"give exactly one of {', '.join(sources)}; {choice}")
    cover = CoverPage.coerce(from_template("cover_page", cover_page))
    details = (
        CoverDetails(cover=cover, to=to, from_number=from_number, date=run_date(context, window)) if cover else None
    )
    return assemble_document(
        media_path=sources.get("media_path") or None,
        media_paths=sources["media_paths"],
        cover=details,
    )


def batch_document(context: Context, batch: Any) -> tuple[FaxSendRequest, LocalDocument | None]:
    """
    A batch operator's own document: the request template carrying it, and the local file if it is one.

    The batch's cover page is one for every row, so it names the ``recipient_name`` but no number.
    """
    from airflow_provider_telnyx_fax.fax_request import FaxSendRequest

    values = {name: getattr(batch, name) for name in ("media_url", "media_name", "media_path")}
    values["media_paths"] = from_template("media_paths", batch.media_paths)
    given = [name for name, value in values.items() if value]
    if len(given) > 1:
        raise TelnyxFaxValidationError(given[1], f"cannot go with {given[0]}; give the batch one document")
    template = FaxSendRequest(
        to="",
        media_url=batch.media_url or None,
        media_name=batch.media_name or None,
        from_number=batch.from_number or None,
        connection_id=batch.connection_id or None,
        **batch.send_options,
    )
    local = bool(given) and given[0] in ("media_path", "media_paths")
    if from_template("cover_page", batch.cover_page) and not local:
        raise TelnyxFaxValidationError(
            "cover_page", "needs the batch's own local document (media_path or media_paths) to go in front of"
        )
    if not local:
        return template, None
    document = assemble(
        context,
        sources={name: values[name] for name in ("media_path", "media_paths")},
        cover_page=batch.cover_page,
        to="",
        from_number=batch.from_number or batch.hook.extras.get("from_number"),
        window=window_of(batch.send_window),
    )
    return template, document


def write_fax_report(report_path: Any, fax: Mapping[str, Any], document: LocalDocument | None) -> str:
    """Write one finished fax's transmission report to ``report_path``."""
    from airflow_provider_telnyx_fax.documents.report import render_transmission_report, write_report

    content = render_transmission_report(
        fax,
        pages=document.pages if document else None,
        document=document.content if document and document.content_type == "application/pdf" else None,
    )
    return write_report(report_path, content)


def write_batch_report(report_path: Any, batch_id: str, summary: str, lines: Sequence[Mapping[str, Any]]) -> str:
    """Write a batch's summary report, one line per row, to ``report_path``."""
    from airflow_provider_telnyx_fax.documents.report import render_batch_report, write_report

    return write_report(report_path, render_batch_report(batch_id, summary, lines))


def defer_until_window_opens(
    operator: Any, opens: datetime, *, method_name: str, kwargs: dict[str, Any] | None = None
) -> None:
    """
    Defer ``operator`` until the send window ``opens``, resuming in ``method_name`` with ``kwargs``,
    whose ``end_time`` is moved on by the hold, so a night outside the window is not counted against
    ``wait_timeout``.
    """
    from airflow.providers.standard.triggers.temporal import DateTimeTrigger

    held = max((opens - datetime.now(timezone.utc)).total_seconds(), 0.0)
    resumed = dict(kwargs or {})
    end_time = resumed.get("end_time")
    resumed["end_time"] = end_time + held if end_time is not None else None
    operator.defer(
        trigger=DateTimeTrigger(moment=opens.astimezone(timezone.utc)), method_name=method_name, kwargs=resumed
    )


def hold_on_worker(operator: Any) -> None:
    """Sleep on the worker until ``operator``'s send window opens (it is closed now)."""
    from airflow_provider_telnyx_fax.send_window import hold_for_window

    hold_for_window(
        window_of(operator.send_window), deferrable=False, defer=operator.defer, log=operator.log, method_name=""
    )
