"""What both send operators own alike: the document and delivery arguments, their checks, the hook, one upload."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, conf

from airflow_provider_telnyx_fax.operators.delivery import checked_policy
from airflow_provider_telnyx_fax.resend import checked_resend_policy

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from airflow_provider_telnyx_fax.documents import LocalDocument
    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook


# Telnyx's clock and Airflow's may disagree a little; the reconcile window opens this much earlier.
CLOCK_SKEW_MARGIN = timedelta(minutes=5)


def run_window_start(context: Context, lookback: timedelta) -> str:
    """
    Where the look for an earlier send starts (ISO 8601), capped by ``lookback``.

    A fax carrying this run's send key cannot be older than the run's first start. A run never cleared
    (``clear_number`` 0) still has that start as ``start_date``, so the window opens there whatever the
    logical date: a backfill of last year, or a busy destination's history, costs no extra listing.
    Clearing a run resets its ``start_date``; only ``run_after``, which stays put, bounds it then.
    """
    floor = datetime.now(timezone.utc) - lookback
    dag_run = context.get("dag_run")
    started, run_after = getattr(dag_run, "start_date", None), getattr(dag_run, "run_after", None)
    never_cleared = getattr(dag_run, "clear_number", None) == 0
    starts = [started] if never_cleared and started else [moment for moment in (run_after, started) if moment]
    since: datetime = max(floor, min(starts) - CLOCK_SKEW_MARGIN) if starts else floor
    return since.isoformat()


class FaxSendingOperator(BaseOperator):
    """
    The base of :class:`SendFaxOperator` and :class:`SendFaxBatchOperator`; not a task on its own.

    Each send operator documents these arguments as it uses them; they are checked here, once, when
    the DAG is parsed.

    :param media_url: URL of the document.
    :param media_name: name of a document in Telnyx media storage.
    :param media_path: local path or ``ObjectStoragePath`` of the document to upload.
    :param media_paths: local or object-storage PDFs, merged in order into one document.
    :param cover_page: a ``CoverPage`` or a dict of its fields.
    :param report_path: where the transmission report goes (needs ``wait_for_completion``).
    :param send_window: a ``SendWindow`` or a dict; outside it the dial waits.
    :param from_number: E.164 caller number; defaults to the connection's ``from_number``.
    :param connection_id: Fax Application id; defaults to the connection's ``connection_id``.
    :param wait_for_completion: wait until the fax (or every fax) is delivered or failed.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: longest wait between status checks, in seconds.
    :param wait_timeout: give up waiting after this many seconds (``None``: no limit).
    :param resend_policy: ``if_failed``, ``always`` or ``never`` (:mod:`airflow_provider_telnyx_fax.resend`).
    :param reconcile_lookback: how far back to look for faxes this task already sent.
    :param retryable_reasons: failure reasons to treat as retryable, overriding the table.
    :param permanent_reasons: failure reasons to treat as permanent, overriding the table.
    :param telnyx_conn_id: Airflow connection id.
    """

    def __init__(
        self,
        *,
        media_url: str | None = None,
        media_name: str | None = None,
        media_path: Any = None,
        media_paths: Sequence[Any] | None = None,
        cover_page: Any = None,
        report_path: Any = None,
        send_window: Any = None,
        from_number: str | None = None,
        connection_id: str | None = None,
        wait_for_completion: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 15.0,
        wait_timeout: float | None = None,
        resend_policy: str = "if_failed",
        reconcile_lookback: timedelta = timedelta(days=30),
        retryable_reasons: Sequence[str] = (),
        permanent_reasons: Sequence[str] = (),
        telnyx_conn_id: str = "telnyx_fax_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.media_url = media_url
        self.media_name = media_name
        self.media_path = media_path
        self.media_paths = media_paths
        self.cover_page = cover_page
        self.report_path = report_path
        self.send_window = checked_policy(
            send_window=send_window, report_path=report_path, wait_for_completion=wait_for_completion
        )
        self.from_number = from_number
        self.connection_id = connection_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self.resend_policy = checked_resend_policy(resend_policy)
        self.reconcile_lookback = reconcile_lookback
        self.retryable_reasons = tuple(retryable_reasons)
        self.permanent_reasons = tuple(permanent_reasons)
        self.telnyx_conn_id = telnyx_conn_id

    @cached_property
    def hook(self) -> TelnyxFaxHook:
        from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

        return TelnyxFaxHook(self.telnyx_conn_id)

    def _upload_once(self, document: LocalDocument) -> None:
        """Upload a local document under its content-derived name, unless Telnyx already holds it."""
        if not self.hook.upload_media_once(
            document.content, media_name=document.media_name, filename=document.filename
        ):
            self.log.info("Media %s is already in Telnyx media storage; not uploading again.", document.media_name)
            return
        self.log.info("Uploaded a document (%d bytes) as media %s.", document.size, document.media_name)
