"""Helpers shared by the emulator's tests: a contract-checked API session, fax bodies, PDFs, the Node SDK."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from telnyx_fax_emulator.documents import blank_pdf
from tests.support.openapi_contract import conformance_hook

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorHandle

REPO_ROOT = Path(__file__).resolve().parents[3]
EMULATOR_ROOT = REPO_ROOT / "telnyx-fax-emulator"
NODE_PROJECT = EMULATOR_ROOT / "tests" / "node"
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


def write_pdf(path: Path, pages: int) -> Path:
    path.write_bytes(blank_pdf(pages))
    return path


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Skip, or fail under CI, where ``.ci/run`` installs everything these tests need."""
    if running_in_ci():
        pytest.fail(f"{reason}. CI is set, so this test fails instead of skipping.", pytrace=False)
    pytest.skip(reason)


def drive_with_the_node_sdk(base_url: str, api_key: str, connection_id: str, from_number: str) -> dict[str, Any]:
    """Run ``tests/node/drive_emulator.mjs`` (the official ``telnyx`` npm package) against an emulator."""
    node = shutil.which("node")
    if node is None:
        unavailable("the Node SDK test needs node (Node 20+) on PATH")
    if not (NODE_PROJECT / "node_modules" / "telnyx").is_dir():
        unavailable(f"the Node SDK test needs its packages: cd {NODE_PROJECT} && npm ci")
    env = {
        **os.environ,
        "TELNYX_BASE_URL": base_url,
        "TELNYX_API_KEY": api_key,
        "EMULATOR_CONNECTION_ID": connection_id,
        "EMULATOR_FROM_NUMBER": from_number,
    }
    run = subprocess.run(
        [str(node), "drive_emulator.mjs"], cwd=NODE_PROJECT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, f"node failed:\n{run.stderr}"
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def assert_the_node_sdk_saw_telnyx(result: dict[str, Any]) -> None:
    """What the Node SDK must have seen to count the emulator as Telnyx."""
    assert result["created"] == {
        "status": "queued",
        "direction": "outbound",
        "to": TEST_NUMBER_DELIVERED,
        "client_state": "aGVsbG8=",
    }
    assert (result["retrieved"]["status"], result["retrieved"]["statuses"][-1]) == ("delivered", "delivered")
    assert result["retrieved"]["quality"] == "very_high"

    listing = result["list"]
    newest_first = listing["sent_newest_first"]
    assert (listing["total_results"], listing["total_pages"]) == (4, 2)
    assert listing["first_page"] == newest_first[:2]
    assert listing["second_page"] == newest_first[2:]
    assert listing["filtered_to"] == ["+15557650302"]
    assert listing["auto_paginated"] == newest_first

    assert result["cancel"] == {"result": "ok", "status": "failed", "failure_reason": "sender_canceled"}
    assert (result["deleted"]["name"], result["deleted"]["status"]) == ("NotFoundError", 404)
    assert (result["wrong_key"]["name"], result["wrong_key"]["status"]) == ("AuthenticationError", 401)
    bad_number = result["bad_number"]
    assert (bad_number["name"], bad_number["status"]) == ("UnprocessableEntityError", 422)
    assert bad_number["errors"][0]["source"] == {"pointer": "/to"}


def launch(console_script: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``telnyx-fax-emulator`` on a free port; return the process and its start-up banner."""
    process = subprocess.Popen(
        [str(console_script), "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    banner = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        banner.append(line)
        if line.startswith("Press Ctrl-C"):
            return process, "".join(banner)
    process.kill()
    raise AssertionError("no banner: " + "".join(banner))
