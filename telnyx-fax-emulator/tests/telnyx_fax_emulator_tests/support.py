"""Helpers shared by the emulator's tests: a contract-checked API session, fax bodies, PDFs, a webhook receiver."""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from tests.openapi_contract import conformance_hook

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorHandle

REPO_ROOT = Path(__file__).resolve().parents[3]
EMULATOR_ROOT = REPO_ROOT / "telnyx-fax-emulator"
TEST_NUMBER_DELIVERED = "+15550100000"
OTHER_NUMBER = "+15557654321"


class ApiSession(requests.Session):
    """A ``requests`` session on the emulator's ``/v2`` API: relative paths, bearer auth, and
    every response validated against the published contract."""

    def __init__(self, base_url: str, api_key: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.headers["Authorization"] = f"Bearer {api_key}"
        self.hooks["response"].append(conformance_hook)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if isinstance(url, str) and url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 10)
        return super().request(method, url, *args, **kwargs)


def fax_body(emulator: EmulatorHandle, to: str = TEST_NUMBER_DELIVERED, **extra: Any) -> dict[str, Any]:
    body = {
        "connection_id": emulator.connection_id,
        "from": emulator.from_number,
        "to": to,
        "media_url": "https://example.com/invoice.pdf",
    }
    body.update(extra)
    return body


def send_fax(
    api: ApiSession, emulator: EmulatorHandle, to: str = TEST_NUMBER_DELIVERED, **extra: Any
) -> dict[str, Any]:
    response = api.post("/faxes", json=fax_body(emulator, to, **extra))
    assert response.status_code == 202, response.text
    fax: dict[str, Any] = response.json()["data"]
    return fax


def make_pdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_pdf(path: Path, pages: int) -> Path:
    path.write_bytes(make_pdf(pages))
    return path


@dataclass
class ReceivedWebhook:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class WebhookReceiver:
    """A local HTTP server recording webhooks; ``/fail`` answers 500, anything else 200."""

    url: str
    received: list[ReceivedWebhook] = field(default_factory=list)

    def at(self, path: str) -> list[ReceivedWebhook]:
        return [hook for hook in self.received if hook.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 10.0) -> list[ReceivedWebhook]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hooks = self.received if path is None else self.at(path)
            if len(hooks) >= count:
                return list(hooks)
            time.sleep(0.02)
        raise TimeoutError(f"got {len(self.received)} webhooks, wanted {count} at {path}")
