"""FaxBatchTrigger: waits in the triggerer until enough of a fax batch has finished."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_telnyx_fax.batch.watch import BatchWatch, WaitGoal, wait_for_batch
from airflow_provider_telnyx_fax.polling import DEFAULT_MAX_CONSECUTIVE_ERRORS, import_hook_module

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class FaxBatchTrigger(BaseTrigger):
    """
    Follow a batch's faxes until at most ``resume_at_pending`` are still on the line, then fire once.

    The kwargs are a handful of numbers and strings whatever the batch size: the batch id every fax
    carries in its ``client_state``, the window's start, how many faxes the window holds, and the goal.
    The trigger lists the window page by page (narrowing it to the oldest unfinished fax) and switches
    to single GETs when only a few faxes are left. It only reads, so a triggerer restart or a second
    copy of it is harmless: a new instance built from :meth:`serialize` starts over from the window.
    Rate limits slow it down and never count as failures. The API key stays in the Airflow connection.

    The event payload is ``{"status", "batch_id", "pending", "message"}``: ``ready`` when the goal is
    reached, ``error`` after repeated failed checks, ``timeout`` past ``end_time``.

    :param batch_id: the batch's id (one task instance's sends).
    :param since: ISO 8601 start of the window; no fax of the batch is older.
    :param expected_faxes: how many faxes of the batch the window holds, over every try.
    :param resume_at_pending: fire once at most this many faxes are unfinished (``0``: all finished;
        ``-1``: only ``resume_after`` fires it).
    :param resume_after: Unix time at which to fire anyway (a number's gap between faxes has passed).
    :param not_before: Unix time before which it never fires, whatever it finds (the operator passes its
        deferral plus 30 s at least, so the batch never trips apache/airflow#72716).
    :param rows_total: the batch's rows, for progress lines.
    :param rows_sent: rows with a fax so far, for progress lines.
    :param telnyx_conn_id: the Airflow connection id.
    :param poll_interval: the longest wait between checks, in seconds.
    :param end_time: Unix time after which a ``timeout`` event fires; ``None`` waits forever.
    :param max_consecutive_errors: 5xx or unreachable checks tolerated in a row.
    """

    def __init__(
        self,
        *,
        batch_id: str,
        since: str,
        expected_faxes: int,
        resume_at_pending: int = 0,
        resume_after: float | None = None,
        not_before: float | None = None,
        rows_total: int = 0,
        rows_sent: int = 0,
        telnyx_conn_id: str = "telnyx_fax_default",
        poll_interval: float = 15.0,
        end_time: float | None = None,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
    ) -> None:
        super().__init__()
        self.batch_id = batch_id
        self.since = since
        self.expected_faxes = int(expected_faxes)
        self.goal = WaitGoal(int(resume_at_pending), resume_after, not_before)
        self.rows_total = int(rows_total)
        self.rows_sent = int(rows_sent)
        self.telnyx_conn_id = telnyx_conn_id
        self.poll_interval = float(poll_interval)
        self.end_time = end_time
        self.max_consecutive_errors = max_consecutive_errors

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "batch_id": self.batch_id,
                "since": self.since,
                "expected_faxes": self.expected_faxes,
                "resume_at_pending": self.goal.resume_at_pending,
                "resume_after": self.goal.resume_after,
                "not_before": self.goal.not_before,
                "rows_total": self.rows_total,
                "rows_sent": self.rows_sent,
                "telnyx_conn_id": self.telnyx_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "max_consecutive_errors": self.max_consecutive_errors,
            },
        )

    def _event(self, status: str, message: str, pending: int | None) -> TriggerEvent:
        return TriggerEvent({"status": status, "batch_id": self.batch_id, "pending": pending, "message": message})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hooks = await import_hook_module()
        # One request per check: the polling loop owns the backoff, so it can count failures across checks.
        hook = hooks.TelnyxFaxHook(self.telnyx_conn_id, max_retries=0)
        watch = BatchWatch(hook, batch_id=self.batch_id, since=self.since, expected_faxes=self.expected_faxes)
        async with hooks.shared_client_session():
            yield await wait_for_batch(
                watch,
                self.goal,
                poll_interval=self.poll_interval,
                end_time=self.end_time,
                max_consecutive_errors=self.max_consecutive_errors,
                make_event=self._event,
                describe=lambda: watch.progress(sent=self.rows_sent, total=self.rows_total),
                log=self.log,
                hold_until=self.goal.not_before,
            )
