"""
Scheduled inbound faxes: every hour, wait (in the triggerer) for faxes received since the last interval began.

What it shows:

* ``InboundFaxSensor`` in deferrable mode: one look on the worker, then the wait moves to the triggerer;
  it succeeds once at least one fax to the ``to`` param (empty: any number on the account) has been
  received since the data interval start, and returns those fax records (every list page walked);
* ``DownloadFaxOperator`` mapped over the returned faxes, storing each under the storage root; a fax
  already stored by an earlier run is skipped, so overlapping windows are harmless;
* a downstream task receiving the stored paths.

The storage root comes from the ``storage_root`` param, else the Airflow Variable
``telnyx_fax_storage_root``, else ``$AIRFLOW_HOME/fax_inbox``. If no fax arrives within the
sensor's ``timeout`` (55 minutes), the run is skipped (``soft_fail``) rather than failed.

Try it against the local emulator::

    airflow dags test example_fax_inbound_scheduled -c '{"to": "+15550199999"}'
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_telnyx_fax.operators.inbound import DownloadFaxOperator
from airflow_provider_telnyx_fax.sensors.inbound import InboundFaxSensor

DEFAULT_ROOT = str(Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow")) / "fax_inbox")
STORAGE_ROOT = (
    "{{ (params.storage_root or var.value.get('telnyx_fax_storage_root', '" + DEFAULT_ROOT + "')).rstrip('/') }}/"
)

with DAG(
    dag_id="example_fax_inbound_scheduled",
    # Data intervals, so the run at 11:00 covers 10:00-11:00 and its sensor looks back to 10:00 (with
    # "@hourly" alone, Airflow 3 gives the run an empty interval at 11:00 and would miss earlier faxes).
    schedule=CronDataIntervalTimetable("@hourly", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "to": Param("", type="string", description="The receiving number (E.164); empty for any."),
        "storage_root": Param("", type="string", description="Where faxes are stored (path or URL)."),
    },
    tags=["example", "telnyx", "fax", "inbound"],
    doc_md=__doc__,
):
    received = InboundFaxSensor(
        task_id="wait_for_faxes",
        to="{{ params.to }}",
        telnyx_conn_id="telnyx_fax_default",
        deferrable=True,
        poll_interval=60,
        timeout=55 * 60,
        soft_fail=True,
    )

    stored = DownloadFaxOperator.partial(task_id="download", path=STORAGE_ROOT).expand(
        fax_id=received.output.map(lambda fax: fax["id"])
    )

    @task
    def hand_over(results: list[dict[str, Any]]) -> list[str]:
        """Receives the stored documents' paths; your processing starts here."""
        paths = [result["path"] for result in results]
        for path in paths:
            print(f"Fax document ready at {path}")
        return paths

    hand_over(stored.output)
