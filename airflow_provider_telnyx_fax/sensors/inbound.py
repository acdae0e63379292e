"""InboundFaxSensor: wait until faxes have been received since a watermark."""

from __future__ import annotations

import time
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue, conf
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout

from airflow_provider_telnyx_fax.models import FaxStatus
from airflow_provider_telnyx_fax.outcomes import describe_event
from airflow_provider_telnyx_fax.polling import earliest_trigger_fire, format_time, parse_time
from airflow_provider_telnyx_fax.privacy import mask_number

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from airflow.sdk import Context

    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

EVENT_STATUSES = frozenset({"received", "error", "timeout"})


class InboundFaxSensor(BaseSensorOperator):
    """
    Wait until at least one inbound fax created at or after ``since`` is ``received``; return them all.

    The result (XCom) is the list of received fax records in the window, oldest first, every page of
    the list walked. Faxes still being received are not returned; a rerun with the same window returns
    the same faxes plus any that finished since, so process them idempotently (by ``id``).

    :param to: the receiving number (E.164); empty or ``None`` for any number on the account. Templated.
    :param since: ISO 8601 watermark; default: the run's data interval start (else its logical date or
        run time). Templated.
    :param until: ISO 8601 exclusive upper bound on ``created_at``; ``None`` for none. Templated.
    :param telnyx_conn_id: the Airflow connection id.
    :param deferrable: wait in the triggerer, freeing the worker slot
        (default: ``[operators] default_deferrable``).
    :param poll_interval: longest wait between checks, in seconds (also the poke interval).
    :param page_size: faxes per list page (1-250).
    """

    template_fields: Sequence[str] = ("to", "since", "until")
    ui_color = "#7ad9be"

    def __init__(
        self,
        *,
        to: str | None = None,
        since: str | None = None,
        until: str | None = None,
        telnyx_conn_id: str = "telnyx_fax_default",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 60.0,
        page_size: int = 50,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", poll_interval)
        super().__init__(**kwargs)
        self.to = to
        self.since = since
        self.until = until
        self.telnyx_conn_id = telnyx_conn_id
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.page_size = page_size

    @cached_property
    def hook(self) -> TelnyxFaxHook:
        from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

        return TelnyxFaxHook(self.telnyx_conn_id)

    def _window(self, context: Context) -> tuple[str | None, str, str | None]:
        """The number, the watermark and the upper bound, normalised to UTC ISO 8601."""
        to = self.to if self.to and self.to != "None" else None
        since = self.since if self.since and self.since != "None" else None
        if since is None:
            moment: datetime | None = (
                context.get("data_interval_start")
                or context.get("logical_date")
                or getattr(context.get("dag_run"), "run_after", None)
            )
            if moment is None:
                raise AirflowException("InboundFaxSensor needs since=... when the run has no data interval.")
            since = format_time(moment)
        else:
            since = format_time(parse_time(since))
        until = format_time(parse_time(self.until)) if self.until and self.until != "None" else None
        return to, since, until

    def _received(self, to: str | None, since: str, until: str | None) -> list[dict[str, Any]]:
        faxes = {
            fax["id"]: fax
            for fax in self.hook.list_faxes(
                direction="inbound", to=to, created_at_gte=since, created_at_lt=until, page_size=self.page_size
            )
            if fax.get("status") == FaxStatus.RECEIVED.value
        }
        return sorted(faxes.values(), key=lambda fax: (parse_time(fax["created_at"]), fax["id"]))

    def poke(self, context: Context) -> PokeReturnValue:
        to, since, until = self._window(context)
        received = self._received(to, since, until)
        self.log.info(
            "%d fax(es) received %s since %s", len(received), f"to {mask_number(to)}" if to else "on the account", since
        )
        return PokeReturnValue(is_done=bool(received), xcom_value=received or None)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        # One look first: faxes that already arrived need no trip through the triggerer.
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        from airflow_provider_telnyx_fax.triggers.inbound import InboundFaxTrigger

        to, since, until = self._window(context)
        self.defer(
            trigger=InboundFaxTrigger(
                since=since,
                to=to,
                until=until,
                telnyx_conn_id=self.telnyx_conn_id,
                poll_interval=self.poll_interval,
                end_time=time.time() + self.timeout,
                page_size=self.page_size,
                not_before=earliest_trigger_fire(),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: Any = None) -> list[dict[str, Any]]:
        if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
            raise AirflowException(
                f"Received an empty or unknown event while waiting for inbound faxes: {describe_event(event)}"
            )
        to, since, _ = self._window(context)
        if (event.get("to"), event.get("since")) != (to, since):
            raise AirflowException(
                f"Received an event for another window while waiting for faxes to {mask_number(to)}: "
                f"{describe_event(event)}"
            )
        if event["status"] == "timeout":
            raise AirflowSensorTimeout(event.get("message") or "No fax was received in time.")
        if event["status"] == "error":
            raise AirflowException(event.get("message") or "Waiting for inbound faxes failed.")
        faxes = event.get("faxes")
        if not isinstance(faxes, list) or not faxes:
            raise AirflowException(f"Received a 'received' event without faxes: {describe_event(event)}")
        return faxes
