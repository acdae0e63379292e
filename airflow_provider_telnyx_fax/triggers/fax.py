"""FaxStatusTrigger: waits in the triggerer until a fax is delivered, received or failed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_telnyx_fax.exceptions import TelnyxNotFoundError
from airflow_provider_telnyx_fax.models import FaxStatus
from airflow_provider_telnyx_fax.polling import (
    DEFAULT_MAX_CONSECUTIVE_ERRORS,
    import_hook_module,
    poll_until_event,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class FaxStatusTrigger(BaseTrigger):
    """
    Poll one fax until its status is terminal, then fire exactly one event.

    The trigger only reads: it never sends or cancels, so a triggerer restart (a new instance built
    from :meth:`serialize`) just resumes polling. Its kwargs are primitives and hold no secret: the
    API key is looked up from the Airflow connection inside the triggerer.

    The event payload is ``{"status", "fax_id", "fax", "message"}`` where ``status`` is
    ``delivered``, ``received`` or ``failed`` (``fax`` is the final record), or ``error`` /
    ``timeout`` (``fax`` is the last record seen, or ``None``).

    :param fax_id: the Telnyx fax id.
    :param telnyx_conn_id: the Airflow connection id.
    :param poll_interval: the longest wait between status checks, in seconds.
    :param end_time: Unix time after which a ``timeout`` event fires; ``None`` waits forever.
    :param max_consecutive_errors: rate-limited, 5xx or unreachable checks tolerated in a row.
    :param not_before: Unix time before which the trigger never fires, whatever it finds (its
        deferral plus :data:`~airflow_provider_telnyx_fax.polling.MIN_DEFERRAL_SECONDS`, so a fax
        that ends at once cannot trip apache/airflow#72716).
    """

    def __init__(
        self,
        *,
        fax_id: str,
        telnyx_conn_id: str = "telnyx_fax_default",
        poll_interval: float = 15.0,
        end_time: float | None = None,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        not_before: float | None = None,
    ) -> None:
        super().__init__()
        self.fax_id = fax_id
        self.not_before = not_before
        self.telnyx_conn_id = telnyx_conn_id
        self.poll_interval = float(poll_interval)
        self.end_time = end_time
        self.max_consecutive_errors = max_consecutive_errors

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "fax_id": self.fax_id,
                "telnyx_conn_id": self.telnyx_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "max_consecutive_errors": self.max_consecutive_errors,
                "not_before": self.not_before,
            },
        )

    def _event(self, status: str, fax: dict[str, Any] | None, message: str) -> TriggerEvent:
        return TriggerEvent({"status": status, "fax_id": self.fax_id, "fax": fax, "message": message})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hooks = await import_hook_module()
        # One request per check: the polling loop owns the backoff, so it can count failures across checks.
        hook = hooks.TelnyxFaxHook(self.telnyx_conn_id, max_retries=0)
        last_seen: dict[str, Any] | None = None

        async def check() -> TriggerEvent | None:
            nonlocal last_seen
            try:
                fax = await hook.aget_fax(self.fax_id)
            except TelnyxNotFoundError:
                return self._event("error", None, f"Telnyx has no fax with id '{self.fax_id}'.")
            last_seen = fax
            status = FaxStatus(fax["status"])
            if status.is_terminal:
                return self._event(status.value, fax, f"Fax {self.fax_id} is {status.value}.")
            self.log.info("Fax %s is %s", self.fax_id, status.value)
            return None

        def timed_out() -> TriggerEvent:
            last = last_seen["status"] if last_seen else "unknown"
            return self._event("timeout", last_seen, f"Fax {self.fax_id} was still {last} when the wait timed out.")

        async with hooks.shared_client_session():
            yield await poll_until_event(
                check,
                poll_interval=self.poll_interval,
                end_time=self.end_time,
                max_consecutive_errors=self.max_consecutive_errors,
                on_error=lambda message: self._event("error", last_seen, message),
                on_timeout=timed_out,
                subject=f"fax {self.fax_id}",
                log=self.log,
                not_before=self.not_before,
            )
