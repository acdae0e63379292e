"""Fixtures for the webhook plugin: a migrated metadata database, a signing key, assets to record on."""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

CONN_ID = "telnyx_fax_default"
RECEIVED_URI = f"telnyx-fax://{CONN_ID}/received"
FAILED_URI = f"telnyx-fax://{CONN_ID}/failed"
DELIVERED_URI = f"telnyx-fax://{CONN_ID}/delivered"


@pytest.fixture
def signer() -> Any:
    """Signs bodies exactly as Telnyx (and the emulator) does, with a key of this test's own."""
    from telnyx_fax_emulator.webhooks import WebhookSigner

    return WebhookSigner()


@pytest.fixture
def webhook_connection(monkeypatch: pytest.MonkeyPatch, signer: Any) -> str:
    """``telnyx_fax_default`` with the signer's public key in its ``public_key`` extra."""
    conn = {
        "conn_type": "telnyx_fax",
        "host": "http://127.0.0.1:9/v2",
        "password": "KEYnotused",
        "extra": {"connection_id": "1234567890", "public_key": signer.public_key},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))
    return CONN_ID


def _delete_assets(uris: list[str]) -> None:
    from airflow.models.asset import AssetActive, AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select

    with create_session() as session:
        ids = list(session.scalars(select(AssetModel.id).where(AssetModel.uri.in_(uris))))
        session.execute(delete(AssetEvent).where(AssetEvent.asset_id.in_(ids)))
        session.execute(delete(AssetActive).where(AssetActive.uri.in_(uris)))
        session.execute(delete(AssetModel).where(AssetModel.id.in_(ids)))


@pytest.fixture
def assets(airflow_db: Any) -> Callable[..., None]:
    """Declare assets in the metadata database, as the dag-processor does for a DAG scheduled on them."""
    from airflow.models.asset import AssetActive, AssetModel
    from airflow.utils.session import create_session

    created: list[str] = []

    def declare(*uris: str) -> None:
        with create_session() as session:
            for uri in uris:
                asset = AssetModel(name=uri, uri=uri, group="asset", extra={})
                session.add(asset)
                session.add(AssetActive.for_asset(asset))
                created.append(uri)

    _delete_assets([RECEIVED_URI, FAILED_URI, DELIVERED_URI, "telnyx-fax://inbox/telnyx_fax_default"])
    yield declare
    _delete_assets(created)


def asset_events(uri: str) -> list[dict[str, Any]]:
    """The ``extra`` of every asset event on ``uri``, oldest first."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = select(AssetEvent.extra).join(AssetModel, AssetModel.id == AssetEvent.asset_id)
        return [dict(extra) for extra in session.scalars(query.where(AssetModel.uri == uri).order_by(AssetEvent.id))]


def seen_event_rows(uri: str) -> list[str]:
    """The keys of the de-duplication record kept in the asset's state store."""
    from airflow.models.asset import AssetModel
    from airflow.models.asset_state_store import AssetStateStoreModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = select(AssetStateStoreModel.key).join(AssetModel, AssetModel.id == AssetStateStoreModel.asset_id)
        return list(session.scalars(query.where(AssetModel.uri == uri)))


def fax_event(event_type: str = "fax.received", *, event_id: str | None = None, **payload: Any) -> dict[str, Any]:
    """A Telnyx fax event as the emulator sends it."""
    status = {"fax.received": "received", "fax.failed": "failed", "fax.delivered": "delivered"}.get(event_type)
    body_payload = {
        "fax_id": str(uuid.uuid4()),
        "connection_id": "1234567890",
        "direction": "inbound" if event_type == "fax.received" else "outbound",
        "from": "+15550177000",
        "to": "+15550142000",
        "status": status or event_type.removeprefix("fax."),
        "user_id": str(uuid.uuid4()),
    }
    if event_type == "fax.received":
        body_payload.update(page_count=2, media_url="http://127.0.0.1:9/media/secret-token.pdf", partial_content=False)
    body_payload.update(payload)
    return {
        "data": {
            "event_type": event_type,
            "id": event_id or str(uuid.uuid4()),
            "occurred_at": "2026-01-05T10:00:00.000000Z",
            "payload": body_payload,
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "http://127.0.0.1/telnyx-fax/webhooks/telnyx_fax_default"},
    }


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def signed_headers(signer: Any, body: bytes, *, age: float = 0) -> dict[str, str]:
    return signer.headers(body, timestamp=int(time.time() - age))


@pytest.fixture
def failing_statements() -> Iterator[Callable[..., list[str]]]:
    """
    Make the metadata database fail chosen statements as a busy database does.

    ``fail("INSERT INTO asset_state_store", times=3)`` raises SQLite's "database is locked" for the first
    three such statements (``times=None``: every one); ``message=`` another driver error. Returns the
    statements that were failed.
    """
    import sqlite3

    from airflow import settings
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    failed: list[str] = []
    rules: list[dict[str, Any]] = []

    def before_cursor_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        for rule in rules:
            if statement.lstrip().upper().startswith(rule["prefix"]) and rule["left"] != 0:
                rule["left"] -= 1
                failed.append(statement)
                # As SQLAlchemy wraps the driver's error.
                raise OperationalError(statement, None, sqlite3.OperationalError(rule["message"]))

    def fail(prefix: str, *, times: int | None = None, message: str = "database is locked") -> list[str]:
        rules.append({"prefix": prefix.upper(), "left": -1 if times is None else times, "message": message})
        return failed

    event.listen(settings.engine, "before_cursor_execute", before_cursor_execute)
    yield fail
    event.remove(settings.engine, "before_cursor_execute", before_cursor_execute)


def asset_id_of(uri: str) -> int:
    from airflow.models.asset import AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return int(session.scalars(select(AssetModel.id).where(AssetModel.uri == uri)).one())


def seen_at(key: str) -> Any:
    """When the seen-id row ``key`` was written."""
    from airflow.models.asset_state_store import AssetStateStoreModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return session.scalars(select(AssetStateStoreModel.updated_at).where(AssetStateStoreModel.key == key)).one()
