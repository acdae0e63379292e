"""FaxStatusTrigger: waits in the triggerer until a fax is delivered, received or failed."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_telnyx_fax.models import FaxStatus, poll_delays

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

DEFAULT_MAX_CONSECUTIVE_ERRORS = 5


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
    """

    def __init__(
        self,
        *,
        fax_id: str,
        telnyx_conn_id: str = "telnyx_fax_default",
        poll_interval: float = 15.0,
        end_time: float | None = None,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
    ) -> None:
        super().__init__()
        self.fax_id = fax_id
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
            },
        )

    def _event(self, status: str, fax: dict[str, Any] | None, message: str) -> TriggerEvent:
        return TriggerEvent({"status": status, "fax_id": self.fax_id, "fax": fax, "message": message})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_telnyx_fax.exceptions import (
            TelnyxAPIError,
            TelnyxNotFoundError,
            TelnyxRateLimitError,
            TelnyxServerError,
            TelnyxTransportError,
        )
        from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook, shared_client_session

        # One request per check: this loop owns the backoff, so it can count failures across checks.
        hook = TelnyxFaxHook(self.telnyx_conn_id, max_retries=0)
        consecutive_errors = 0
        fax: dict[str, Any] | None = None
        async with shared_client_session():
            for delay in poll_delays(self.poll_interval):
                try:
                    fax = await hook.aget_fax(self.fax_id)
                except TelnyxNotFoundError:
                    yield self._event("error", None, f"Telnyx has no fax with id '{self.fax_id}'.")
                    return
                except (TelnyxRateLimitError, TelnyxServerError, TelnyxTransportError) as error:
                    consecutive_errors += 1
                    if consecutive_errors > self.max_consecutive_errors:
                        message = f"Gave up on fax {self.fax_id} after {consecutive_errors} failed checks: {error}"
                        yield self._event("error", fax, message)
                        return
                    self.log.warning("Checking fax %s failed (%s); will try again", self.fax_id, error)
                    delay = max(delay, getattr(error, "retry_after", None) or 0.0)
                except TelnyxAPIError as error:
                    yield self._event("error", fax, f"Checking fax {self.fax_id} failed: {error}")
                    return
                else:
                    consecutive_errors = 0
                    status = FaxStatus(fax["status"])
                    if status.is_terminal:
                        yield self._event(status.value, fax, f"Fax {self.fax_id} is {status.value}.")
                        return
                    self.log.info("Fax %s is %s", self.fax_id, status.value)
                if self.end_time is not None:
                    remaining = self.end_time - time.time()
                    if remaining <= 0:
                        last = fax["status"] if fax else "unknown"
                        message = f"Fax {self.fax_id} was still {last} when the wait timed out."
                        yield self._event("timeout", fax, message)
                        return
                    delay = min(delay, remaining)
                await asyncio.sleep(delay)
