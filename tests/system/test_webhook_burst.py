"""
A burst of signed webhooks against a real api-server: every distinct event recorded once, none answered 5xx.

Issue #25 measured 1 % of a burst lost on SQLite: answered 500 after seconds of "database is locked", never
recorded, and Telnyx does not send such an event to the primary URL again. Here the api-server runs with two
workers next to a scheduler and a dag-processor (the writers a deployment has) and a DAG scheduled on the
received asset; 1,000 distinct ``fax.received`` events, signed with the connection's key, are posted 50 at a
time. The latencies are printed for docs/webhooks.md, not asserted: the shared CI machine decides them.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.support.airflow_processes import (
    AirflowDB,
    api_server_healthy,
    migrate,
    real_airflow_env,
    start_component,
    stop_groups,
    wait_until,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytest.importorskip("airflow.models.asset_state_store", reason="counts the seen ids in Airflow 3.3's asset state store")

CONN_ID = "telnyx_fax_default"
RECEIVED = f"telnyx-fax://{CONN_ID}/received"
EVENTS = 1_000
CONCURRENCY = 50
DAG_ON_RECEIVED = """
from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

from airflow_provider_telnyx_fax.assets import fax_asset

RECEIVED = fax_asset("received", "telnyx_fax_default")

with DAG("burst_received", schedule=[RECEIVED], start_date=datetime(2026, 1, 1), max_active_runs=1):
    EmptyOperator(task_id="noted")
"""


class Deployment:
    def __init__(self, env: dict[str, str], db: AirflowDB, logs: Path, signer: Any) -> None:
        self.env, self.db, self.logs, self.signer = env, db, logs, signer
        self.route = f"{env['AIRFLOW__API__BASE_URL']}/telnyx-fax/webhooks/{CONN_ID}"

    def count(self, sql: str) -> int:
        ((count,),) = self.db.query(sql, uri=RECEIVED)
        return int(count)

    def has_asset(self) -> bool:
        return self.count("SELECT COUNT(*) FROM asset a JOIN asset_active b ON a.uri = b.uri WHERE a.uri = :uri") > 0


@pytest.fixture(params=["sqlite", "postgresql"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    from telnyx_fax_emulator.webhooks import WebhookSigner

    database: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        postgres_url = ""
        if request.param == "postgresql":
            from tests.support.services import running_postgres

            postgres_url = stack.enter_context(running_postgres()).url()
            database["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = postgres_url
        dags = tmp_path / "dags"
        dags.mkdir()
        (dags / "burst_received.py").write_text(DAG_ON_RECEIVED)
        home = tmp_path / "airflow-home"
        signer = WebhookSigner()
        env = real_airflow_env(
            home,
            json.dumps(
                {
                    "conn_type": "telnyx_fax",
                    "host": "http://127.0.0.1:9/v2",
                    "password": "KEYnotused",
                    "extra": {"connection_id": "1234567890", "public_key": signer.public_key},
                }
            ),
            AIRFLOW__CORE__DAGS_FOLDER=str(dags),
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
            AIRFLOW__API__WORKERS="2",
            AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
            **database,
        )
        migrate(env)
        logs = home / "component-logs"
        db = AirflowDB(postgres_url or home / "airflow.db")
        components = ("api-server", "dag-processor", "scheduler")
        processes = [start_component(env, [name], logs / f"{name}.log") for name in components]
        try:
            ready = Deployment(env, db, logs, signer)
            wait_until(lambda: api_server_healthy(env["AIRFLOW__API__BASE_URL"]), 180, "the api-server", logs)
            wait_until(ready.has_asset, 180, "the received asset to be declared", logs)
            yield ready
        finally:
            stop_groups(processes)
            db.engine.dispose()


def signed_event(signer: Any) -> tuple[str, bytes, dict[str, str]]:
    event_id = str(uuid.uuid4())
    body = json.dumps(
        {
            "data": {
                "event_type": "fax.received",
                "id": event_id,
                "occurred_at": "2026-01-05T10:00:00.000000Z",
                "payload": {
                    "fax_id": str(uuid.uuid4()),
                    "connection_id": "1234567890",
                    "direction": "inbound",
                    "from": "+15550177000",
                    "to": "+15550142000",
                    "status": "received",
                    "page_count": 1,
                },
                "record_type": "event",
            },
            "meta": {"attempt": 1, "delivered_to": "burst"},
        }
    ).encode()
    return event_id, body, signer.headers(body)


def test_a_burst_of_distinct_events_is_recorded_once_each_and_none_is_answered_5xx(deployment: Deployment):
    events = [signed_event(deployment.signer) for _ in range(EVENTS)]
    sessions: dict[int, requests.Session] = {}

    def deliver(event: tuple[str, bytes, dict[str, str]]) -> tuple[str, int, str, float]:
        session = sessions.setdefault(threading.get_ident(), requests.Session())
        event_id, body, headers = event
        started = time.perf_counter()
        answer = session.post(deployment.route, data=body, headers=headers, timeout=60)
        elapsed = time.perf_counter() - started
        outcome = answer.json().get("outcome", "") if answer.headers.get("content-type") == "application/json" else ""
        return event_id, answer.status_code, outcome, elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = list(pool.map(deliver, events))
    wall = time.perf_counter() - started

    latencies = sorted(elapsed for *_, elapsed in answers)
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"\n{deployment.env.get('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', '').split(':')[0]}: {EVENTS} events, "
        f"{CONCURRENCY} at a time, {wall:.1f} s: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    not_recorded = [(status, outcome) for _, status, outcome, _ in answers if (status, outcome) != (200, "recorded")]
    assert not_recorded == [], not_recorded[:10]
    recorded_ids = [
        json.loads(extra)["event_id"] if isinstance(extra, str) else extra["event_id"]
        for (extra,) in deployment.db.query(
            "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.uri = :uri", uri=RECEIVED
        )
    ]
    assert sorted(recorded_ids) == sorted(event_id for event_id, *_ in events)
    seen = deployment.count(
        "SELECT COUNT(*) FROM asset_state_store s JOIN asset a ON a.id = s.asset_id"
        " WHERE a.uri = :uri AND s.key LIKE 'telnyx_fax.webhook_event.%'"
    )
    assert seen == EVENTS
    api_log = (deployment.logs / "api-server.log").read_text(errors="replace")
    assert "response already started" not in api_log
