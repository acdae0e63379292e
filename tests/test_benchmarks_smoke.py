"""Every benchmark runs end to end at a tiny size (no timing assertions: the figures come from `scripts/bench.sh`)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_every_benchmark_runs_at_a_tiny_size(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--quiet", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(out.read_text())
    raw = figures["raw"]
    assert set(raw["waiting"]) == {"ours", "http", "sdk", "bare"}
    for variant, result in raw["waiting"].items():
        assert result["outcomes"] == {"delivered": 5}, variant
        assert result["polls"] >= 5, variant
    assert raw["rate_limited"]["outcomes"] == {"delivered": 5}
    assert {variant: result["accepted"] for variant, result in raw["sending"].items()} == {
        "ours": 6,
        "http": 6,
        "sdk": 6,
    }  # 5 sends and a warm-up each
    assert raw["parse"]["provider"]["heavy"] == []
    assert all(not dag["errors"] for dag in raw["parse"]["dags"].values())
    assert raw["polls_per_fax"]["scaled"]["ours"]["calls"] >= 1
    assert "GET/s" in figures["rows"][-1][1]
    assert "| Benchmark" in done.stdout


def test_the_channels_benchmark_runs_at_a_tiny_size(tmp_path):
    out = tmp_path / "channels.json"
    tiny = ["--rows", "6", "--channels", "2", "--speed", "200", "--json", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.channels", *tiny],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["batch"]["delivered"] == 6
    assert (figures["batch"]["state"], figures["batch"]["tries"]) == ("success", 1)
    assert figures["sdk_loop"]["refused_for_channels"] > 0
    assert "| SendFaxBatchOperator, defaults |" in done.stdout
