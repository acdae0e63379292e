"""The installed console script and the pytest plugin, used the way a user would use them."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from telnyx_fax_emulator_tests.support import launch

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess

pytest_plugins = ["pytester"]

CONSOLE_SCRIPT = Path(sys.executable).parent / "telnyx-fax-emulator"


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_console_script_starts_answers_and_stops_cleanly(stop_signal: signal.Signals) -> None:
    process, banner = launch(CONSOLE_SCRIPT, "--api-key", "KEYcli", "--outcome", "+15557770000=user_busy")
    try:
        base_url = re.search(r"Base URL:\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v2", base_url)
        assert not base_url.endswith(":0/v2")  # the real port is printed
        conn = json.loads(re.search(r"AIRFLOW_CONN_TELNYX_FAX_DEFAULT='(.+)'", banner).group(1))  # type: ignore[union-attr]
        assert conn == {
            "conn_type": "telnyx_fax",
            "host": base_url,
            "password": "KEYcli",
            "extra": {"connection_id": "1234567890", "from_number": "+15550199999"},
        }
        assert re.search(r"Webhook key:\s+[A-Za-z0-9+/]{43}=", banner)
        response = requests.get(f"{base_url}/faxes", headers={"Authorization": "Bearer KEYcli"}, timeout=10)
        assert response.status_code == 200
        outcomes = requests.get(base_url.replace("/v2", "/_emulator/outcomes"), timeout=10).json()["data"]
        assert outcomes["+15557770000"] == "user_busy"
    finally:
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0


def test_python_dash_m_entry_point_rejects_bad_flags() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "telnyx_fax_emulator", "--speed", "warp"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "invalid speed" in result.stderr


def test_fixture_works_in_a_users_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user_dag="""
        import json, os
        import requests

        def test_sends_through_the_emulator(telnyx_fax_emulator):
            conn = json.loads(os.environ["AIRFLOW_CONN_TELNYX_FAX_DEFAULT"])
            assert conn["host"] == telnyx_fax_emulator.base_url
            response = requests.post(
                conn["host"] + "/faxes",
                headers={"Authorization": "Bearer " + conn["password"]},
                json={"connection_id": conn["extra"]["connection_id"], "from": conn["extra"]["from_number"],
                      "to": "+15550100001", "media_url": "https://example.com/a.pdf"},
                timeout=10,
            )
            assert response.status_code == 202
            fax = telnyx_fax_emulator.wait_for_status(response.json()["data"]["id"], "failed")
            assert fax["failure_reason"] == "user_busy"
            assert telnyx_fax_emulator.request_count("POST", "/v2/faxes") == 1

        def test_each_test_starts_clean(telnyx_fax_emulator):
            assert telnyx_fax_emulator.faxes() == []
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_start_emulator_from_code_and_stop_by_pid(tmp_path: Path) -> None:
    from telnyx_fax_emulator import start_emulator

    event_log = tmp_path / "events.jsonl"
    handle = start_emulator(
        speed="realistic", outcomes={"+15557770001": ["user_busy", "delivered"]}, event_log=event_log
    )
    try:
        assert handle.info()["speed"] == 1.0
        assert handle.outcomes()["+15557770001"] == ["user_busy", "delivered"]
        assert handle.base_url == f"{handle.root_url}/v2"
        fax = handle.simulate_inbound("+15551230000")
        handle.wait_for_events(fax["id"], 1)
        first = json.loads(event_log.read_text().splitlines()[0])
        assert (first["kind"], first["event_type"]) == ("event", "fax.receiving.started")
    finally:
        assert handle.stop() == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{handle.root_url}/_emulator/info", timeout=5)


def test_control_view_keeps_deleted_faxes(telnyx_fax_emulator: EmulatorProcess) -> None:
    handle = telnyx_fax_emulator
    body = {
        "connection_id": handle.connection_id,
        "from": handle.from_number,
        "to": "+15550100000",
        "media_url": "https://example.com/a.pdf",
    }
    fax_id = requests.post(f"{handle.base_url}/faxes", json=body, headers=handle.auth_headers, timeout=10).json()[
        "data"
    ]["id"]
    assert (
        requests.delete(f"{handle.base_url}/faxes/{fax_id}", headers=handle.auth_headers, timeout=10).status_code == 204
    )
    assert [(fax["id"], fax["deleted"]) for fax in handle.faxes()] == [(fax_id, True)]
    assert handle.request_count("DELETE", "/v2/faxes/*") == 1
    assert handle.request_count("POST", "/v2/faxes") == 1
    assert handle.request_count("GET", "/v2/faxes") == 0
