"""
Resend failed faxes, once each: find a day's outbound faxes that failed for a retryable reason, send them again.

What it shows:

* ``TelnyxFaxHook.list_faxes`` over the run's data interval and ``classify_failure`` from the provider's
  failure-reason table: a busy line or a dropped call is worth another try, a wrong number or an unreadable
  document is not (override with the params ``retryable_reasons`` / ``permanent_reasons``);
* a mapped ``SendFaxOperator`` (``expand_kwargs``), one task per fax to resend, with the same destination and
  document (``media_url``, or ``media_name`` for an uploaded file) as the failed fax, waiting for the outcome
  in the triggerer.

Never twice, however often it runs:

* each resend carries the original fax id in its ``client_state`` (inside the provider's send key), and a fax
  that this DAG already resent (in any run) is not picked again, so a rerun of a day, a second
  ``airflow dags test`` of the same date or an overlapping backfill finds nothing left to send;
* faxes sent by this DAG are never candidates themselves (the send key names the DAG), so a resend that
  fails again is not resent by the next day's run: failing twice needs a person to look at it;
* within one run, the send key (dag, task, run, map index, destination, document) plus
  ``resend_policy="never"`` make a retried or cleared task adopt the fax it already sent, even if it failed;
  the list is sorted by creation time and id, so map indexes are stable when the task list is rebuilt;
* a failed fax that was already redialled successfully by someone else (for example by the original
  ``SendFaxOperator``'s own retries, which carry the same send key, or any later fax of the same document to
  the same number that was delivered or is in flight) is skipped.

A scheduled or backfill run covers its data interval, one day. A manual run (``airflow dags test``,
``airflow dags trigger``) has an empty data interval, so it covers the calendar day (UTC) of its logical date.

Command lines::

    airflow dags test example_fax_resend_failed 2026-01-05
    airflow backfill create --dag-id example_fax_resend_failed --from-date 2026-01-01 --to-date 2026-01-07

Telnyx keeps uploaded media for a limited time: a fax sent by ``media_name`` can only be resent while that
media still exists.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import DAG, Param, get_current_context, task

from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator

if TYPE_CHECKING:
    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

DAG_ID = "example_fax_resend_failed"


def resend_marker(fax_id: str) -> str:
    """The ``client_state`` (base64, as Telnyx wants it) naming the fax a resend replaces."""
    return base64.b64encode(json.dumps({"resend_of": fax_id}).encode()).decode()


def resent_fax_id(client_state: str | None) -> str | None:
    """The original fax id a resend sent by this DAG carries, or ``None`` for any other fax."""
    from airflow_provider_telnyx_fax.idempotency import decode_client_state, user_client_state

    state = decode_client_state(client_state)
    if state is None or state.get("dag") != DAG_ID:
        return None
    try:
        return str(json.loads(base64.b64decode(user_client_state(client_state) or ""))["resend_of"])
    except (ValueError, KeyError, TypeError):
        return None


def sent_by_this_dag(fax: dict[str, Any]) -> bool:
    from airflow_provider_telnyx_fax.idempotency import decode_client_state

    state = decode_client_state(fax.get("client_state"))
    return state is not None and state.get("dag") == DAG_ID


def document_of(fax: dict[str, Any]) -> tuple[str | None, str | None]:
    return fax.get("media_url"), fax.get("media_name")


def send_key_of(fax: dict[str, Any]) -> str | None:
    from airflow_provider_telnyx_fax.idempotency import decode_client_state

    state = decode_client_state(fax.get("client_state"))
    return str(state["key"]) if state else None


def already_handled(hook: TelnyxFaxHook, failed: dict[str, Any]) -> str | None:
    """Why ``failed`` needs no resend (this DAG resent it, or a later fax superseded it), or ``None``."""
    later = hook.list_faxes(direction="outbound", to=failed["to"], created_at_gt=failed["created_at"])
    for fax in later:
        if fax["id"] == failed["id"]:
            continue
        if resent_fax_id(fax.get("client_state")) == failed["id"]:
            return f"already resent as fax {fax['id']} ({fax['status']})"
        if sent_by_this_dag(fax) or fax["status"] == "failed":
            continue
        same_key = send_key_of(fax) is not None and send_key_of(fax) == send_key_of(failed)
        if same_key or document_of(fax) == document_of(failed):
            return f"superseded by fax {fax['id']} ({fax['status']})"
    return None


with DAG(
    dag_id=DAG_ID,
    description="Resend, once, the faxes of a day that failed for a retryable reason",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    params={
        "retryable_reasons": Param([], type="array", items={"type": "string"}, description="Also retryable"),
        "permanent_reasons": Param([], type="array", items={"type": "string"}, description="Also permanent"),
        "max_resends": Param(100, type="integer", minimum=0, description="At most this many resends per run"),
        "poll_interval": Param(15, type="number", minimum=0.1, description="Seconds between status checks"),
    },
    tags=["example", "telnyx", "fax"],
) as dag:

    @task
    def find_failed_faxes(params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The day's retryable failures not yet resent, oldest first, as ``SendFaxOperator`` kwargs."""
        from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
        from airflow_provider_telnyx_fax.models import FailureKind, classify_failure

        assert params is not None
        context = get_current_context()
        start = context.get("data_interval_start") or context["dag_run"].run_after
        end = context.get("data_interval_end") or start
        if end <= start:
            # A manual run has an empty interval: cover the calendar day of its logical date.
            start = start.replace(hour=0, minute=0, second=0, microsecond=0)
            end = start + timedelta(days=1)
        hook = TelnyxFaxHook()
        faxes = hook.list_faxes(direction="outbound", created_at_gte=start.isoformat(), created_at_lt=end.isoformat())
        failed = [
            fax
            for fax in faxes
            if fax["status"] == "failed"
            and not sent_by_this_dag(fax)
            and classify_failure(
                fax.get("failure_reason"),
                retryable_reasons=params["retryable_reasons"],
                permanent_reasons=params["permanent_reasons"],
            )
            is FailureKind.RETRYABLE
        ]
        # Stable order, so a rebuilt list gives each fax the same map index (part of its send key).
        failed.sort(key=lambda fax: (str(fax["created_at"]), str(fax["id"])))
        print(f"{len(failed)} faxes failed for a retryable reason between {start} and {end}.")

        resends: list[dict[str, Any]] = []
        chosen: set[tuple[str, str | None, str | None]] = set()
        for fax in failed:
            media_url, media_name = document_of(fax)
            identity = (fax["to"], media_url, media_name)
            if not media_url and not media_name:
                print(f"Fax {fax['id']} to {fax['to']}: no media_url or media_name to resend; skipped.")
                continue
            if identity in chosen:
                print(f"Fax {fax['id']} to {fax['to']}: the same document is already in this run's list; skipped.")
                continue
            reason = already_handled(hook, fax)
            if reason:
                print(f"Fax {fax['id']} to {fax['to']}: {reason}; skipped.")
                continue
            chosen.add(identity)
            print(f"Fax {fax['id']} to {fax['to']} failed ({fax.get('failure_reason')}); resending.")
            resends.append(
                {
                    "to": fax["to"],
                    "media_url": media_url,
                    "media_name": media_name,
                    "from_number": fax.get("from"),
                    "client_state": resend_marker(fax["id"]),
                    # Mapped kwargs are resolved at run time, so a param can set a non-templated argument.
                    "poll_interval": float(params["poll_interval"]),
                }
            )
        if len(resends) > int(params["max_resends"]):
            print(f"Resending the first {params['max_resends']} of {len(resends)}; the next run takes the rest.")
        return resends[: int(params["max_resends"])]

    SendFaxOperator.partial(
        task_id="resend",
        # Adopt whatever this task instance already sent, even a failed fax: each failure is resent once.
        resend_policy="never",
        wait_for_completion=True,
        deferrable=True,
        # A retry adopts the fax this task instance already sent (resend_policy="never"): it never redials,
        # it only gets past a transient API error.
        retries=1,
    ).expand_kwargs(find_failed_faxes())
