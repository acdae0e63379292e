"""
Real Airflow processes, the emulator posting signed webhooks to the plugin route, and nothing polled.

One deployment for the module (api-server, scheduler, dag-processor, triggerer on a fresh home and
SQLite database) with the two webhook example DAGs, and one emulator whose application webhook URL
is the api-server's ``/telnyx-fax/webhooks/telnyx_fax_default``. The emulator signs with a key this
module generated, so the tests can also re-sign a captured event (a redelivery) or forge one.
The cases run in file order against the same deployment and count from where the previous left off.
"""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.support.airflow_processes import (
    EXAMPLE_DAGS,
    AirflowDB,
    api_server_healthy,
    migrate,
    real_airflow_env,
    running_components,
    wait_until,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

CONN_ID = "telnyx_fax_default"
RECEIVED_DAG = "example_fax_webhook_received"
FAILED_DAG = "example_fax_webhook_failed"
RECEIVED = f"telnyx-fax://{CONN_ID}/received"
FAILED = f"telnyx-fax://{CONN_ID}/failed"
SENDER = "+15550177000"
BUSY_ONCE = "+15550100010"


class Deployment:
    """The running deployment: its env, database, logs, the emulator and the route's URL."""

    def __init__(self, env: dict[str, str], home: Path, emulator: Any, signer: Any, route: str) -> None:
        self.env, self.home, self.emulator, self.signer, self.route = env, home, emulator, signer, route
        self.logs = home / "component-logs"
        self.db = AirflowDB(home / "airflow.db")

    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        from sqlalchemy.exc import OperationalError

        try:
            return self.db.query(sql, **params)
        except OperationalError:  # the tables are not there until the migration is done
            return []

    def asset_events(self, uri: str) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.uri = :uri ORDER BY e.id",
            uri=uri,
        )
        return [json.loads(extra) for (extra,) in rows]

    def runs(self, dag_id: str) -> list[tuple[str, str]]:
        return [(run_id, state) for run_id, state in self.query(
            "SELECT run_id, state FROM dag_run WHERE dag_id = :dag_id ORDER BY id", dag_id=dag_id
        )]  # fmt: skip

    def queued_runs(self, dag_id: str) -> int:
        """Asset changes waiting for the scheduler to start a run of ``dag_id``."""
        sql = "SELECT COUNT(*) FROM asset_dag_run_queue WHERE target_dag_id = :dag_id"
        ((count,),) = self.query(sql, dag_id=dag_id)
        return int(count)

    def has_asset(self, uri: str) -> bool:
        return bool(
            self.query("SELECT 1 FROM asset a JOIN asset_active b ON a.uri = b.uri WHERE a.uri = :uri", uri=uri)
        )

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = 180) -> Any:
        return wait_until(condition, timeout, what, self.logs)

    def post(self, body: bytes, headers: dict[str, str]) -> requests.Response:
        return requests.post(self.route, data=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from telnyx_fax_emulator.launcher import start_emulator
    from telnyx_fax_emulator.webhooks import WebhookSigner

    root = tmp_path_factory.mktemp("webhooks")
    dags = root / "dags"
    dags.mkdir()
    for dag_id in (RECEIVED_DAG, FAILED_DAG):
        shutil.copy(EXAMPLE_DAGS / f"{dag_id}.py", dags)
    home = root / "airflow-home"
    env = real_airflow_env(
        home,
        None,
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        # Asset-scheduled runs are created by the job schedule.
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="True",
        AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="30",
        AIRFLOW__TELNYX_FAX__WEBHOOK_MAX_BODY_BYTES="16384",
    )
    private_pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    key_file = root / "webhook-signing-key.pem"
    key_file.write_bytes(private_pem)
    signer = WebhookSigner(private_pem.decode())
    route = f"{env['AIRFLOW__API__BASE_URL']}/telnyx-fax/webhooks/{CONN_ID}"
    emulator = start_emulator(webhook_url=route, extra_args=["--webhook-private-key", str(key_file)])
    try:
        assert emulator.public_key == signer.public_key
        connection = json.loads(emulator.airflow_conn_json)
        connection["extra"]["public_key"] = emulator.public_key
        env["AIRFLOW_CONN_TELNYX_FAX_DEFAULT"] = json.dumps(connection)
        migrate(env)
        with running_components(env, home / "component-logs"):
            ready = Deployment(env, home, emulator, signer, route)
            ready.wait(lambda: api_server_healthy(env["AIRFLOW__API__BASE_URL"]), "the api-server")
            ready.wait(
                lambda: ready.has_asset(RECEIVED) and ready.has_asset(FAILED), "the webhook assets to be declared"
            )
            yield ready
    finally:
        emulator.stop()


def control_body(event: dict[str, Any], attempt: int = 1) -> bytes:
    """The webhook body the emulator sent for an event of its control view, as a redelivery carries it."""
    data = {key: event[key] for key in ("event_type", "id", "occurred_at", "payload", "record_type")}
    return json.dumps({"data": data, "meta": {"attempt": attempt, "delivered_to": "failover"}}).encode()


def test_an_inbound_fax_becomes_one_asset_event_and_one_run_that_stores_it(deployment: Deployment, sample_pdf: Path):
    emulator = deployment.emulator
    document = sample_pdf.read_bytes()

    fax = emulator.simulate_inbound(SENDER, document=document)

    (extra,) = deployment.wait(lambda: deployment.asset_events(RECEIVED), "the received asset event")
    assert extra["fax_id"] == fax["id"]
    assert (extra["event_type"], extra["direction"], extra["page_count"]) == ("fax.received", "inbound", 3)
    assert extra["from"] == "+1•••••7000"
    assert "media_url" not in extra
    runs = deployment.wait(
        lambda: [run for run in deployment.runs(RECEIVED_DAG) if run[1] in ("success", "failed")], "the DAG run"
    )
    assert [state for _, state in runs] == ["success"], (deployment.logs / "scheduler.log").read_text()[-4000:]
    stored = deployment.home / "fax_inbox" / f"{fax['id']}.pdf"
    assert stored.read_bytes() == document
    # Every webhook of the fax (receiving, processing, received) reached the route and was answered 2xx.
    deliveries = [d for event in emulator.events(fax["id"]) for d in event["deliveries"]]
    assert len(deliveries) == 3
    assert {delivery["status"] for delivery in deliveries} == {200}
    # Airflow learnt of the arrival from the webhook alone: no list call, only the download's own requests.
    api_calls = [f"{entry['method']} {entry['path']}" for entry in emulator.requests()["entries"]]
    download = {
        f"GET /v2/faxes/{fax['id']}",
        f"POST /v2/faxes/{fax['id']}/actions/refresh",  # the link lives 6 s at the emulator's speed
        f"GET /files/inbound/{fax['id']}.pdf",
    }
    assert f"GET /files/inbound/{fax['id']}.pdf" in api_calls
    assert set(api_calls) <= download, api_calls
    assert emulator.request_count("GET", "/v2/faxes") == 0


def test_a_failed_outbound_fax_becomes_one_asset_event_on_failed_and_is_resent_once(deployment: Deployment):
    emulator = deployment.emulator
    sent = requests.post(
        f"{emulator.base_url}/faxes",
        json={
            "connection_id": emulator.connection_id,
            "from": emulator.from_number,
            "to": BUSY_ONCE,
            "media_url": "https://example.com/invoice.pdf",
        },
        headers=emulator.auth_headers,
        timeout=10,
    ).json()["data"]
    emulator.wait_for_status(sent["id"], "failed")

    (extra,) = deployment.wait(lambda: deployment.asset_events(FAILED), "the failed asset event")
    assert (extra["fax_id"], extra["failure_reason"], extra["direction"]) == (sent["id"], "user_busy", "outbound")
    assert extra["to"] == "+1•••••0010"

    def resend() -> list[dict[str, Any]]:
        return [fax for fax in emulator.faxes() if fax["to"] == BUSY_ONCE and fax["id"] != sent["id"]]

    (again,) = deployment.wait(resend, "the resend")
    assert emulator.wait_for_status(again["id"], "delivered", timeout=30)["status"] == "delivered"
    assert len(deployment.runs(FAILED_DAG)) == 1
    assert len(deployment.asset_events(FAILED)) == 1


def test_the_same_event_delivered_twice_records_one_asset_event(deployment: Deployment):
    received = [event for event in deployment.emulator.events() if event["event_type"] == "fax.received"]
    (event,) = received
    runs_before = deployment.runs(RECEIVED_DAG)

    for attempt in (2, 3):
        body = control_body(event, attempt)
        answer = deployment.post(body, deployment.signer.headers(body))
        assert (answer.status_code, answer.json()["outcome"]) == (200, "duplicate")

    assert len(deployment.asset_events(RECEIVED)) == 1
    # A new run starts from a queue row written with the asset event: none queued, none coming.
    assert deployment.queued_runs(RECEIVED_DAG) == 0
    assert deployment.runs(RECEIVED_DAG) == runs_before


def test_unsigned_tampered_stale_and_wrong_key_webhooks_are_refused_and_record_nothing(deployment: Deployment):
    from telnyx_fax_emulator.webhooks import WebhookSigner

    (event,) = [event for event in deployment.emulator.events() if event["event_type"] == "fax.received"]
    fresh = dict(event, id="4c2b9f9e-0000-4000-8000-forged000001")
    body = control_body(fresh)
    signed = deployment.signer.headers(body)
    attempts = {
        "unsigned": deployment.post(body, {"content-type": "application/json"}),
        "tampered": deployment.post(body.replace(b"fax.received", b"fax.receivee"), signed),
        "stale": deployment.post(body, deployment.signer.headers(body, timestamp=int(time.time()) - 3600)),
        "wrong key": deployment.post(body, WebhookSigner().headers(body)),
    }

    assert {name: answer.status_code for name, answer in attempts.items()} == {
        "unsigned": 400,
        "tampered": 401,
        "stale": 401,
        "wrong key": 401,
    }
    assert len(deployment.asset_events(RECEIVED)) == 1


def test_an_oversized_body_is_refused_before_it_is_read_whole(deployment: Deployment):
    port = int(deployment.env["AIRFLOW__API__PORT"])
    path = deployment.route.removeprefix(f"http://127.0.0.1:{port}")
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {64 * 1024 * 1024}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # 1 KiB of the announced 64 MiB: the answer comes while the body has barely started.
        sock.sendall(head.encode() + b"{" * 1024)
        answer = sock.recv(4096)

    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert len(deployment.asset_events(RECEIVED)) == 1
