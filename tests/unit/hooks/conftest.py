"""Fixtures for the hook tests: a scripted Telnyx stand-in and a connection pointing at it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.support.api import connection_uri
from tests.support.scripted_server import ScriptedServer

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def scripted_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    """A running scripted server, with ``telnyx_fax_default`` pointing at it."""
    with ScriptedServer() as server:
        monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", connection_uri(server.base_url))
        yield server


@pytest.fixture
def fast_hook_kwargs() -> dict[str, Any]:
    """Backoff settings that keep retry tests fast while still exercising every retry."""
    return {"backoff_base": 0.01, "backoff_max": 0.02, "max_retries": 3, "read_timeout": 5}
