"""Fixtures for the hook tests: a scripted Telnyx stand-in and a connection pointing at it."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.scripted_server import ScriptedServer

if TYPE_CHECKING:
    from collections.abc import Iterator

SECRET_KEY = "KEYsuperSECRETdoNotLeak123"
CONNECTION_ID = "1293384261075731499"
FROM_NUMBER = "+13125790015"
FAX_ID = "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0"
# The published contract, kept in the repository (see tests/openapi_contract.py).
SPEC_PATH = Path(__file__).resolve().parents[2] / "contract" / "telnyx-fax-openapi.json"


@functools.cache
def load_spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


def fax_record(**overrides: Any) -> dict[str, Any]:
    """The spec's ``Fax`` example, plus the newer failure fields, with overrides applied."""
    record = copy.deepcopy(load_spec()["components"]["schemas"]["Fax"]["example"])
    record.update({"failure_reason": None, "internal_failure_reason": None})
    record.update(overrides)
    return record


def connection_uri(host: str | None, *, password: str = SECRET_KEY, **extra: Any) -> str:
    """An ``AIRFLOW_CONN_*`` value in the JSON form users write."""
    extras = {"connection_id": CONNECTION_ID, "from_number": FROM_NUMBER, **extra}
    return json.dumps({"conn_type": "telnyx_fax", "host": host, "password": password, "extra": extras})


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
