"""
Webhook-driven resends: when Telnyx reports an outbound fax failed for a retryable reason, send it again, once.

What it shows:

* ``schedule=[fax_asset("failed")]``: the asset ``telnyx-fax://telnyx_fax_default/failed``, updated by the
  provider's api-server plugin once per signed ``fax.failed`` webhook (see docs/webhooks.md), so a failure
  is acted on when it happens, not at the next daily sweep;
* a task reading the run's triggering asset events (several may be merged into one run), keeping outbound
  failures whose ``failure_reason`` is retryable (``classify_failure``: a busy line or a dropped call is
  worth another try, a wrong number or an unreadable document is not), and fetching each fax for its
  destination and document (asset events carry masked numbers and no media URL);
* a mapped ``SendFaxOperator`` (``expand_kwargs``) sending each one again and waiting in the triggerer.

Once, never more:

* each webhook is recorded as exactly one asset event, so one failure schedules one resend;
* a fax this DAG sent is never resent (its send key names the DAG): a resend that fails again needs a person;
* a retried or cleared task adopts the fax it already sent (send key plus ``resend_policy="never"``).

Try the tasks without a webhook, against the local emulator::

    airflow dags test example_fax_webhook_failed -c '{"fax_ids": ["<id of a failed outbound fax>"]}'
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_telnyx_fax.assets import fax_asset
from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator

DAG_ID = "example_fax_webhook_failed"
FAX_FAILED = fax_asset("failed", "telnyx_fax_default")


def sent_by_this_dag(fax: dict[str, Any]) -> bool:
    from airflow_provider_telnyx_fax.idempotency import decode_client_state

    state = decode_client_state(fax.get("client_state"))
    return state is not None and state.get("dag") == DAG_ID


with DAG(
    dag_id=DAG_ID,
    description="Resend, once, an outbound fax that failed for a retryable reason, when Telnyx reports it",
    schedule=[FAX_FAILED],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "fax_ids": Param([], type="array", description="For manual runs: failed fax ids to consider."),
        "poll_interval": Param(15, type="number", minimum=0.1, description="Seconds between status checks"),
    },
    tags=["example", "telnyx", "fax", "webhooks"],
    doc_md=__doc__,
):

    @task
    def faxes_to_resend(triggering_asset_events: Any = None, params: Any = None) -> list[dict[str, Any]]:
        """``SendFaxOperator`` kwargs for each retryable outbound failure in this run's events."""
        from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
        from airflow_provider_telnyx_fax.models import FailureKind, classify_failure

        assert params is not None
        candidates = [
            str(event.extra["fax_id"])
            for events in (triggering_asset_events or {}).values()
            for event in events
            if event.extra.get("direction") == "outbound"
            and event.extra.get("fax_id")
            and classify_failure(event.extra.get("failure_reason")) is FailureKind.RETRYABLE
        ]
        candidates += [str(fax_id) for fax_id in params["fax_ids"]]
        hook = TelnyxFaxHook()
        resends: list[dict[str, Any]] = []
        for fax_id in dict.fromkeys(candidates):
            fax = hook.get_fax(fax_id)
            if fax.get("direction") != "outbound" or fax.get("status") != "failed":
                print(f"Fax {fax_id} is {fax.get('direction')} and {fax.get('status')}; skipped.")
                continue
            if classify_failure(fax.get("failure_reason")) is not FailureKind.RETRYABLE:
                print(f"Fax {fax_id} failed for good ({fax.get('failure_reason')}); skipped.")
                continue
            if sent_by_this_dag(fax):
                print(f"Fax {fax_id} was itself a resend; it is not resent again.")
                continue
            if not fax.get("media_url") and not fax.get("media_name"):
                print(f"Fax {fax_id} has no media_url or media_name to resend; skipped.")
                continue
            print(f"Fax {fax_id} failed ({fax.get('failure_reason')}); resending.")
            resends.append(
                {
                    "to": fax["to"],
                    "media_url": fax.get("media_url"),
                    "media_name": fax.get("media_name"),
                    "from_number": fax.get("from"),
                    "client_state": base64.b64encode(json.dumps({"resend_of": fax_id}).encode()).decode(),
                    "poll_interval": float(params["poll_interval"]),
                }
            )
        return resends

    SendFaxOperator.partial(
        task_id="resend",
        # Adopt whatever this task instance already sent, even a failed fax: each failure is resent once.
        resend_policy="never",
        wait_for_completion=True,
        deferrable=True,
        retries=1,
    ).expand_kwargs(faxes_to_resend())
