"""
The send key that makes a fax send safe to retry and rerun.

Every fax the operator sends carries, in Telnyx's ``client_state``, a key built from the task
instance (dag_id, task_id, run_id, map_index), the destination and the document's identity. Before
sending, the operator lists recent faxes to the same number and looks for that key: a retry or a
cleared-and-rerun task finds the fax it already sent instead of dialling again.

``client_state`` is base64 of a small JSON object (format version ``afx: 1``)::

    {"afx": 1, "key": "<24 hex chars>", "dag": "...", "task": "...", "run": "...", "map": -1,
     "user": "<the client_state you passed, unchanged>"}

Telnyx echoes ``client_state`` in every webhook; :func:`user_client_state` gives back your part.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

FORMAT_VERSION = 1


@dataclass(frozen=True)
class SendKey:
    """Who sent a fax (the task instance) and what (destination and document)."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int
    to: str
    document: str

    @property
    def digest(self) -> str:
        identity = "\x1f".join([self.dag_id, self.task_id, self.run_id, str(self.map_index), self.to, self.document])
        return hashlib.sha256(identity.encode()).hexdigest()[:24]

    def client_state(self, user_client_state: str | None = None, **labels: str | int) -> str:
        """
        The ``client_state`` to send: this key plus the caller's own (base64) state, kept verbatim.

        ``labels`` add short fields for whoever reads the state back (a batch's id, row and try).
        """
        state: dict[str, Any] = {
            **labels,
            "afx": FORMAT_VERSION,
            "key": self.digest,
            "dag": self.dag_id,
            "task": self.task_id,
            "run": self.run_id,
            "map": self.map_index,
        }
        if user_client_state:
            state["user"] = user_client_state
        raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
        return base64.b64encode(raw).decode()


def document_identity(document: Any, media_url: str | None, media_name: str | None) -> str:
    """
    What a send key says about the document: the bytes of a local one (``sha256:``), else its URL or media name.

    :param document: the uploaded ``LocalDocument``, or ``None`` when Telnyx fetches the document itself.
    """
    return f"sha256:{document.sha256}" if document else (media_url or f"media:{media_name}")


def decode_client_state(client_state: str | None) -> dict[str, Any] | None:
    """The send-key object inside a ``client_state``, or ``None`` when it was not sent by this provider."""
    if not client_state:
        return None
    try:
        state = json.loads(base64.b64decode(client_state, validate=True))
    except (binascii.Error, ValueError):
        return None
    if isinstance(state, dict) and state.get("afx") == FORMAT_VERSION and "key" in state:
        return state
    return None


def user_client_state(client_state: str | None) -> str | None:
    """
    Recover the ``client_state`` the DAG author passed from the one Telnyx echoes back.

    A ``client_state`` not written by this provider is returned unchanged.
    """
    state = decode_client_state(client_state)
    if state is None:
        return client_state
    user = state.get("user")
    return str(user) if user else None


def find_sent_faxes(faxes: Iterable[dict[str, Any]], key: SendKey) -> list[dict[str, Any]]:
    """The faxes carrying ``key``, newest first."""
    matches = [
        fax for fax in faxes if (state := decode_client_state(fax.get("client_state"))) and state["key"] == key.digest
    ]
    return sorted(matches, key=lambda fax: str(fax.get("created_at") or ""), reverse=True)
