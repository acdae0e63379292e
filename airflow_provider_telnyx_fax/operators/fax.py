"""Operators that send and cancel Telnyx faxes."""

from __future__ import annotations

import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_telnyx_fax.models import SPEND_LIMIT_REASONS, FaxStatus, was_not_dialled
from airflow_provider_telnyx_fax.operators.delivery import assemble, window_of, write_fax_report
from airflow_provider_telnyx_fax.operators.sending import FaxSendingOperator, run_window_start
from airflow_provider_telnyx_fax.privacy import mask_number
from airflow_provider_telnyx_fax.resend import standing_fax

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from airflow_provider_telnyx_fax.documents import LocalDocument
    from airflow_provider_telnyx_fax.fax_request import FaxSendRequest
    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
    from airflow_provider_telnyx_fax.idempotency import SendKey

# What only a running task needs (requests, send keys, outcomes, windows) is imported where it runs:
# a DAG file that uses these operators pays for the operator classes alone.

# Telnyx may take a moment to list a fax it has just accepted; wait this long before looking for it.
SETTLE_SECONDS_AFTER_UNKNOWN_OUTCOME = 1.0
# A fax refused for want of a free channel is dialled again within the try, after these pauses (then
# the task fails, retryable): other calls on the account end within a fax's line time, about a minute.
CHANNEL_REDIAL_DELAYS = (5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 60.0, 60.0, 60.0, 60.0)


