"""The README's first command, minus the virtualenv setup: ``scripts/demo.py`` with a throwaway demo dir."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_demo(demo_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env["TELNYX_FAX_DEMO_DIR"] = str(demo_dir)
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "demo.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def summary(output: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Z][\w ]+):\s+(.*)$", output, flags=re.MULTILINE))


def test_demo_delivers_the_report_then_reuses_its_airflow_home(tmp_path: Path):
    demo_dir = tmp_path / "demo"

    first = run_demo(demo_dir)

    assert first.returncode == 0, first.stdout + first.stderr
    assert "creating the Airflow home" in first.stdout
    lines = summary(first.stdout)
    assert lines["Destination"] == "+15550100000"
    assert lines["Final status"] == "delivered"
    assert re.fullmatch(r"[0-9a-f-]{36}", lines["Fax id"])
    pages = int(lines["Pages"].split()[0])
    assert pages >= 3
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", lines["Web inbox"])
    assert re.match(r"\d+\.\d s for the whole DAG run", lines["Took"])
    # The event log holds what the emulator did with that fax, ending with its delivery.
    events = [json.loads(line) for line in Path(lines["Event log"]).read_text().splitlines()]
    fax_events = [event["event_type"] for event in events if event.get("payload", {}).get("fax_id") == lines["Fax id"]]
    assert fax_events[0] == "fax.queued"
    assert fax_events[-1] == "fax.delivered"
    report = demo_dir / "reports" / "daily-report"
    assert len(list(report.glob("*.pdf"))) == 1

    # A second run reuses the Airflow home; a fax that fails makes the demo exit non-zero and say why.
    second = run_demo(demo_dir, "--to", "+15550100001")

    assert second.returncode == 1, second.stdout + second.stderr
    assert "reusing the Airflow home" in second.stdout
    assert "creating the Airflow home" not in second.stdout
    lines = summary(second.stdout)
    assert lines["Final status"] == "failed (user_busy)"
    assert lines["Destination"] == "+15550100001"
    assert "did not deliver the fax" in second.stdout
