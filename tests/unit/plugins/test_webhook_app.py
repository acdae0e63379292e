"""The webhook route in process (FastAPI's TestClient, and a real uvicorn for body limits) on a real metadata DB."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_provider_telnyx_fax.plugins import pruning, recording
from airflow_provider_telnyx_fax.plugins.telnyx_fax import URL_PREFIX, LazyWebhookApp
from tests.unit.plugins.conftest import (
    CONN_ID,
    DELIVERED_URI,
    FAILED_URI,
    RECEIVED_URI,
    asset_events,
    encode,
    fax_event,
    seen_event_rows,
    signed_headers,
)

# These tests read the de-duplication record in Airflow 3.3's asset state store. On 3.2 (the minimum lane)
# the route falls back to searching the asset's recent events, which SQLite cannot lock against a
# concurrent delivery of the same event; see docs/webhooks.md.
pytest.importorskip("airflow.models.asset_state_store", reason="needs Airflow 3.3's asset state store")

ROUTE = f"{URL_PREFIX}/webhooks/{CONN_ID}"


@pytest.fixture
def client(webhook_connection: str, assets: Any) -> TestClient:
    """The plugin's app mounted the way the api-server mounts it, behind the lazy ASGI wrapper."""
    root = FastAPI()
    root.mount(URL_PREFIX, LazyWebhookApp())
    assets(RECEIVED_URI, FAILED_URI, DELIVERED_URI)
    return TestClient(root)


def post(client: TestClient, body: bytes, headers: dict[str, str], route: str = ROUTE) -> Any:
    return client.post(route, content=body, headers=headers)


class TestVerifiedEvents:
    def test_a_received_fax_becomes_one_asset_event_with_masked_numbers_and_no_media_url(self, client, signer):
        event = fax_event("fax.received")
        body = encode(event)

        answer = post(client, body, signed_headers(signer, body))

        assert answer.status_code == 200, answer.text
        assert answer.json()["outcome"] == "recorded"
        (extra,) = asset_events(RECEIVED_URI)
        payload = event["data"]["payload"]
        assert extra == {
            "event_id": event["data"]["id"],
            "event_type": "fax.received",
            "occurred_at": "2026-01-05T10:00:00.000000Z",
            "telnyx_conn_id": CONN_ID,
            "fax_id": payload["fax_id"],
            "direction": "inbound",
            "status": "received",
            "failure_reason": None,
            "page_count": 2,
            "from": "+1•••••7000",
            "to": "+1•••••2000",
        }
        stored = json.dumps(extra)
        assert "secret-token" not in stored
        assert "media" not in stored
        assert "+15550177000" not in stored
        assert "+15550142000" not in stored
        assert "+15550177000" not in answer.text

    def test_a_failed_outbound_fax_goes_to_the_failed_asset(self, client, signer):
        body = encode(fax_event("fax.failed", failure_reason="user_busy"))

        assert post(client, body, signed_headers(signer, body)).status_code == 200

        (extra,) = asset_events(FAILED_URI)
        assert (extra["direction"], extra["status"], extra["failure_reason"]) == ("outbound", "failed", "user_busy")
        assert asset_events(RECEIVED_URI) == []

    def test_a_delivered_fax_goes_to_the_delivered_asset(self, client, signer):
        body = encode(fax_event("fax.delivered", page_count=3))

        assert post(client, body, signed_headers(signer, body)).status_code == 200

        assert [extra["page_count"] for extra in asset_events(DELIVERED_URI)] == [3]

    @pytest.mark.parametrize("event_type", ["fax.queued", "fax.sending.started", "fax.receiving.started"])
    def test_in_between_events_are_accepted_and_record_nothing(self, client, signer, event_type):
        body = encode(fax_event(event_type))

        answer = post(client, body, signed_headers(signer, body))

        assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored")
        assert asset_events(RECEIVED_URI) == asset_events(FAILED_URI) == asset_events(DELIVERED_URI) == []

    def test_an_asset_no_dag_declares_is_not_created(self, webhook_connection, assets, signer):
        client = TestClient(LazyWebhookApp())
        body = encode(fax_event("fax.received"))

        answer = post(client, body, signed_headers(signer, body), route=f"/webhooks/{CONN_ID}")

        assert (answer.status_code, answer.json()["outcome"]) == (200, "no_asset")
        assert asset_events(RECEIVED_URI) == []

    def test_asset_names_follow_the_configuration(self, client, signer, assets, monkeypatch):
        monkeypatch.setenv("AIRFLOW__TELNYX_FAX__WEBHOOK_RECEIVED_ASSET", "telnyx-fax://inbox/{conn_id}")
        assets("telnyx-fax://inbox/telnyx_fax_default")
        body = encode(fax_event("fax.received"))

        answer = post(client, body, signed_headers(signer, body))

        assert answer.json()["asset_uri"] == "telnyx-fax://inbox/telnyx_fax_default"
        assert len(asset_events("telnyx-fax://inbox/telnyx_fax_default")) == 1
        assert asset_events(RECEIVED_URI) == []


