"""Fixtures for the emulator's own tests: clients that validate every API response against the contract."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
import requests

from telnyx_fax_emulator_tests.support import ApiSession, write_pdf
from tests.support.openapi_contract import conformance_hook, is_api_url, validate_response

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from telnyx_fax_emulator.launcher import EmulatorProcess
    from telnyx_fax_emulator.webhook_receiver import WebhookReceiver


@pytest.fixture
def emulator(telnyx_fax_emulator: EmulatorProcess) -> EmulatorProcess:
    """The plugin's per-test emulator (reset, env var set)."""
    return telnyx_fax_emulator


@pytest.fixture
def api(emulator: EmulatorProcess) -> Iterator[ApiSession]:
    with ApiSession(emulator.base_url, emulator.api_key) as session:
        yield session


@pytest.fixture
def anonymous_api(emulator: EmulatorProcess) -> Iterator[requests.Session]:
    """No credentials, still contract-checked."""
    with requests.Session() as session:
        session.hooks["response"].append(conformance_hook)
        yield session


def _validate_httpx(response: httpx.Response) -> None:
    if not is_api_url(str(response.request.url)):
        return
    response.read()
    validate_response(
        response.request.method,
        str(response.request.url),
        status=response.status_code,
        headers=dict(response.headers),
        body=response.content,
        content_type=response.headers.get("content-type", ""),
    )


@pytest.fixture
def sdk(emulator: EmulatorProcess) -> Iterator[Any]:
    """The official Telnyx SDK pointed at the emulator; its responses are contract-checked too."""
    import telnyx

    http_client = httpx.Client(event_hooks={"response": [_validate_httpx]})
    client = telnyx.Telnyx(api_key=emulator.api_key, base_url=emulator.base_url, http_client=http_client, max_retries=0)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def pdf_file(tmp_path: Path) -> Callable[..., Path]:
    def write(pages: int, name: str = "doc.pdf") -> Path:
        return write_pdf(tmp_path / name, pages)

    return write


@pytest.fixture
def webhook_receiver(telnyx_fax_webhook_receiver: WebhookReceiver) -> WebhookReceiver:
    """The plugin's webhook receiver (``/fail`` answers 500, any other path 200)."""
    return telnyx_fax_webhook_receiver
