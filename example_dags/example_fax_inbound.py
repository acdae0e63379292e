"""
Event-driven inbound faxes: a DAG run for faxes that arrived, each stored once, its path handed downstream.

What it shows:

* an ``Asset`` with an ``AssetWatcher`` running ``InboundFaxEventTrigger`` in the triggerer: the DAG is
  scheduled on "a fax arrived" (``schedule=[TELNYX_FAX_INBOX]``), not on a timer. The watcher fires one
  asset event per received fax, at least once: its watermark and the ids it fired live in the asset's
  state store (Airflow 3.3), so a triggerer restart does not replay old faxes;
* a task reading the fax ids from the triggering asset events (several faxes can land in one run);
* ``DownloadFaxOperator`` mapped over them: it refreshes an expired media link, writes atomically under
  the storage root and skips a fax already stored, so a duplicate event or a rerun costs nothing;
* a downstream task receiving the stored paths (replace it with your OCR, filing or routing step).

The watcher watches every number of the ``telnyx_fax_default`` connection's account; set ``to=`` on the
trigger to watch one. The storage root comes from the ``storage_root`` param, else the Airflow Variable
``telnyx_fax_storage_root``, else ``$AIRFLOW_HOME/fax_inbox``; any ``ObjectStoragePath`` URL works
(``s3://bucket/faxes``). Set ``DELETE_AFTER_DOWNLOAD`` to remove each fax from Telnyx once it is stored.

Try the tasks without the triggerer, against the local emulator::

    airflow dags test example_fax_inbound -c '{"fax_ids": ["<id of a received fax>"]}'
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, AssetWatcher, Param, task

from airflow_provider_telnyx_fax.operators.inbound import DownloadFaxOperator
from airflow_provider_telnyx_fax.triggers.inbound import InboundFaxEventTrigger

DEFAULT_ROOT = str(Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow")) / "fax_inbox")
STORAGE_ROOT = (
    "{{ (params.storage_root or var.value.get('telnyx_fax_storage_root', '" + DEFAULT_ROOT + "')).rstrip('/') }}/"
)
# True for accounts that must not keep faxes on Telnyx: each is deleted there after a verified download.
DELETE_AFTER_DOWNLOAD = False

TELNYX_FAX_INBOX = Asset(
    "telnyx_fax_inbox",
    watchers=[
        AssetWatcher(
            name="telnyx_fax_inbox_watcher",
            trigger=InboundFaxEventTrigger(telnyx_conn_id="telnyx_fax_default", poll_interval=60),
        )
    ],
)

with DAG(
    dag_id="example_fax_inbound",
    schedule=[TELNYX_FAX_INBOX],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "storage_root": Param("", type="string", description="Where faxes are stored (path or URL)."),
        "fax_ids": Param([], type="array", description="For manual runs: fax ids to store."),
    },
    tags=["example", "telnyx", "fax", "inbound"],
    doc_md=__doc__,
):

    @task
    def received_fax_ids(triggering_asset_events: Any = None, params: Any = None) -> list[str]:
        """The ids of the faxes whose arrival triggered this run (or the ``fax_ids`` param of a manual run)."""
        ids = [
            event.extra["payload"]["fax_id"]
            for event in (triggering_asset_events or {}).get(TELNYX_FAX_INBOX, [])
            if isinstance(event.extra.get("payload"), dict)
        ]
        ids += list(params["fax_ids"]) if params else []
        return list(dict.fromkeys(ids))

    stored = DownloadFaxOperator.partial(
        task_id="download",
        path=STORAGE_ROOT,
        delete_after_download=DELETE_AFTER_DOWNLOAD,
    ).expand(fax_id=received_fax_ids())

    @task
    def hand_over(results: list[dict[str, Any]]) -> list[str]:
        """Receives the stored documents' paths; your processing starts here."""
        paths = [result["path"] for result in results]
        for path in paths:
            print(f"Fax document ready at {path}")
        return paths

    hand_over(stored.output)
