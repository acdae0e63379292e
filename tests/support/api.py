"""The Telnyx account the hook tests pretend to have: ids, an ``AIRFLOW_CONN_*`` value, spec-shaped records."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.support.openapi_contract import load_spec

SECRET_KEY = "KEYsuperSECRETdoNotLeak123"
CONNECTION_ID = "1293384261075731499"
FROM_NUMBER = "+13125790015"
FAX_ID = "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0"


def fax_record(**overrides: Any) -> dict[str, Any]:
    """The spec's ``Fax`` example, plus the newer failure fields, with overrides applied."""
    record = copy.deepcopy(load_spec(strict=False)["components"]["schemas"]["Fax"]["example"])
    record.update({"failure_reason": None, "internal_failure_reason": None})
    record.update(overrides)
    return record


def connection_uri(host: str | None, *, password: str = SECRET_KEY, **extra: Any) -> str:
    """An ``AIRFLOW_CONN_*`` value in the JSON form users write."""
    extras = {"connection_id": CONNECTION_ID, "from_number": FROM_NUMBER, **extra}
    return json.dumps({"conn_type": "telnyx_fax", "host": host, "password": password, "extra": extras})


def telnyx_error(code: str, title: str, detail: str, pointer: str | None = None) -> dict[str, Any]:
    """A Telnyx error body: ``{"errors": [...]}`` with one error, as the API answers a refused request."""
    error: dict[str, Any] = {"code": code, "title": title, "detail": detail}
    if pointer:
        error["source"] = {"pointer": pointer}
    return {"errors": [error]}
