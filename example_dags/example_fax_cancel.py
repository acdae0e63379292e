"""
Cancel a fax in flight: send it, cancel it while Telnyx is still dialling or sending, and show the outcome.

What it shows:

* ``SendFaxOperator`` without waiting, its fax id pushed to XCom (key ``fax_id``);
* ``CancelFaxOperator`` pulling that id from XCom; it cancels a queued or sending fax and returns the status
  it ends in. With ``fail_if_finished=False`` it also succeeds when the fax had already finished;
* a task reading the fax back from Telnyx: a cancelled fax is ``failed`` with ``failure_reason``
  ``sender_canceled``.

The default destination, ``+15550100011``, is the emulator's number that never finishes until cancelled.
With real Telnyx, pass a destination in ``conf``; only a fax that is still queued or being sent can be
cancelled.

Try it against the local emulator::

    airflow dags test example_fax_cancel -c '{"to": "+15550100011"}'
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Param, get_current_context, task

from airflow_provider_telnyx_fax.operators.fax import CancelFaxOperator, SendFaxOperator

with DAG(
    dag_id="example_fax_cancel",
    description="Send a fax, then cancel it while it is in flight",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "to": Param("+15550100011", type="string", description="Destination fax number (E.164)"),
        "media_url": Param(
            "https://www.w3.org/WAI/ER/tests/xhtml/testfiles/resources/pdf/dummy.pdf",
            type="string",
            description="URL of the document to fax",
        ),
    },
    tags=["example", "telnyx", "fax"],
) as dag:
    send = SendFaxOperator(task_id="send", to="{{ params.to }}", media_url="{{ params.media_url }}")

    cancel = CancelFaxOperator(
        task_id="cancel",
        fax_id="{{ ti.xcom_pull(task_ids='send', key='fax_id') }}",
        fail_if_finished=False,
    )

    @task
    def show_status() -> dict[str, Any]:
        """Read the fax back from Telnyx and log how it ended."""
        from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

        fax_id = get_current_context()["ti"].xcom_pull(task_ids="send", key="fax_id")
        fax = TelnyxFaxHook().get_fax(fax_id)
        outcome = {
            "fax_id": fax_id,
            "to": fax["to"],
            "status": fax["status"],
            "failure_reason": fax.get("failure_reason"),
        }
        print(f"Fax {fax_id} to {fax['to']} is {fax['status']} ({fax.get('failure_reason') or 'no failure reason'}).")
        return outcome

    send >> cancel >> show_status()