class SendFaxOperator(FaxSendingOperator):
    """
    Send a fax with Telnyx, safely across retries and reruns, and optionally wait for the outcome.

    Exactly one document source: ``media_url`` (Telnyx fetches it), ``media_name`` (already in Telnyx
    media storage), ``media_path`` (a local path or an ``ObjectStoragePath``; checked, then uploaded
    once under a name derived from its bytes) or ``media_paths`` (several PDFs merged in order into one).
    A ``cover_page`` goes in front of a local document; ``report_path`` receives a transmission report
    once the fax is finished; ``send_window`` holds the dial until business hours (see
    ``docs/documents.md``). Bad input fails the task before anything is sent.

    Before sending, the operator looks for a fax this task instance already sent to ``to`` with the
    same document (see :mod:`airflow_provider_telnyx_fax.idempotency`). ``resend_policy`` decides
    (:mod:`airflow_provider_telnyx_fax.resend`): ``if_failed`` (default) adopts a queued, in-progress or
    delivered fax and sends again only after a retryable failure (a permanent one is kept and reported);
    ``never`` adopts whatever it finds; ``always`` sends regardless.

    The fax id is pushed to XCom (key ``fax_id``) as soon as Telnyx accepts the fax; the return value
    is the fax record. A failed fax raises per the failure-reason table: retryable reasons let the
    task's ``retries`` redial, permanent ones fail at once.

    :param to: destination, E.164 (``+13125550123``) or a SIP URI. Templated.
    :param media_url: URL of the document. Templated.
    :param media_name: name of a document in Telnyx media storage. Templated.
    :param media_path: local path or ``ObjectStoragePath`` of the document to upload. Templated.
    :param media_paths: local or object-storage PDFs, merged in order into one fax. Templated.
    :param cover_page: a ``CoverPage`` or a dict of its fields (``subject``, ``message``,
        ``sender_name``, ``recipient_name``, ``notice``, ``title``); needs the ``documents`` extra. Templated.
    :param report_path: where the transmission report PDF goes once the fax is delivered or failed (local
        or object storage; needs ``wait_for_completion`` and the ``documents`` extra). Templated.
    :param send_window: a ``SendWindow`` or a dict (``days``, ``start``, ``end``, ``timezone``): outside it
        the dial waits (deferred with ``deferrable``, asleep on the worker otherwise), retries too. Templated.
    :param from_number: E.164 caller number; defaults to the connection's ``from_number``. Templated.
    :param connection_id: Fax Application id; defaults to the connection's ``connection_id``. Templated.
    :param quality: ``normal``, ``high``, ``very_high``, ``ultra_light`` or ``ultra_dark``. Templated.
    :param t38_enabled: use the T.38 protocol.
    :param monochrome: send true black and white.
    :param black_threshold: 1-100, only with ``monochrome``.
    :param store_media: keep the sent media on a temporary URL.
    :param store_preview: keep a preview on a temporary URL.
    :param preview_format: ``pdf`` or ``tiff``. Templated.
    :param from_display_name: caller id name. Templated.
    :param webhook_url: URL for this fax's webhooks. Templated.
    :param client_state: your base64 state; kept inside the provider's own (see ``user_client_state``).
        Templated.
    :param telnyx_conn_id: Airflow connection id.
    :param wait_for_completion: wait until the fax is delivered or failed.
    :param deferrable: wait in the triggerer, freeing the worker slot
        (default: ``[operators] default_deferrable``).
    :param poll_interval: longest wait between status checks, in seconds.
    :param wait_timeout: give up waiting after this many seconds (``None``: no limit).
    :param resend_policy: ``if_failed``, ``always`` or ``never``.
    :param reconcile_lookback: how far back to look for a fax this task already sent.
    :param cancel_on_kill: cancel the in-flight fax if the task is killed while waiting on a worker.
    :param retryable_reasons: failure reasons to treat as retryable, overriding the table.
    :param permanent_reasons: failure reasons to treat as permanent, overriding the table.
    """

    template_fields: Sequence[str] = (
        "to",
        "media_url",
        "media_name",
        "media_path",
        "media_paths",
        "cover_page",
        "report_path",
        "send_window",
        "from_number",
        "connection_id",
        "quality",
        "preview_format",
        "from_display_name",
        "webhook_url",
        "client_state",
    )
    ui_color = "#00c08b"

    def __init__(
        self,
        *,
        to: str,
        quality: str | None = None,
        t38_enabled: bool | None = None,
        monochrome: bool | None = None,
        black_threshold: int | None = None,
        store_media: bool | None = None,
        store_preview: bool | None = None,
        preview_format: str | None = None,
        from_display_name: str | None = None,
        webhook_url: str | None = None,
        client_state: str | None = None,
        wait_for_completion: bool = False,
        cancel_on_kill: bool = True,
        **kwargs: Any,
    ) -> None:
        # The document, delivery and resend arguments are FaxSendingOperator's, checked there.
        super().__init__(wait_for_completion=wait_for_completion, **kwargs)
        self.to = to
        self.quality = quality
        self.t38_enabled = t38_enabled
        self.monochrome = monochrome
        self.black_threshold = black_threshold
        self.store_media = store_media
        self.store_preview = store_preview
        self.preview_format = preview_format
        self.from_display_name = from_display_name
        self.webhook_url = webhook_url
        self.client_state = client_state
        self.cancel_on_kill = cancel_on_kill
        self._in_flight_fax_id: str | None = None
        self._sent_document: LocalDocument | None = None
        # Redials of this try after Telnyx found no free channel; carried across deferrals.
        self._channel_redials = 0

    # -- execute ---------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
        from airflow_provider_telnyx_fax.fax_request import FaxSendRequest
        from airflow_provider_telnyx_fax.validation import check_client_state

        try:
            document = self._sent_document = self._document(context)
            key = self._send_key(context, document)
            if self.client_state is not None:
                check_client_state(self.client_state)
            request = FaxSendRequest.from_attributes(
                self,
                media_name=document.media_name if document else self.media_name,
                client_state=key.client_state(self.client_state),
            )
            # Validating the whole request up front means bad input never leaves a fax half-sent.
            request = self.hook.prepare_send(request)
        except TelnyxFaxValidationError as error:
            raise AirflowFailException(f"Not sending a fax: {error}") from error

        fax = self._adopt_or_send(key, request, document, since=self._reconcile_since(context))
        context["ti"].xcom_push(key="fax_id", value=fax["id"])
        if not self.wait_for_completion:
            return fax
        return self._wait(context, fax)

    def execute_in_window(self, context: Context, event: Any = None) -> dict[str, Any]:
        """Back from waiting for the send window: look again for an earlier send, then dial."""
        return self.execute(context)

    def _document(self, context: Context) -> LocalDocument | None:
        return assemble(
            context,
            sources={name: getattr(self, name) for name in ("media_url", "media_name", "media_path", "media_paths")},
            cover_page=self.cover_page,
            to=self.to,
            from_number=self.from_number or self.hook.extras.get("from_number"),
            window=window_of(self.send_window),
        )

    def _send_key(self, context: Context, document: LocalDocument | None) -> SendKey:
        from airflow_provider_telnyx_fax.idempotency import SendKey, document_identity

        ti = context["ti"]
        identity = document_identity(document, self.media_url, self.media_name)
        return SendKey(
            dag_id=ti.dag_id,
            task_id=ti.task_id,
            run_id=ti.run_id,
            map_index=ti.map_index if ti.map_index is not None else -1,
            to=self.to,
            document=identity,
        )

    # -- no accidental duplicates ----------------------------------------------------------------

    def _reconcile_since(self, context: Context) -> str:
        return run_window_start(context, self.reconcile_lookback)

    def _sent_with_key(self, key: SendKey, since: str) -> list[dict[str, Any]]:
        """The faxes carrying this task instance's send key since ``since``, newest first."""
        from airflow_provider_telnyx_fax.idempotency import find_sent_faxes

        return find_sent_faxes(self.hook.list_faxes(direction="outbound", to=self.to, created_at_gte=since), key)

    def _fax_to_keep(self, sent: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Which earlier fax, if any, the resend policy says stands for this send."""
        # This try has sent nothing yet when it looks, so every fax found is an earlier try's.
        return standing_fax(
            sent,
            policy=self.resend_policy,
            retryable_reasons=self.retryable_reasons,
            permanent_reasons=self.permanent_reasons,
        )

    def _adopt_or_send(
        self, key: SendKey, request: FaxSendRequest, document: LocalDocument | None, *, since: str
    ) -> dict[str, Any]:
        from airflow_provider_telnyx_fax.exceptions import TelnyxOutcomeUnknownError
        from airflow_provider_telnyx_fax.send_window import hold_for_window

        sent_before = self._sent_with_key(key, since)
        previous = self._fax_to_keep(sent_before)
        if previous is not None:
            self.log.info(
                "Fax %s to %s was already sent by this task instance (status %s); not sending again.",
                previous["id"],
                mask_number(self.to),
                previous["status"],
            )
            return previous
        # Dial only inside the window; resuming runs execute again, which looks for an earlier send first.
        hold_for_window(
            window_of(self.send_window),
            deferrable=self.deferrable,
            defer=self.defer,
            log=self.log,
            method_name="execute_in_window",
        )
        if document is not None:
            self._upload_once(document)
        try:
            return self._send(request)
        except TelnyxOutcomeUnknownError as error:
            self.log.warning("%s Looking for it before sending again.", error)
            time.sleep(SETTLE_SECONDS_AFTER_UNKNOWN_OUTCOME)
            # Whatever the resend policy, a fax with this key that was not there before is the one just sent.
            known = {fax["id"] for fax in sent_before}
            accepted = [fax for fax in self._sent_with_key(key, since) if fax["id"] not in known]
            if accepted:
                self.log.info("Telnyx did accept fax %s; using it.", accepted[0]["id"])
                return accepted[0]
            try:
                return self._send(request)
            except TelnyxOutcomeUnknownError as again:
                raise AirflowException(f"{again} The next try will look for it before sending.") from again

    def _send(self, request: FaxSendRequest) -> dict[str, Any]:
        fax = self.hook.send_fax(request)
        self.log.info("Telnyx accepted fax %s to %s (status %s).", fax["id"], mask_number(self.to), fax["status"])
        return fax

    # -- waiting ---------------------------------------------------------------------------------

    def _finish(self, context: Context, fax: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_telnyx_fax.outcomes import result_for_finished_fax

        if was_not_dialled(fax):
            return self._dial_again(context, fax)
        if self.report_path:
            # After a deferral this is a fresh operator: the document is assembled again, to the same bytes.
            document = self._sent_document or self._document(context)
            write_fax_report(self.report_path, fax, document)
            self.log.info("Wrote the transmission report of fax %s.", fax["id"])
        return result_for_finished_fax(
            fax, retryable_reasons=self.retryable_reasons, permanent_reasons=self.permanent_reasons
        )

    def _dial_again(self, context: Context, refused: dict[str, Any]) -> dict[str, Any]:
        """
        Telnyx failed the fax before dialling: every channel was busy, or the day's spend is used up.

        It never reached the recipient, so sending it again duplicates nothing: for want of a channel
        it is redialled in this try after a pause (the resend rule ignores such a fax); a spend limit
        fails the task for good, since nothing dials again before the limit resets.
        """
        reason = refused.get("failure_reason")
        to = mask_number(self.to)
        if reason in SPEND_LIMIT_REASONS:
            raise AirflowFailException(
                f"Telnyx did not dial fax {refused['id']} to {to}: {reason} (the outbound voice profile's daily "
                "spend limit is reached). Nothing was sent; clear this task once the limit resets or is raised."
            )
        if self._channel_redials >= len(CHANNEL_REDIAL_DELAYS):
            raise AirflowException(
                f"Telnyx did not dial fax {refused['id']} to {to}: {reason}, {self._channel_redials + 1} times in "
                "this try. Every channel stayed busy: limit concurrent sends to your channels with a pool "
                "(docs/scale.md). A retry dials again."
            )
        delay = CHANNEL_REDIAL_DELAYS[self._channel_redials]
        self._channel_redials += 1
        self.log.info(
            "Telnyx did not dial fax %s to %s (%s: no free channel); dialling again in %.0fs (redial %d of %d).",
            refused["id"], to, reason, delay, self._channel_redials, len(CHANNEL_REDIAL_DELAYS),
        )  # fmt: skip
        time.sleep(delay)
        return self.execute(context)

    def _wait(self, context: Context, fax: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_telnyx_fax.outcomes import FaxTimeoutError
        from airflow_provider_telnyx_fax.polling import poll_delays

        fax_id = fax["id"]
        end_time = time.time() + self.wait_timeout if self.wait_timeout is not None else None
        fax = self.hook.get_fax(fax_id)
        if FaxStatus(fax["status"]).is_terminal:
            return self._finish(context, fax)
        if self.deferrable:
            from airflow_provider_telnyx_fax.polling import earliest_trigger_fire, watch_on_worker
            from airflow_provider_telnyx_fax.triggers.fax import FaxStatusTrigger

            # A few seconds on the worker first: a fax that ends soon never defers, and a deferral
            # never ends within seconds (apache/airflow#72716).
            finished = watch_on_worker(lambda: _terminal_or_none(self.hook.get_fax(fax_id)))
            if finished is not None:
                return self._finish(context, finished)
            self.defer(
                trigger=FaxStatusTrigger(
                    fax_id=fax_id,
                    telnyx_conn_id=self.telnyx_conn_id,
                    poll_interval=self.poll_interval,
                    end_time=end_time,
                    not_before=earliest_trigger_fire(),
                ),
                method_name="execute_complete",
                kwargs={"channel_redials": self._channel_redials},
            )
        self._in_flight_fax_id = fax_id
        for delay in poll_delays(self.poll_interval):
            if end_time is not None:
                remaining = end_time - time.time()
                if remaining <= 0:
                    raise FaxTimeoutError(f"Fax {fax_id} was still {fax['status']} after {self.wait_timeout}s.")
                delay = min(delay, remaining)
            time.sleep(delay)
            fax = self.hook.get_fax(fax_id)
            if FaxStatus(fax["status"]).is_terminal:
                self._in_flight_fax_id = None
                return self._finish(context, fax)
        raise AssertionError("unreachable: poll_delays never ends")

    def execute_complete(self, context: Context, event: Any = None, channel_redials: int = 0) -> dict[str, Any]:
        from airflow_provider_telnyx_fax.outcomes import FaxTimeoutError, checked_event

        self._channel_redials = int(channel_redials)
        ti = context["ti"]
        # The fax id pushed before deferring is the one this task waits for, whatever the event says.
        fax_id = ti.xcom_pull(task_ids=ti.task_id, key="fax_id", map_indexes=ti.map_index)
        event = checked_event(event, str(fax_id))
        if event["status"] == "timeout":
            raise FaxTimeoutError(event["message"])
        if event["status"] == "error":
            raise AirflowException(event["message"])
        return self._finish(context, event["fax"])

    def on_kill(self) -> None:
        if self.cancel_on_kill and self._in_flight_fax_id:
            self.log.info("Task killed while fax %s was in flight; cancelling it.", self._in_flight_fax_id)
            self.hook.cancel_fax(self._in_flight_fax_id)


def _terminal_or_none(fax: dict[str, Any]) -> dict[str, Any] | None:
    return fax if FaxStatus(fax["status"]).is_terminal else None


class CancelFaxOperator(BaseOperator):
    """
    Cancel a fax that is still queued or being sent; returns the fax's status afterwards.

    :param fax_id: the Telnyx fax id, usually pulled from the send task's XCom. Templated.
    :param telnyx_conn_id: Airflow connection id.
    :param fail_if_finished: fail (default) when the fax was already delivered or failed; with
        ``False`` the task succeeds and returns that status.
    """

    template_fields: Sequence[str] = ("fax_id",)
    ui_color = "#ffb199"

    def __init__(
        self,
        *,
        fax_id: str,
        telnyx_conn_id: str = "telnyx_fax_default",
        fail_if_finished: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.fax_id = fax_id
        self.telnyx_conn_id = telnyx_conn_id
        self.fail_if_finished = fail_if_finished

    @cached_property
    def hook(self) -> TelnyxFaxHook:
        from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

        return TelnyxFaxHook(self.telnyx_conn_id)

    def execute(self, context: Context) -> str:
        from airflow_provider_telnyx_fax.exceptions import TelnyxAPIError

        fax = self.hook.get_fax(self.fax_id)
        if FaxStatus(fax["status"]).is_cancellable:
            try:
                self.hook.cancel_fax(self.fax_id)
            except TelnyxAPIError as error:
                # It may have finished between the look and the cancel; the status below tells.
                if error.status != 422:
                    raise
            fax = self.hook.get_fax(self.fax_id)
            cancelled = fax["status"] == FaxStatus.FAILED.value and fax.get("failure_reason") == "sender_canceled"
            if cancelled or FaxStatus(fax["status"]).is_cancellable:
                self.log.info("Cancelled fax %s; its status is now %s.", self.fax_id, fax["status"])
                return str(fax["status"])
        status = FaxStatus(fax["status"])
        message = f"Fax {self.fax_id} is already {status.value}; there is nothing to cancel."
        if self.fail_if_finished:
            raise AirflowFailException(f"{message} Pass fail_if_finished=False to accept this.")
        self.log.info(message)
        return status.value
