"""Shared plumbing: fresh client subprocesses, Airflow connections for the emulator, memory and CPU readings."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from telnyx_fax_emulator.launcher import EmulatorHandle

REPO_ROOT = Path(__file__).resolve().parent.parent
READY = "BENCH-READY"
RESULT = "BENCH-RESULT "
HTTP_CONN_ID = "telnyx_http"


def rss_now_mb() -> float:
    """Current resident set size of this process, in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def client_env(emulator: EmulatorHandle) -> dict[str, str]:
    """Environment for a client process: its own AIRFLOW_HOME and connections to the emulator."""
    root = emulator.base_url.rsplit("/v2", 1)[0]
    host, _, port = root.removeprefix("http://").partition(":")
    http_conn = {
        "conn_type": "http",
        "host": host,
        "port": int(port),
        "schema": "http",
        "extra": {"Authorization": f"Bearer {emulator.api_key}", "Content-Type": "application/json"},
    }
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": tempfile.mkdtemp(prefix="telnyx-fax-bench-airflow-"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AIRFLOW_CONN_TELNYX_FAX_DEFAULT": emulator.airflow_conn_json,
            f"AIRFLOW_CONN_{HTTP_CONN_ID.upper()}": json.dumps(http_conn),
            "TELNYX_BENCH_BASE_URL": emulator.base_url,
            "TELNYX_BENCH_API_KEY": emulator.api_key,
            "TELNYX_BENCH_CONNECTION_ID": emulator.connection_id,
            "TELNYX_BENCH_FROM": emulator.from_number,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
    )
    return env


class Child:
    """A client process: it imports, reports ``READY``, waits for ``go(payload)``, then prints one result."""

    def __init__(self, module: str, args: list[str], env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(env),
            cwd=REPO_ROOT,
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.strip() == READY:
                return
        raise RuntimeError(f"{module} {args} exited before it was ready:\n{self.process.stderr.read()}")  # type: ignore[union-attr]

    def go(self, payload: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(payload) + "\n")
        self.process.stdin.flush()

    def result(self, timeout: float = 600.0) -> dict[str, Any]:
        out, err = self.process.communicate(timeout=timeout)
        for line in out.splitlines():
            if line.startswith(RESULT):
                result: dict[str, Any] = json.loads(line[len(RESULT) :])
                return result
        raise RuntimeError(f"no result (exit {self.process.returncode}):\n{out[-2000:]}\n{err[-4000:]}")


def child_ready() -> Any:
    """In a child: say we are ready and wait for the parent's payload."""
    print(READY, flush=True)
    return json.loads(sys.stdin.readline())


def child_result(result: Mapping[str, Any]) -> None:
    print(RESULT + json.dumps(dict(result)), flush=True)


def run_once(module: str, args: list[str], env: Mapping[str, str], payload: Any = None) -> dict[str, Any]:
    child = Child(module, args, env)
    child.go(payload)
    return child.result()


def fax_body(
    emulator: EmulatorHandle, index: int = 0, media_url: str = "https://example.com/report.pdf"
) -> dict[str, Any]:
    return {
        "connection_id": emulator.connection_id,
        "from": emulator.from_number,
        "to": f"+1555020{index % 10000:04d}",
        "media_url": media_url,
    }


def create_faxes(emulator: EmulatorHandle, count: int, concurrency: int = 32, **body: Any) -> list[str]:
    """Create ``count`` faxes as fast as the emulator takes them (from this, the parent, process)."""
    import asyncio

    import aiohttp

    async def create_all() -> list[str]:
        ids: list[str] = [""] * count
        queue = iter(range(count))
        headers = {"Authorization": f"Bearer {emulator.api_key}"}
        async with aiohttp.ClientSession(headers=headers) as session:

            async def worker() -> None:
                for index in queue:
                    async with session.post(
                        f"{emulator.base_url}/faxes", json={**fax_body(emulator, index), **body}
                    ) as r:
                        r.raise_for_status()
                        ids[index] = (await r.json())["data"]["id"]

            await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
        return ids

    return asyncio.run(create_all())


def status_counts(emulator: EmulatorHandle, method: str, prefix: str) -> dict[str, int]:
    """Answers by status code for ``method`` requests whose path starts with ``prefix`` (from the request log)."""
    counts: dict[str, int] = {}
    for entry in emulator.requests(limit=1_000_000)["entries"]:
        if entry["method"] == method and entry["path"].startswith(prefix):
            counts[str(entry["status"])] = counts.get(str(entry["status"]), 0) + 1
    return counts


def median(values: list[float]) -> float:
    return statistics.median(values)


def now() -> float:
    return time.perf_counter()