class TestExactlyOnce:
    def test_the_same_delivery_twice_records_one_asset_event(self, client, signer):
        body = encode(fax_event("fax.received"))
        headers = signed_headers(signer, body)

        first, second = post(client, body, headers), post(client, body, headers)

        assert (first.status_code, first.json()["outcome"]) == (200, "recorded")
        # 2xx for the duplicate too: Telnyx must stop redelivering it.
        assert (second.status_code, second.json()["outcome"]) == (200, "duplicate")
        assert len(asset_events(RECEIVED_URI)) == 1

    def test_a_redelivery_to_the_failover_url_signed_anew_records_nothing_new(self, client, signer):
        event = fax_event("fax.received")
        first = encode(event)
        event["meta"] = {"attempt": 2, "delivered_to": "http://failover.example/telnyx-fax/webhooks/telnyx_fax_default"}
        again = encode(event)

        assert post(client, first, signed_headers(signer, first, age=30)).json()["outcome"] == "recorded"
        assert post(client, again, signed_headers(signer, again)).json()["outcome"] == "duplicate"
        assert len(asset_events(RECEIVED_URI)) == 1

    def test_concurrent_deliveries_of_one_event_record_it_once(self, client, signer):
        body = encode(fax_event("fax.received"))
        headers = signed_headers(signer, body)
        outcomes: list[str] = []

        def deliver() -> None:
            outcomes.append(post(client, body, headers).json()["outcome"])

        threads = [threading.Thread(target=deliver) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(outcomes) == ["duplicate", "duplicate", "duplicate", "recorded"]
        assert len(asset_events(RECEIVED_URI)) == 1

    def test_the_record_of_seen_ids_is_bounded_and_keeps_the_newest(self, client, signer, monkeypatch):
        monkeypatch.setenv("AIRFLOW__TELNYX_FAX__WEBHOOK_SEEN_EVENT_IDS", "3")
        monkeypatch.setattr(pruning, "schedule", pruning.PruneSchedule(every=1))
        events = [fax_event("fax.received") for _ in range(5)]
        for event in events:
            body = encode(event)
            assert post(client, body, signed_headers(signer, body)).json()["outcome"] == "recorded"
            time.sleep(0.01)

        rows = seen_event_rows(RECEIVED_URI)
        assert sorted(rows) == sorted(recording.SEEN_KEY_PREFIX + event["data"]["id"] for event in events[-3:])
        newest = encode(events[-1])
        assert post(client, newest, signed_headers(signer, newest)).json()["outcome"] == "duplicate"

    def test_without_an_asset_state_store_the_asset_events_are_the_record(self, client, signer, monkeypatch):
        # Airflow 3.2 has no asset state store; the same guarantee then rests on the asset's own events.
        monkeypatch.setattr(recording, "_state_store_model", lambda: None)
        body = encode(fax_event("fax.received"))

        outcomes = [post(client, body, signed_headers(signer, body)).json()["outcome"] for _ in range(2)]

        assert outcomes == ["recorded", "duplicate"]
        assert len(asset_events(RECEIVED_URI)) == 1
        assert seen_event_rows(RECEIVED_URI) == []


class TestUnrecordable:
    """An event the database cannot take now: a clean 503 Telnyx sends on to the failover URL, nothing half done."""

    def test_a_lock_that_outlasts_the_budget_is_answered_503_and_logged_without_numbers(
        self, client, signer, failing_statements, monkeypatch, caplog
    ):
        monkeypatch.setattr(recording, "RECORD_BUDGET_SECONDS", 0.3)
        failing_statements("INSERT INTO asset_state_store")
        event = fax_event("fax.received")
        body = encode(event)

        answer = post(client, body, signed_headers(signer, body))

        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "1"
        assert answer.json() == {"detail": "The event could not be recorded now.", "event_id": event["data"]["id"]}
        assert asset_events(RECEIVED_URI) == []
        (logged,) = [record for record in caplog.records if "answered 503" in record.getMessage()]
        assert event["data"]["payload"]["fax_id"] in logged.getMessage()
        assert "+15550177000" not in caplog.text
        assert "+15550142000" not in caplog.text

    def test_the_same_event_is_recorded_once_the_database_is_free(self, client, signer, failing_statements):
        failing_statements("INSERT INTO asset_state_store", times=5)
        body = encode(fax_event("fax.received"))

        answer = post(client, body, signed_headers(signer, body))

        assert (answer.status_code, answer.json()["outcome"]) == (200, "recorded")
        assert len(asset_events(RECEIVED_URI)) == 1

    def test_an_error_escaping_the_route_is_answered_inside_the_api_server_not_raised_into_it(
        self, webhook_connection, assets, signer, monkeypatch
    ):
        # The api-server's own handlers for database errors, around the plugin's mount, as in production: an error
        # that reached them after the plugin had answered became "response already started" and a broken answer.
        from airflow.api_fastapi.common.exceptions import init_error_handlers
        from sqlalchemy.exc import OperationalError

        from airflow_provider_telnyx_fax.plugins import webhook_app

        def broken(*args, **kwargs):
            raise OperationalError("SELECT 1", None, Exception("server closed the connection unexpectedly"))

        monkeypatch.setattr(webhook_app, "record_fax_event", broken)
        root = FastAPI()
        init_error_handlers(root)
        root.mount(URL_PREFIX, LazyWebhookApp())
        assets(RECEIVED_URI)
        body = encode(fax_event("fax.received"))

        answer = post(TestClient(root), body, signed_headers(signer, body))

        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "1"
        assert "server closed" not in answer.text


class TestRefusals:
    """Anything not provably from Telnyx: 4xx, and nothing in the database."""

    @pytest.fixture(autouse=True)
    def nothing_recorded(self, client):
        yield
        assert asset_events(RECEIVED_URI) == []
        assert seen_event_rows(RECEIVED_URI) == []

    def test_unsigned(self, client):
        answer = post(client, encode(fax_event()), {"content-type": "application/json"})

        assert (answer.status_code, answer.json()["detail"]) == (400, "WebhookHeaderError")

    def test_tampered_body(self, client, signer):
        body = encode(fax_event())
        headers = signed_headers(signer, body)

        answer = post(client, body.replace(b"+15550177000", b"+15550177001"), headers)

        assert (answer.status_code, answer.json()["detail"]) == (401, "WebhookSignatureError")

    def test_stale(self, client, signer):
        body = encode(fax_event())

        answer = post(client, body, signed_headers(signer, body, age=301))

        assert (answer.status_code, answer.json()["detail"]) == (401, "WebhookTimestampError")

    def test_wrong_key(self, client):
        from telnyx_fax_emulator.webhooks import WebhookSigner

        body = encode(fax_event())

        answer = post(client, body, signed_headers(WebhookSigner(), body))

        assert (answer.status_code, answer.json()["detail"]) == (401, "WebhookSignatureError")

    def test_signed_but_not_an_event(self, client, signer):
        body = b'{"data": {"event_type": "fax.received", "payload": {}}}'

        answer = post(client, body, signed_headers(signer, body))

        assert (answer.status_code, answer.json()["detail"]) == (400, "FaxEventError")

    @pytest.mark.parametrize(
        "connection",
        [
            None,
            {"conn_type": "telnyx_fax", "host": "http://127.0.0.1:9/v2", "extra": {"connection_id": "1"}},
            {"conn_type": "http", "host": "http://127.0.0.1:9", "extra": {"public_key": "PLACEHOLDER"}},
        ],
        ids=["no-connection", "no-public-key", "not-a-telnyx-connection"],
    )
    def test_a_connection_that_cannot_vouch(self, client, signer, monkeypatch, connection):
        other = "telnyx_fax_other"
        if connection is not None:
            connection["extra"] = {
                k: signer.public_key if v == "PLACEHOLDER" else v for k, v in connection["extra"].items()
            }
            monkeypatch.setenv(f"AIRFLOW_CONN_{other.upper()}", json.dumps(connection))
        body = encode(fax_event())

        answer = post(client, body, signed_headers(signer, body), route=f"{URL_PREFIX}/webhooks/{other}")

        assert answer.status_code == 401
        assert signer.public_key not in answer.text


@pytest.fixture
def uvicorn_url(webhook_connection: str, assets: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app on a real uvicorn (a body is refused while it is still arriving), 1 KiB body cap."""
    import uvicorn

    monkeypatch.setenv("AIRFLOW__TELNYX_FAX__WEBHOOK_MAX_BODY_BYTES", "1024")
    assets(RECEIVED_URI)
    root = FastAPI()
    root.mount(URL_PREFIX, LazyWebhookApp())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(root, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(10)


def raw_request(port: int, head: str, first_bytes: bytes) -> bytes:
    """Send a request head and only the start of its body, then read whatever answer comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + first_bytes)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        return answer


class TestBodyLimit:
    def test_a_declared_oversized_body_is_refused_before_it_is_sent(self, uvicorn_url):
        head = (
            f"POST {ROUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {50 * 1024 * 1024}\r\n\r\n"
        )

        # Only 100 of the announced 50 MiB are ever sent: the answer cannot have waited for the rest.
        answer = raw_request(uvicorn_url, head, b"x" * 100)

        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert asset_events(RECEIVED_URI) == []

    def test_a_chunked_body_is_cut_off_once_it_passes_the_cap(self, uvicorn_url):
        head = f"POST {ROUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunk = b"x" * 800
        # Two chunks (1600 bytes) pass the 1 KiB cap; the terminating chunk is never sent.
        two_chunks = b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(2))

        answer = raw_request(uvicorn_url, head, two_chunks)

        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]

    def test_a_body_within_the_cap_is_read_whole_and_verified(self, uvicorn_url, signer):
        import requests

        body = encode(fax_event("fax.received"))
        assert len(body) < 1024

        answer = requests.post(
            f"http://127.0.0.1:{uvicorn_url}{ROUTE}", data=body, headers=signed_headers(signer, body), timeout=10
        )

        assert (answer.status_code, answer.json()["outcome"]) == (200, "recorded")
