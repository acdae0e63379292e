"""Triggers for inbound faxes: wait for faxes received since a watermark, or fire once per received fax."""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from airflow.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent

from airflow_provider_telnyx_fax.models import FaxStatus
from airflow_provider_telnyx_fax.polling import (
    DEFAULT_MAX_CONSECUTIVE_ERRORS,
    TRANSIENT_ERRORS,
    asked_wait,
    format_time,
    import_hook_module,
    parse_time,
    poll_until_event,
)
from airflow_provider_telnyx_fax.privacy import mask_fax_record, mask_number

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

# An inbound fax still in progress after this long is treated as abandoned, so it stops holding
# the event trigger's watermark back (a fax call lasts minutes, not hours).
MAX_RECEIVE_SECONDS = 3600.0
MAX_ERROR_BACKOFF_SECONDS = 300.0


async def list_inbound(
    hook: TelnyxFaxHook,
    *,
    to: str | None,
    created_at_gte: str | None,
    created_at_lt: str | None = None,
    page_size: int,
) -> list[dict[str, Any]]:
    """Every inbound fax in the window, all pages walked, oldest first, each id once."""
    faxes: dict[str, dict[str, Any]] = {}
    async for fax in hook.alist_faxes(
        direction="inbound", to=to, created_at_gte=created_at_gte, created_at_lt=created_at_lt, page_size=page_size
    ):
        # A fax arriving mid-walk shifts the newest-first pages by one; the id keeps it single.
        faxes[fax["id"]] = fax
    return sorted(faxes.values(), key=lambda fax: (parse_time(fax["created_at"]), fax["id"]))


class InboundFaxTrigger(BaseTrigger):
    """
    Poll until at least one inbound fax created at or after ``since`` is ``received``, then fire once.

    Each check lists inbound faxes (``filter[direction][eq]=inbound``, ``filter[created_at][gte]``,
    optionally ``filter[to][eq]`` and ``filter[created_at][lt]``) and walks every page. The trigger
    only reads, so a triggerer restart just resumes polling. Kwargs are primitives without secrets.

    The event payload is ``{"status", "faxes", "to", "since", "message"}``: ``status`` is
    ``received`` (``faxes`` holds every received fax record in the window, oldest first), or
    ``error`` / ``timeout`` (``faxes`` is empty).

    :param since: ISO 8601 watermark; faxes created at or after it count.
    :param to: the receiving number (E.164); ``None`` for any number on the account.
    :param until: ISO 8601 upper bound (exclusive) on ``created_at``; ``None`` for none.
    :param telnyx_conn_id: the Airflow connection id.
    :param poll_interval: the longest wait between checks, in seconds.
    :param end_time: Unix time after which a ``timeout`` event fires; ``None`` waits forever.
    :param page_size: faxes per list page (1-250).
    :param max_consecutive_errors: rate-limited, 5xx or unreachable checks tolerated in a row.
    :param not_before: Unix time before which the trigger never fires (see ``FaxStatusTrigger``).
    """

    def __init__(
        self,
        *,
        since: str,
        to: str | None = None,
        until: str | None = None,
        telnyx_conn_id: str = "telnyx_fax_default",
        poll_interval: float = 60.0,
        end_time: float | None = None,
        page_size: int = 50,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        not_before: float | None = None,
    ) -> None:
        super().__init__()
        self.since = since
        self.not_before = not_before
        self.to = to
        self.until = until
        self.telnyx_conn_id = telnyx_conn_id
        self.poll_interval = float(poll_interval)
        self.end_time = end_time
        self.page_size = int(page_size)
        self.max_consecutive_errors = int(max_consecutive_errors)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "since": self.since,
                "to": self.to,
                "until": self.until,
                "telnyx_conn_id": self.telnyx_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "page_size": self.page_size,
                "max_consecutive_errors": self.max_consecutive_errors,
                "not_before": self.not_before,
            },
        )

    def _event(self, status: str, faxes: list[dict[str, Any]], message: str) -> TriggerEvent:
        return TriggerEvent({"status": status, "faxes": faxes, "to": self.to, "since": self.since, "message": message})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hooks = await import_hook_module()
        # One request per page and check: the polling loop owns the backoff and counts failures across checks.
        hook = hooks.TelnyxFaxHook(self.telnyx_conn_id, max_retries=0)
        where = f"to {mask_number(self.to)}" if self.to else "on the account"

        async def check() -> TriggerEvent | None:
            faxes = await list_inbound(
                hook, to=self.to, created_at_gte=self.since, created_at_lt=self.until, page_size=self.page_size
            )
            received = [fax for fax in faxes if fax.get("status") == FaxStatus.RECEIVED.value]
            if received:
                return self._event(
                    "received", received, f"{len(received)} fax(es) received {where} since {self.since}."
                )
            self.log.info("No fax received %s since %s yet (%d in progress)", where, self.since, len(faxes))
            return None

        async with hooks.shared_client_session():
            yield await poll_until_event(
                check,
                poll_interval=self.poll_interval,
                end_time=self.end_time,
                max_consecutive_errors=self.max_consecutive_errors,
                on_error=lambda message: self._event("error", [], message),
                on_timeout=lambda: self._event(
                    "timeout", [], f"No fax was received {where} since {self.since} in time."
                ),
                subject=f"inbound faxes {where}",
                log=self.log,
                not_before=self.not_before,
            )


