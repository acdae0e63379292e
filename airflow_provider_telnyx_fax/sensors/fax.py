"""FaxStatusSensor: wait until a fax is delivered (or an inbound fax is received)."""

from __future__ import annotations

import time
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue, conf
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout

from airflow_provider_telnyx_fax.models import FaxStatus
from airflow_provider_telnyx_fax.outcomes import checked_event, result_for_finished_fax
from airflow_provider_telnyx_fax.polling import earliest_trigger_fire, watch_on_worker

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook


class FaxStatusSensor(BaseSensorOperator):
    """
    Wait for a fax to finish: succeed with the fax record when delivered or received, fail when it failed.

    A failed fax raises per the failure-reason table (retryable reasons raise ``AirflowException``,
    permanent ones ``AirflowFailException``). Note that retrying this sensor re-checks the same fax;
    to redial, wait inside ``SendFaxOperator(wait_for_completion=True)`` and give that task retries.

    :param fax_id: the Telnyx fax id, usually ``"{{ ti.xcom_pull(task_ids='send', key='fax_id') }}"``.
        Templated.
    :param telnyx_conn_id: Airflow connection id.
    :param deferrable: wait in the triggerer, freeing the worker slot
        (default: ``[operators] default_deferrable``).
    :param poll_interval: longest wait between status checks, in seconds (also the poke interval unless
        ``poke_interval`` is given). Templated, so a DAG param can set it: ``"{{ params.poll_interval }}"``.
    :param retryable_reasons: failure reasons to treat as retryable, overriding the table.
    :param permanent_reasons: failure reasons to treat as permanent, overriding the table.
    """

    template_fields: Sequence[str] = ("fax_id", "poll_interval")
    ui_color = "#7ad9be"

    def __init__(
        self,
        *,
        fax_id: str,
        telnyx_conn_id: str = "telnyx_fax_default",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float | str = 15.0,
        retryable_reasons: Sequence[str] = (),
        permanent_reasons: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        # A templated interval is only known once rendered; execute() applies it then.
        self._poke_interval_follows = "poke_interval" not in kwargs
        kwargs.setdefault("poke_interval", poll_interval if isinstance(poll_interval, (int, float)) else 15.0)
        super().__init__(**kwargs)
        self.fax_id = fax_id
        self.telnyx_conn_id = telnyx_conn_id
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.retryable_reasons = tuple(retryable_reasons)
        self.permanent_reasons = tuple(permanent_reasons)

    @cached_property
    def hook(self) -> TelnyxFaxHook:
        from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

        return TelnyxFaxHook(self.telnyx_conn_id)

    def _finish(self, fax: dict[str, Any]) -> dict[str, Any]:
        return result_for_finished_fax(
            fax, retryable_reasons=self.retryable_reasons, permanent_reasons=self.permanent_reasons
        )

    def poke(self, context: Context) -> PokeReturnValue:
        fax = self.hook.get_fax(self.fax_id)
        self.log.info("Fax %s is %s", self.fax_id, fax["status"])
        if FaxStatus(fax["status"]).is_terminal:
            return PokeReturnValue(is_done=True, xcom_value=self._finish(fax))
        return PokeReturnValue(is_done=False)

    def execute(self, context: Context) -> Any:
        poll_interval = float(self.poll_interval)
        self.poll_interval = poll_interval
        if self._poke_interval_follows:
            self.poke_interval = poll_interval
        if not self.deferrable:
            return super().execute(context)
        # Look first, and watch a few seconds: a fax that finishes soon needs no trip through the
        # triggerer, and a deferral never ends within seconds (apache/airflow#72716).
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value

        def finished() -> Any:
            look = self.poke(context)
            return look.xcom_value if look.is_done else None

        result = watch_on_worker(finished)
        if result is not None:
            return result
        from airflow_provider_telnyx_fax.triggers.fax import FaxStatusTrigger

        self.defer(
            trigger=FaxStatusTrigger(
                fax_id=self.fax_id,
                telnyx_conn_id=self.telnyx_conn_id,
                poll_interval=poll_interval,
                end_time=time.time() + self.timeout,
                not_before=earliest_trigger_fire(),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: Any = None) -> dict[str, Any]:
        event = checked_event(event, self.fax_id)
        if event["status"] == "timeout":
            raise AirflowSensorTimeout(event["message"])
        if event["status"] == "error":
            raise AirflowException(event["message"])
        return self._finish(event["fax"])
