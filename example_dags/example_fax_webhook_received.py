"""
Webhook-driven inbound faxes: Telnyx tells Airflow a fax arrived, and this DAG stores it. No polling.

What it shows:

* ``schedule=[fax_asset("received")]``: the asset ``telnyx-fax://telnyx_fax_default/received``, which the
  provider's api-server plugin updates once per signed ``fax.received`` webhook Telnyx posts to
  ``/telnyx-fax/webhooks/telnyx_fax_default`` (see docs/webhooks.md). Nothing asks Telnyx whether a fax
  arrived: the only API calls are the download's;
* a task reading the fax ids from the run's triggering asset events. Events close together may be merged
  into one run (Airflow queues asset events per DAG until a run is created), so the ids are a list;
* ``DownloadFaxOperator`` mapped over them: each fax stored once under the storage root (an expired media
  link is refreshed; a fax already stored is skipped, so a rerun costs nothing).

The storage root comes from the ``storage_root`` param, else the Airflow Variable ``telnyx_fax_storage_root``,
else ``$AIRFLOW_HOME/fax_inbox``; any ``ObjectStoragePath`` URL works (``s3://bucket/faxes``).

Try the tasks without a webhook, against the local emulator::

    airflow dags test example_fax_webhook_received -c '{"fax_ids": ["<id of a received fax>"]}'
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_telnyx_fax.assets import fax_asset
from airflow_provider_telnyx_fax.operators.inbound import DownloadFaxOperator

DEFAULT_ROOT = str(Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow")) / "fax_inbox")
STORAGE_ROOT = (
    "{{ (params.storage_root or var.value.get('telnyx_fax_storage_root', '" + DEFAULT_ROOT + "')).rstrip('/') }}/"
)
FAX_RECEIVED = fax_asset("received", "telnyx_fax_default")

with DAG(
    dag_id="example_fax_webhook_received",
    schedule=[FAX_RECEIVED],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "storage_root": Param("", type="string", description="Where faxes are stored (path or URL)."),
        "fax_ids": Param([], type="array", description="For manual runs: fax ids to store."),
    },
    tags=["example", "telnyx", "fax", "inbound", "webhooks"],
    doc_md=__doc__,
):

    @task
    def received_fax_ids(triggering_asset_events: Any = None, params: Any = None) -> list[str]:
        """Every fax whose arrival is among this run's asset events (or the ``fax_ids`` param), each once."""
        ids = [
            str(event.extra["fax_id"])
            for events in (triggering_asset_events or {}).values()
            for event in events
            if event.extra.get("event_type") == "fax.received" and event.extra.get("fax_id")
        ]
        ids += list(params["fax_ids"]) if params else []
        print(f"{len(ids)} received fax(es) in this run.")
        return list(dict.fromkeys(ids))

    stored = DownloadFaxOperator.partial(task_id="download", path=STORAGE_ROOT).expand(fax_id=received_fax_ids())

    @task
    def hand_over(results: list[dict[str, Any]]) -> list[str]:
        """Receives the stored documents' paths; your processing starts here."""
        paths = [result["path"] for result in results]
        for path in paths:
            print(f"Fax document ready at {path}")
        return paths

    hand_over(stored.output)