class StateStore(Protocol):
    """Where the event trigger keeps its watermark and the ids it already fired for."""

    async def load(self) -> dict[str, Any] | None: ...

    async def save(self, state: dict[str, Any]) -> None: ...


class AssetStateStore:
    """The Airflow 3.3 asset state store (metadata database) of the asset the trigger watches."""

    def __init__(self, accessors: Any, key: str) -> None:
        self.key = key
        self.accessor = self._pick(accessors)

    @staticmethod
    def _pick(accessors: Any) -> Any:
        try:
            accessors._single_accessor()
        except ValueError:
            # One trigger watched by several assets (the same kwargs in two AssetWatchers): keep the
            # state on one of them, chosen the same way on every start.
            by_name = getattr(accessors, "_by_name", {}) or getattr(accessors, "_by_uri", {})
            return by_name[sorted(by_name)[0]]
        except AttributeError:
            pass
        return accessors

    async def load(self) -> dict[str, Any] | None:
        value = await self.accessor.aget(self.key, None)
        return dict(value) if isinstance(value, dict) else None

    async def save(self, state: dict[str, Any]) -> None:
        await self.accessor.aset(self.key, state)


class FileStateStore:
    """A JSON file, replaced atomically; the directory must be on storage that outlives the triggerer."""

    def __init__(self, directory: str, key: str) -> None:
        self.path = Path(directory).expanduser() / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', key)}.json"

    def _read(self) -> dict[str, Any] | None:
        try:
            value = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        return dict(value) if isinstance(value, dict) else None

    def _write(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(handle, "w") as file:
                json.dump(state, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    async def load(self) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._read)

    async def save(self, state: dict[str, Any]) -> None:
        await asyncio.to_thread(self._write, state)


class MemoryStateStore:
    """Process memory only: a restart forgets what fired (used only when nothing durable is available)."""

    def __init__(self) -> None:
        self.state: dict[str, Any] | None = None

    async def load(self) -> dict[str, Any] | None:
        return self.state

    async def save(self, state: dict[str, Any]) -> None:
        self.state = dict(state)


def next_state(faxes: list[dict[str, Any]], fired: set[str], watermark: str, now: datetime) -> dict[str, Any]:
    """
    Advance the watermark as far as is safe and keep only the fired ids it still covers.

    The watermark may not pass a fax still being received (its ``created_at`` is fixed when it starts
    arriving, and it becomes ``received`` later), so it stops at the oldest one in progress. Faxes
    at or after the watermark are listed again next time; ``seen`` stops them firing twice.
    """
    current = parse_time(watermark)
    stale_before = now - timedelta(seconds=MAX_RECEIVE_SECONDS)
    in_progress = [
        parse_time(fax["created_at"])
        for fax in faxes
        if not FaxStatus(fax["status"]).is_terminal and parse_time(fax["created_at"]) > stale_before
    ]
    if in_progress:
        new_mark = max(current, min(in_progress))
    elif faxes:
        new_mark = max(current, max(parse_time(fax["created_at"]) for fax in faxes))
    else:
        new_mark = current
    seen = sorted(fax["id"] for fax in faxes if fax["id"] in fired and parse_time(fax["created_at"]) >= new_mark)
    return {"watermark": format_time(new_mark), "seen": seen}


def event_payload(fax: dict[str, Any]) -> dict[str, Any]:
    """What an asset event carries about a fax: the record without its temporary media link, numbers masked."""
    # The media_url is a bearer credential for the document that expires in minutes; asset events are
    # kept forever and shown in the UI, so the downstream task fetches a fresh link (and the full
    # record) by fax id instead.
    record = mask_fax_record({key: value for key, value in fax.items() if key != "media_url"})
    return {"fax_id": fax["id"], "from": record.get("from"), "to": record.get("to"), "fax": record}


class InboundFaxEventTrigger(BaseEventTrigger):
    """
    Fire one event per fax received, for event-driven scheduling with ``AssetWatcher``.

    Polls the list endpoint for inbound faxes created at or after a watermark and yields
    ``{"fax_id", "from", "to", "fax"}`` (the record without its expiring ``media_url``) for each
    newly ``received`` fax, oldest first. It never returns on its own.

    **Delivery guarantee: at-least-once.** The watermark and the ids already fired are kept in a
    durable store, read when the trigger starts and written one poll after the events were yielded
    (by then the triggerer has handed them to the scheduler, which it does about every second). So a
    restart, redeployment or failover never replays a fax whose firing was recorded, while a crash in
    the window between yielding and that write fires those faxes again rather than losing them.
    Downstream tasks should therefore be idempotent per ``fax_id`` (``DownloadFaxOperator`` is).
    Where the state lives, in order of preference:

    * ``state_dir`` when given: a JSON file per trigger in that directory (must be durable and, with
      several triggerers, shared between them);
    * otherwise the asset state store of the watched asset (Airflow 3.3+, metadata database), which
      the triggerer injects into watchers: nothing to configure;
    * otherwise (run outside a triggerer, e.g. in a test) memory only, with a warning.

    On the first start with no state, the watermark is ``since`` or, when that is ``None``, the
    current time: faxes received before the watcher was deployed do not fire.

    :param to: the receiving number (E.164); ``None`` for any number on the account.
    :param telnyx_conn_id: the Airflow connection id.
    :param poll_interval: seconds between checks.
    :param since: ISO 8601 watermark for the very first start; ignored once state exists.
    :param state_dir: a directory for the state file instead of the asset state store.
    :param page_size: faxes per list page (1-250).
    :param max_consecutive_errors: failed checks in a row after which each further failure is logged
        as an error (the trigger keeps polling with a capped backoff; a rejected API key stops it).
    """

    def __init__(
        self,
        *,
        to: str | None = None,
        telnyx_conn_id: str = "telnyx_fax_default",
        poll_interval: float = 60.0,
        since: str | None = None,
        state_dir: str | None = None,
        page_size: int = 50,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
    ) -> None:
        super().__init__()
        self.to = to
        self.telnyx_conn_id = telnyx_conn_id
        self.poll_interval = float(poll_interval)
        self.since = since
        self.state_dir = state_dir
        self.page_size = int(page_size)
        self.max_consecutive_errors = int(max_consecutive_errors)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "to": self.to,
                "telnyx_conn_id": self.telnyx_conn_id,
                "poll_interval": self.poll_interval,
                "since": self.since,
                "state_dir": self.state_dir,
                "page_size": self.page_size,
                "max_consecutive_errors": self.max_consecutive_errors,
            },
        )

    @property
    def state_key(self) -> str:
        """The name of this watcher's state: one per connection and number, whatever the poll settings."""
        return f"telnyx_fax_inbound.{self.telnyx_conn_id}.{self.to or 'any'}"

    def state_store(self) -> StateStore:
        if self.state_dir:
            return FileStateStore(self.state_dir, self.state_key)
        # Airflow 3.2 has no asset state store: the attribute arrived in 3.3.
        asset_state_store = getattr(self, "asset_state_store", None)
        if asset_state_store is not None:
            return AssetStateStore(asset_state_store, self.state_key)
        self.log.warning(
            "No asset state store and no state_dir: faxes fired by %s are remembered in memory only", self.state_key
        )
        return MemoryStateStore()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hooks = await import_hook_module()
        store = self.state_store()
        state = await store.load()
        if state is None:
            state = {"watermark": self.since or format_time(datetime.now(timezone.utc)), "seen": []}
            await store.save(state)
        hook = hooks.TelnyxFaxHook(self.telnyx_conn_id, max_retries=0)
        uncommitted: dict[str, Any] | None = None
        consecutive_errors = 0
        async with hooks.shared_client_session():
            while True:
                if uncommitted is not None:
                    # One poll after yielding: the triggerer has persisted those events by now.
                    await store.save(uncommitted)
                    state, uncommitted = uncommitted, None
                delay = self.poll_interval
                try:
                    faxes = await list_inbound(
                        hook, to=self.to, created_at_gte=state["watermark"], page_size=self.page_size
                    )
                except TRANSIENT_ERRORS as error:
                    consecutive_errors += 1
                    log = self.log.error if consecutive_errors > self.max_consecutive_errors else self.log.warning
                    log("Listing inbound faxes failed %d time(s) in a row: %s", consecutive_errors, error)
                    backoff = min(MAX_ERROR_BACKOFF_SECONDS, self.poll_interval * 2 ** min(consecutive_errors, 10))
                    delay = max(backoff, asked_wait(error))
                else:
                    consecutive_errors = 0
                    fired = set(state["seen"])
                    for fax in faxes:
                        if fax["status"] == FaxStatus.RECEIVED.value and fax["id"] not in fired:
                            yield TriggerEvent(event_payload(fax))
                            fired.add(fax["id"])
                    updated = next_state(faxes, fired, state["watermark"], datetime.now(timezone.utc))
                    if updated != state:
                        uncommitted = updated
                await asyncio.sleep(delay)
