"""SendFaxBatchOperator: one task sends and tracks a whole batch of faxes, within Telnyx's limits."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_telnyx_fax.fax_request import FaxSendRequest
from airflow_provider_telnyx_fax.operators import delivery
from airflow_provider_telnyx_fax.operators.sending import FaxSendingOperator, run_window_start

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.sdk import Context

    from airflow_provider_telnyx_fax.batch.driver import BatchDriver
    from airflow_provider_telnyx_fax.batch.ledger import BatchLedger
    from airflow_provider_telnyx_fax.batch.rows import RowDefaults
    from airflow_provider_telnyx_fax.batch.waves import BatchPlan
    from airflow_provider_telnyx_fax.idempotency import SendKey

# The batch machinery (rows, ledger, waves, sending, waiting) loads when the task runs, not when a DAG
# file is parsed: each method imports what it uses.

# Telnyx refuses new faxes past 2,000 in processing on one account.
ACCOUNT_IN_FLIGHT_LIMIT = 2000
INVALID_ROW_ACTIONS = ("fail", "skip")
# Send options a row cannot set, only the batch: everything but the row fields and the send key.
BATCH_ONLY_OPTIONS = tuple(
    name
    for name in FaxSendRequest.option_names()
    if name not in ("media_url", "media_name", "from_number", "connection_id", "client_state")
)
EVENT_STATUSES = ("ready", "error", "timeout")


class SendFaxBatchOperator(FaxSendingOperator):
    """
    Send one document (or one per row) to many recipients in one task, and follow every fax to its end.

    Rows come from ``recipients`` (a list of numbers, or of mappings with ``to`` and optional
    ``media_url`` / ``media_name`` / ``media_path``, ``from_number``, ``client_state``, ``row_id``) or
    from ``recipients_path`` (a CSV with those columns or a JSON Lines file, local or any
    ``ObjectStoragePath``). A row naming no document gets the batch's ``media_url`` / ``media_name`` /
    ``media_path`` / ``media_paths`` (merged, behind the batch's ``cover_page`` if given: one cover for
    every row, naming ``recipient_name`` but no number); a local document is uploaded once. Every row
    is checked before the first send: by default one bad row fails the task, naming the rows and
    fields, and nothing is sent (``on_invalid_row="skip"`` leaves them out and reports them).

    A fax is a phone call: the batch keeps as many calls up as the account has channels (stated with
    ``channel_limit`` or the connection, read from the Fax Application, or learned), dials the next row
    as soon as a channel frees, ``sends_per_second`` at most, never two at once to one number and
    ``same_number_gap`` seconds apart. A fax Telnyx refuses to dial for want of a channel never reached
    anyone: its row goes back to the queue in the same try (it is not a failed row). A daily spend limit
    stops the dialling: the rows left stay pending and the task fails saying so; clearing it later
    continues the batch where it stopped. Each carries its
    row's send key in ``client_state``: a retry, a cleared task, a killed worker or a rerun of the run
    lists the run's window and sends only rows with no fax yet, or whose fax failed for a retryable
    reason in an earlier try (``resend_policy``, one rule for both send operators: see
    :mod:`airflow_provider_telnyx_fax.resend`). While rows are left to dial, the worker keeps the
    channels busy, checking every second or so: a channel frees every few seconds on a busy batch, and
    a deferral that ends within seconds trips apache/airflow#72716. With ``deferrable`` the slot is freed
    for the long waits: the last faxes' completion, a closed send window, a number's gap of a minute or
    more (deferred to :class:`FaxBatchTrigger`, which only reads and never fires within 30 s of the
    deferral). A killed task cancels nothing: its retry adopts the faxes on the line.

    The return value (XCom, also pushed under ``rollup`` when the task fails) is ``{total, delivered,
    failed: {retryable, permanent}, skipped, pending, by_reason, manifest}``; ``manifest`` is where
    the per-row JSON Lines went, or the rows themselves for batches up to 500 rows without
    ``manifest_path``. The task fails when any row failed, with the roll-up in the message; it fails
    for good when every failure is permanent, so retries run only when a resend can help.

    :param recipients: the rows (templated; may be an XComArg).
    :param recipients_path: a CSV or JSON Lines file of rows, local or in object storage. Templated.
    :param media_url: the batch's document URL. Templated.
    :param media_name: the batch's document in Telnyx media storage. Templated.
    :param media_path: the batch's document as a local path or ``ObjectStoragePath``. Templated.
    :param media_paths: the batch's document as several PDFs merged in order. Templated.
    :param cover_page: a cover page in front of the batch's document (as for ``SendFaxOperator``). Templated.
    :param report_path: where one summary transmission report, a line per row, goes when every fax is
        finished (needs ``wait_for_completion``). Templated.
    :param send_window: as for ``SendFaxOperator``; every wave dials only inside the window. Templated.
    :param from_number: caller number for rows naming none; defaults to the connection's. Templated.
    :param connection_id: Fax Application id; defaults to the connection's. Templated.
    :param send_options: other SendFax fields for every fax (``quality``, ``t38_enabled``,
        ``monochrome``, ``black_threshold``, ``store_media``, ``store_preview``, ``preview_format``,
        ``from_display_name``, ``webhook_url``). Templated.
    :param channel_limit: how many calls the account (or the Fax Application) may have up at once, when
        you know it. Default: the connection's ``channel_limit`` extra or the Fax Application's
        ``outbound.channel_limit``, else learned from Telnyx's answers (see ``docs/batches.md``).
    :param max_in_flight: most faxes of the batch queued or on the line at once, whatever the channel
        ceiling learns (1 to 2,000, Telnyx's cap on faxes in processing).
    :param sends_per_second: most sends started per second.
    :param same_number_gap: seconds between the end of one fax to a number and the next to it.
    :param wait_for_completion: wait until every fax is delivered or failed (the roll-up is final).
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param poll_interval: longest wait between status checks, in seconds. Templated.
    :param wait_timeout: fail after waiting this many seconds in total (``None``: no limit).
    :param resend_policy: ``if_failed``, ``always`` or ``never``.
    :param reconcile_lookback: how far back the run's window may start.
    :param on_invalid_row: ``fail`` (send nothing) or ``skip``.
    :param manifest_path: where the per-row JSON Lines go (local or object storage); required above
        500 rows. Templated.
    :param retryable_reasons: failure reasons to treat as retryable, overriding the table.
    :param permanent_reasons: failure reasons to treat as permanent, overriding the table.
    :param telnyx_conn_id: Airflow connection id.
    """

    template_fields: Sequence[str] = (
        "recipients",
        "recipients_path",
        "media_url",
        "media_name",
        "media_path",
        "media_paths",
        "cover_page",
        "report_path",
        "send_window",
        "from_number",
        "connection_id",
        "send_options",
        "manifest_path",
        "poll_interval",
    )
    ui_color = "#00a07b"

    def __init__(
        self,
        *,
        recipients: Any = None,
        recipients_path: Any = None,
        send_options: Mapping[str, Any] | None = None,
        channel_limit: int | None = None,
        max_in_flight: int = 300,
        sends_per_second: float = 10.0,
        same_number_gap: float = 30.0,
        wait_for_completion: bool = True,
        on_invalid_row: str = "fail",
        manifest_path: Any = None,
        **kwargs: Any,
    ) -> None:
        # The document, delivery and resend arguments are FaxSendingOperator's, checked there.
        super().__init__(wait_for_completion=wait_for_completion, **kwargs)
        if on_invalid_row not in INVALID_ROW_ACTIONS:
            raise ValueError(f"on_invalid_row must be 'fail' or 'skip', not {on_invalid_row!r}")
        if not 1 <= max_in_flight <= ACCOUNT_IN_FLIGHT_LIMIT:
            raise ValueError(f"max_in_flight must be from 1 to {ACCOUNT_IN_FLIGHT_LIMIT:,} (the account's limit)")
        if channel_limit is not None and not 1 <= channel_limit <= max_in_flight:
            raise ValueError(
                f"channel_limit must be from 1 to max_in_flight ({max_in_flight:,}), not {channel_limit!r}"
            )
        if sends_per_second <= 0 or same_number_gap < 0:
            raise ValueError("sends_per_second must be positive and same_number_gap not negative")
        unknown = sorted(set(send_options or {}) - set(BATCH_ONLY_OPTIONS))
        if unknown:
            raise ValueError(f"send_options takes {', '.join(BATCH_ONLY_OPTIONS)}; not {', '.join(unknown)}")
        self.recipients = recipients
        self.recipients_path = recipients_path
        self.send_options = dict(send_options or {})
        self.channel_limit = channel_limit
        self.max_in_flight = max_in_flight
        self.sends_per_second = sends_per_second
        self.same_number_gap = same_number_gap
        self.on_invalid_row = on_invalid_row
        self.manifest_path = manifest_path

    # -- execute and resume ------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_telnyx_fax.send_window import hold_for_window

        plan = self._plan(context)
        hold_for_window(
            delivery.window_of(self.send_window),
            deferrable=self.deferrable,
            defer=self.defer,
            log=self.log,
            method_name="execute_in_window",
        )
        context["ti"].xcom_push(key="batch_id", value=plan.batch_id)
        end_time = time.time() + self.wait_timeout if self.wait_timeout is not None else None
        return self._advance(context, plan, end_time)

    def execute_in_window(self, context: Context, event: Any = None) -> dict[str, Any]:
        """Back from waiting for the send window: start the try again."""
        return self.execute(context)

    def resume_in_window(
        self, context: Context, event: Any = None, end_time: float | None = None, channels: Any = None
    ) -> dict[str, Any]:
        """Back from waiting for the window to open again in the middle of the batch: send the rest."""
        return self._advance(context, self._plan(context), end_time, channels=channels)

    def resume(
        self, context: Context, event: Any = None, end_time: float | None = None, channels: Any = None
    ) -> dict[str, Any]:
        """Back from :class:`FaxBatchTrigger`: take stock, then send the next rows or finish."""
        from airflow_provider_telnyx_fax.outcomes import describe_event

        plan = self._plan(context)
        if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
            raise AirflowException(
                f"Received an empty or unknown event for batch {plan.batch_id}: {describe_event(event)}"
            )
        if event.get("batch_id") != plan.batch_id:
            raise AirflowException(f"Received an event for another batch while waiting for {plan.batch_id}.")
        if event["status"] == "error":
            raise AirflowException(f"{event['message']} The next try takes stock before sending anything.")
        timed_out = event["status"] == "timeout"
        if timed_out:
            self.log.warning("%s", event["message"])
        return self._advance(context, plan, end_time, timed_out=timed_out, channels=channels)

    def _advance(
        self,
        context: Context,
        plan: BatchPlan,
        end_time: float | None,
        *,
        timed_out: bool = False,
        channels: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        from airflow_provider_telnyx_fax.polling import earliest_trigger_fire

        drive = asyncio.run(self._driver().drive(plan, end_time, stop=timed_out, learned=channels))
        ledger, pause = drive.ledger, drive.pause
        carried = {"end_time": end_time, "channels": drive.carried()}
        if isinstance(pause, datetime):
            delivery.defer_until_window_opens(self, pause, method_name="resume_in_window", kwargs=carried)
        elif pause is not None and not (timed_out or drive.timed_out):
            from airflow_provider_telnyx_fax.triggers.batch import FaxBatchTrigger

            # Never a trigger that fires within seconds of the deferral: apache/airflow#72716.
            not_before = max(pause.goal.not_before or 0.0, earliest_trigger_fire())
            self.defer(
                trigger=FaxBatchTrigger(
                    batch_id=plan.batch_id,
                    since=plan.since,
                    expected_faxes=pause.expected_faxes,
                    resume_at_pending=pause.goal.resume_at_pending,
                    resume_after=pause.goal.resume_after,
                    not_before=not_before,
                    rows_total=len(plan.rows),
                    rows_sent=pause.rows_sent,
                    telnyx_conn_id=self.telnyx_conn_id,
                    poll_interval=self.poll_interval,
                    end_time=end_time,
                ),
                method_name="resume",
                kwargs=carried,
            )
        return self._finish(context, ledger, timed_out=timed_out or pause is not None, spent=drive.spent)

    # -- the rows ----------------------------------------------------------------------------------

    def _plan(self, context: Context) -> BatchPlan:
        from airflow_provider_telnyx_fax.batch.ledger import batch_id_for
        from airflow_provider_telnyx_fax.batch.manifest import INLINE_MANIFEST_MAX_ROWS
        from airflow_provider_telnyx_fax.batch.rows import check_rows, describe_invalid_rows, read_recipients
        from airflow_provider_telnyx_fax.batch.waves import BatchPlan
        from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
        from airflow_provider_telnyx_fax.idempotency import SendKey

        # Templated, so it may arrive as text.
        self.poll_interval = float(self.poll_interval)
        ti = context["ti"]
        map_index = ti.map_index if ti.map_index is not None else -1
        batch_id = batch_id_for(ti.dag_id, ti.task_id, ti.run_id, map_index)
        try_number = int(ti.try_number or 1)

        def key_for(to: str, document: str, row_id: str) -> SendKey:
            return SendKey(ti.dag_id, ti.task_id, ti.run_id, map_index, to, f"{document}#row={row_id}")

        def client_state_for(key: SendKey, row_id: str, own: str | None) -> str:
            return key.client_state(own, batch=batch_id, row=row_id, attempt=try_number)

        try:
            raw_rows = read_recipients(self.recipients, self.recipients_path)
            rows, invalid = check_rows(
                raw_rows,
                self._row_defaults(context),
                key_for=key_for,
                client_state_for=client_state_for,
                prepare=self.hook.prepare_send,
            )
        except TelnyxFaxValidationError as error:
            raise AirflowFailException(f"Not sending the batch: {error}") from error
        total = len(rows) + len(invalid)
        if invalid and self.on_invalid_row == "fail":
            raise AirflowFailException(
                f"Not sending the batch, nothing was sent: {describe_invalid_rows(invalid, total)}. "
                "Fix them, or pass on_invalid_row='skip' to send the others."
            )
        if invalid:
            self.log.warning("Skipping invalid rows: %s", describe_invalid_rows(invalid, total))
        if total > INLINE_MANIFEST_MAX_ROWS and not self.manifest_path:
            raise AirflowFailException(
                f"Not sending the batch: {total:,} rows need a manifest_path for their outcomes "
                f"(the roll-up XCom holds at most {INLINE_MANIFEST_MAX_ROWS} rows)."
            )
        since = run_window_start(context, self.reconcile_lookback)
        return BatchPlan(rows, invalid, batch_id, since, try_number)

    def _row_defaults(self, context: Context) -> RowDefaults:
        from airflow_provider_telnyx_fax.batch.rows import RowDefaults

        template, document = delivery.batch_document(context, self)
        return RowDefaults(template, document)

    # -- sending and waiting -----------------------------------------------------------------------

    def _new_ledger(self, plan: BatchPlan) -> BatchLedger:
        from airflow_provider_telnyx_fax.batch.ledger import BatchLedger

        return BatchLedger(
            plan.rows,
            batch_id=plan.batch_id,
            try_number=plan.try_number,
            resend_policy=self.resend_policy,
            retryable_reasons=self.retryable_reasons,
            permanent_reasons=self.permanent_reasons,
            skipped=plan.skipped,
        )

    def _driver(self) -> BatchDriver:
        from airflow_provider_telnyx_fax.batch.driver import BatchDriver, BatchSettings

        settings = BatchSettings(
            channel_limit=self.channel_limit,
            connection_id=self.connection_id,
            max_in_flight=self.max_in_flight,
            sends_per_second=self.sends_per_second,
            same_number_gap=self.same_number_gap,
            wait_for_completion=self.wait_for_completion,
            deferrable=self.deferrable,
            poll_interval=self.poll_interval,
        )
        return BatchDriver(
            self.hook,
            self.log,
            settings,
            window=delivery.window_of(self.send_window),
            upload=self._upload_once,
            new_ledger=self._new_ledger,
        )

    # -- the result --------------------------------------------------------------------------------

    def _finish(
        self, context: Context, ledger: BatchLedger, *, timed_out: bool, spent: str | None = None
    ) -> dict[str, Any]:
        from airflow_provider_telnyx_fax.batch.manifest import describe_rollup, write_manifest
        from airflow_provider_telnyx_fax.outcomes import FaxTimeoutError

        rollup = ledger.rollup()
        lines = list(ledger.manifest_rows())
        rollup["manifest"] = write_manifest(self.manifest_path, lines) if self.manifest_path else lines
        summary = describe_rollup(rollup)
        self.log.info("Batch %s: %s", ledger.batch_id, summary)
        if self.report_path and not timed_out:
            delivery.write_batch_report(self.report_path, ledger.batch_id, summary, lines)
        failed = rollup["failed"]
        if not (spent or timed_out or failed["retryable"] or failed["permanent"]):
            return rollup
        context["ti"].xcom_push(key="rollup", value=rollup)
        if spent:
            raise AirflowFailException(
                f"Telnyx stopped dialling the batch: {spent} (the outbound voice profile's daily spend limit). "
                f"{summary}. The {rollup['pending']:,} rows not sent stay pending: clear this task once the limit "
                "resets or is raised, and it continues where it stopped (nothing is sent twice)."
            )
        if timed_out:
            raise FaxTimeoutError(f"The batch did not finish within wait_timeout: {summary}")
        if failed["retryable"]:
            raise AirflowException(
                f"Faxes of the batch failed: {summary}. A retry resends the {failed['retryable']:,} retryable failures."
            )
        raise AirflowFailException(f"Faxes of the batch failed for good: {summary}. A retry cannot fix them.")
