"""DAGs the inbound tests run with ``dag.test()`` against the emulator; numbers and windows come from params."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_telnyx_fax.operators.inbound import DownloadFaxOperator
from airflow_provider_telnyx_fax.sensors.inbound import InboundFaxSensor

PARAMS = {"to": "", "since": "", "root": "/tmp/telnyx-fax-inbound-tests/"}

with DAG("inbound_sensor_deferred", schedule=None, start_date=datetime(2026, 1, 1), params=PARAMS, catchup=False):
    InboundFaxSensor(
        task_id="wait_for_faxes",
        to="{{ params.to }}",
        since="{{ params.since }}",
        deferrable=True,
        poll_interval=0.1,
        page_size=2,
        timeout=30,
    )

with DAG("inbound_sensor_then_download", schedule=None, start_date=datetime(2026, 1, 1), params=PARAMS, catchup=False):
    faxes = InboundFaxSensor(
        task_id="wait_for_faxes",
        to="{{ params.to }}",
        since="{{ params.since }}",
        deferrable=True,
        poll_interval=0.1,
        timeout=30,
    )
    DownloadFaxOperator.partial(task_id="download", path="{{ params.root }}").expand(
        fax_id=faxes.output.map(lambda fax: fax["id"])
    )
