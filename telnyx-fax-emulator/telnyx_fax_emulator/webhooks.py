"""Fax events: emitted when each planned transition comes due, delivered as signed webhooks.

Telnyx signs ``f"{timestamp}|{body}"`` with Ed25519 and sends the base64 signature in
``telnyx-signature-ed25519`` and the unix timestamp in ``telnyx-timestamp``; so does this module.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
from typing import IO, TYPE_CHECKING, Any

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from telnyx_fax_emulator.outcomes import line_secs
from telnyx_fax_emulator.state import EventRecord, isoformat

if TYPE_CHECKING:
    from collections.abc import Callable

    from telnyx_fax_emulator.outcomes import Transition
    from telnyx_fax_emulator.settings import EmulatorSettings
    from telnyx_fax_emulator.state import EmulatorStore, FaxRecord

log = logging.getLogger(__name__)

EVENT_TYPES = {
    "queued": "fax.queued",
    "media.processed": "fax.media.processed",
    "sending": "fax.sending.started",
    "delivered": "fax.delivered",
    "failed": "fax.failed",
    "receiving": "fax.receiving.started",
    "media.processing": "fax.media.processing.started",
    "received": "fax.received",
}


def load_private_key(text: str) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from PEM text or base64 of the 32 raw bytes.

    :raises ValueError: when the text is neither.
    """
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(stripped.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the PEM key is not an Ed25519 private key")
        return key
    try:
        raw = base64.b64decode(stripped, validate=True)
    except ValueError:
        raise ValueError("private key must be PEM or base64 of 32 raw bytes") from None
    if len(raw) != 32:
        raise ValueError(f"a raw Ed25519 private key has 32 bytes, got {len(raw)}")
    return Ed25519PrivateKey.from_private_bytes(raw)


class WebhookSigner:
    """Signs webhook bodies as Telnyx does.

    :param private_key: PEM or base64 raw private key; a new key pair is generated when ``None``.
    """

    def __init__(self, private_key: str | None = None) -> None:
        self._key = load_private_key(private_key) if private_key else Ed25519PrivateKey.generate()
        raw = self._key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_key = base64.b64encode(raw).decode()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._key.sign(stamp.encode() + b"|" + body)
        return {
            "content-type": "application/json",
            "telnyx-timestamp": stamp,
            "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        }


def event_payload(fax: FaxRecord, status: str, root_url: str, user_id: str) -> dict[str, Any]:
    """The event ``payload`` for a fax reaching ``status`` (fields as the webhook schemas name them)."""
    payload: dict[str, Any] = {
        "fax_id": fax.id,
        "connection_id": fax.connection_id,
        "direction": fax.direction,
        "from": fax.from_,
        "to": fax.to,
        "status": status,
        "user_id": user_id,
    }
    if fax.client_state is not None:
        payload["client_state"] = fax.client_state
    if fax.media_url is not None and fax.direction == "outbound":
        payload["original_media_url"] = fax.media_url
    if fax.media_name is not None:
        payload["media_name"] = fax.media_name
    if status == "delivered":
        payload["page_count"] = fax.page_count
        payload["call_duration_secs"] = call_duration_secs(fax.page_count)
    elif status == "failed":
        payload["failure_reason"] = fax.failure_reason
        payload["internal_failure_reason"] = fax.internal_failure_reason
    elif status == "received":
        payload["page_count"] = fax.page_count
        payload["call_duration_secs"] = call_duration_secs(fax.page_count)
        payload["media_url"] = fax.inbound_media_url(root_url)
        payload["partial_content"] = False
    return payload


def call_duration_secs(page_count: int) -> int:
    """The call's time on a real line (set-up and pages), whatever the emulator's speed: what Telnyx reports."""
    return round(line_secs(page_count))


class EventDispatcher:
    """Runs one small task per fax that emits its events on time and delivers them in order.

    :param store: where events are recorded.
    :param settings: the live settings (webhook URLs, timeout, user id).
    :param signer: signs webhook bodies.
    :param root_url: returns the emulator's root URL (for inbound media URLs in payloads).
    """

    def __init__(
        self,
        store: EmulatorStore,
        settings: EmulatorSettings,
        signer: WebhookSigner,
        root_url: Callable[[], str],
    ) -> None:
        self.store = store
        self.settings = settings
        self.signer = signer
        self.root_url = root_url
        self._session: aiohttp.ClientSession | None = None
        self._pumps: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._event_log: IO[str] | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.webhook_timeout))
        if self.settings.event_log_path:
            self._event_log = open(self.settings.event_log_path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    async def close(self) -> None:
        self.cancel_all()
        if self._session is not None:
            await self._session.close()
        if self._event_log is not None:
            self._event_log.close()

    def cancel_all(self) -> None:
        for task in [*self._pumps.values(), *self._tasks]:
            task.cancel()
        self._pumps.clear()
        self._tasks.clear()

    def schedule(self, fax: FaxRecord) -> None:
        """(Re)start the fax's event pump, e.g. after creation or after its timeline changed."""
        previous = self._pumps.pop(fax.id, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.get_running_loop().create_task(self._pump(fax))
        self._pumps[fax.id] = task
        task.add_done_callback(lambda done: self._pumps.pop(fax.id, None) if self._pumps.get(fax.id) is done else None)

    async def _pump(self, fax: FaxRecord) -> None:
        delivery: asyncio.Task[None] | None = None
        while fax.events_emitted < len(fax.timeline) and fax.deleted_at is None:
            transition = fax.timeline[fax.events_emitted]
            delay = transition.at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
                continue  # the timeline may have changed while sleeping (cancel, delete)
            # Emitting is synchronous, so a cancelled pump never emits an event twice.
            event = self._emit(fax, transition)
            fax.events_emitted += 1
            delivery = self._spawn(self._deliver(fax, event, delivery))

    def _emit(self, fax: FaxRecord, transition: Transition) -> EventRecord:
        event = EventRecord(
            id=self.store.new_id(),
            event_type=EVENT_TYPES[transition.status],
            fax_id=fax.id,
            occurred_at=transition.at,
            payload=event_payload(fax, transition.status, self.root_url(), self.settings.user_id),
        )
        self.store.add_event(event)
        self._write_log({"kind": "event", **event.data()})
        return event

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _deliver(self, fax: FaxRecord, event: EventRecord, previous: asyncio.Task[None] | None) -> None:
        # Deliveries of one fax go out in order, without holding up the pump or the API.
        if previous is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(previous)
        primary = fax.webhook_url or self.settings.webhook_url
        failover = fax.webhook_failover_url or self.settings.webhook_failover_url
        attempt = 0
        for url in (primary, failover):
            if not url:
                continue
            attempt += 1
            if await self._post(url, event, attempt):
                return

    async def _post(self, url: str, event: EventRecord, attempt: int) -> bool:
        body = json.dumps(
            {"data": event.data(), "meta": {"attempt": attempt, "delivered_to": url}}, separators=(",", ":")
        ).encode()
        record: dict[str, Any] = {"url": url, "attempt": attempt, "at": isoformat(time.time())}
        status: int | None = None
        error: str | None = None
        assert self._session is not None
        try:
            # The application's timeout may change at run time (PATCH /v2/fax_applications/{id}).
            timeout = aiohttp.ClientTimeout(total=self.settings.webhook_timeout)
            headers = self.signer.headers(body)
            async with self._session.post(url, data=body, headers=headers, timeout=timeout) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        record.update(status=status, error=error)
        event.deliveries.append(record)
        self._write_log({"kind": "delivery", "event_id": event.id, "event_type": event.event_type, **record})
        return status is not None and 200 <= status < 300

    def _write_log(self, entry: dict[str, Any]) -> None:
        if self._event_log is not None:
            self._event_log.write(json.dumps(entry) + "\n")
