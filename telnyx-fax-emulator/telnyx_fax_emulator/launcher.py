"""Start the emulator in a subprocess and drive it from Python through its control API."""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from telnyx_fax_emulator.cli import READY_MARKER, airflow_conn_json
from telnyx_fax_emulator.settings import (
    DEFAULT_API_KEY,
    DEFAULT_CHANNEL_LIMIT,
    DEFAULT_CONNECTION_ID,
    DEFAULT_FROM_NUMBER,
    DEFAULT_MAX_IN_FLIGHT,
    OutcomeSpec,
)

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping
    from types import TracebackType

_BASE_URL_RE = re.compile(r"Base URL:\s+(http://\S+)/v2")


class EmulatorHandle:
    """A client for a running emulator: its coordinates plus the control API as methods.

    :param root_url: e.g. ``http://127.0.0.1:8089`` (the API is at ``root_url + "/v2"``).
    :param timeout: seconds per control request. The waits below default to a minute: they return as soon
        as the fax gets there, and a deadline only matters on a machine too loaded to keep up.
    """

    def __init__(self, root_url: str, *, timeout: float = 30.0) -> None:
        self.root_url = root_url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()
        info = self.info()
        self.base_url: str = info["base_url"]
        self.api_key: str = info["api_key"]
        self.connection_id: str = info["connection_id"]
        self.from_number: str = info["from_number"]
        self.public_key: str = info["public_key"]

    # -- plumbing ---------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"{self.root_url}/_emulator{path}", timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"emulator control {method} {path} failed: {response.status_code} {response.text}")
        return response.json()["data"]

    @property
    def airflow_conn_json(self) -> str:
        """The JSON for ``AIRFLOW_CONN_TELNYX_FAX_DEFAULT`` pointing at this emulator."""
        return airflow_conn_json(self.base_url, self.api_key, self.connection_id, self.from_number)

    @property
    def inbox_url(self) -> str:
        """The fax inbox web page: every fax sent and received, live, with test controls."""
        return self.root_url + "/"

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def info(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/info")
        return result

    # -- state and configuration -----------------------------------------------------------
    def reset(self) -> None:
        """Forget all faxes, media, events, requests, faults and run-time changes."""
        self._call("POST", "/reset")

    def set_outcome(self, number: str, outcome: OutcomeSpec) -> None:
        """``outcome``: ``"delivered"``, a failure reason, ``"stays_sending"`` or a list (a sequence)."""
        self._call("POST", "/outcomes", json={"number": number, "outcome": outcome})

    def outcomes(self) -> dict[str, OutcomeSpec]:
        result: dict[str, OutcomeSpec] = self._call("GET", "/outcomes")
        return result

    def set_speed(self, speed: float | str) -> float:
        """``"fast"``, ``"realistic"`` or times-faster-than-real; applies to faxes created afterwards."""
        return float(self._call("POST", "/speed", json={"speed": speed})["speed"])

    def add_fault(self, method: str, path: str, kind: str, count: int = 1, **options: Any) -> dict[str, Any]:
        """Fault the next ``count`` requests matching ``method`` and ``path`` (exact or glob).

        ``kind``: ``rate_limit`` (429; options ``retry_after``, ``limit``), ``server_error`` (500),
        ``unavailable`` (503), ``latency`` (option ``seconds``) or ``drop``.
        """
        result: dict[str, Any] = self._call(
            "POST", "/faults", json={"method": method, "path": path, "kind": kind, "count": count, **options}
        )
        return result

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/faults")
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def set_rate_limit(self, requests_per_second: float | None) -> None:
        """A steady limit on ``/v2`` answered with 429 like Telnyx; ``None`` removes it."""
        self._call("POST", "/rate-limit", json={"requests_per_second": requests_per_second})

    def set_limits(self, **limits: Any) -> dict[str, Any]:
        """Change ``busy_lines`` (bool) and any of ``max_in_flight`` (faxes in processing at once),
        ``channel_limit`` (the account's concurrent calls), ``application_channel_limit`` (the Fax
        Application's ``outbound.channel_limit``), ``profile_channel_limit`` and ``daily_page_budget``
        (the outbound voice profile's); ``None`` or 0 removes a limit.

        A limit not given keeps its value; returns them all.
        """
        result: dict[str, Any] = self._call("POST", "/limits", json=limits)
        return result

    def limits(self) -> dict[str, Any]:
        """``busy_lines`` and every limit above (``None``: not set)."""
        result: dict[str, Any] = self._call("GET", "/limits")
        return result

    def channels(self) -> dict[str, Any]:
        """The account's calls: ``in_use`` now, the ``limit``, ``application_limit`` and ``profile_limit``,
        the exact ``peak`` since start or reset, ``dials`` (calls placed), ``refused_at_limit`` by failure
        reason, ``daily_page_budget`` and ``pages_today``."""
        result: dict[str, Any] = self._call("GET", "/channels")
        return result

    # -- observation -----------------------------------------------------------------------
    def faxes(self) -> list[dict[str, Any]]:
        """Every fax, deleted ones included, with ``page_count``, ``outcome`` and ``timeline``."""
        result: list[dict[str, Any]] = self._call("GET", "/faxes")
        return result

    def fax(self, fax_id: str) -> dict[str, Any]:
        """One fax's control view, including its ``events`` and their webhook ``deliveries``."""
        result: dict[str, Any] = self._call("GET", f"/faxes/{fax_id}")
        return result

    def events(self, fax_id: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/events", params={"fax_id": fax_id} if fax_id else None)
        return result

    def requests(self, limit: int = 1000) -> dict[str, Any]:
        """``{"entries": [{method, path, status, at, duration_ms}], "counts": {"METHOD path": n}}``."""
        result: dict[str, Any] = self._call("GET", "/requests", params={"limit": limit})
        return result

    def request_count(self, method: str, path_glob: str) -> int:
        """How many ``method`` requests hit a path matching ``path_glob``, e.g. ``("POST", "/v2/faxes")``."""
        counts: Mapping[str, int] = self.requests(limit=0)["counts"]
        total = 0
        for key, count in counts.items():
            seen_method, _, path = key.partition(" ")
            if seen_method == method.upper() and fnmatch.fnmatchcase(path, path_glob):
                total += count
        return total

    def simulate_inbound(
        self,
        from_: str,
        to: str | None = None,
        document: bytes | None = None,
        filename: str = "fax.pdf",
        content_type: str = "application/pdf",
        *,
        webhook_url: str | None = None,
    ) -> dict[str, Any]:
        """A fax arrives from ``from_`` to ``to`` (default: the account's number); returns its control view."""
        fields = {"from": from_, **({"to": to} if to else {}), **({"webhook_url": webhook_url} if webhook_url else {})}
        if document is None:
            result: dict[str, Any] = self._call("POST", "/inbound", json=fields)
        else:
            result = self._call("POST", "/inbound", data=fields, files={"document": (filename, document, content_type)})
        return result

    def simulate_inbound_base64(self, from_: str, document: bytes, to: str | None = None) -> dict[str, Any]:
        body = {"from": from_, "document_base64": base64.b64encode(document).decode(), **({"to": to} if to else {})}
        result: dict[str, Any] = self._call("POST", "/inbound", json=body)
        return result

    def wait_for_status(
        self, fax_id: str, statuses: str | Iterable[str], timeout: float = 60.0, poll_interval: float = 0.02
    ) -> dict[str, Any]:
        """Poll the control view until the fax reaches one of ``statuses``; return that view.

        :raises TimeoutError: with the last status seen.
        """
        wanted = {statuses} if isinstance(statuses, str) else set(statuses)
        deadline = time.monotonic() + timeout
        while True:
            fax = self.fax(fax_id)
            if fax["status"] in wanted:
                return fax
            if time.monotonic() >= deadline:
                raise TimeoutError(f"fax {fax_id} is {fax['status']!r}, not in {sorted(wanted)} after {timeout}s")
            time.sleep(poll_interval)

    def wait_for_events(self, fax_id: str, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until ``count`` events exist for the fax and each has finished its webhook deliveries."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.events(fax_id)
            if len(events) >= count:
                return events
            if time.monotonic() >= deadline:
                raise TimeoutError(f"fax {fax_id} has {len(events)} events, wanted {count}")
            time.sleep(0.02)

    def stop(self) -> int | None:
        """Close the control session (an :class:`EmulatorProcess` also stops its server)."""
        self._http.close()
        return None

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class EmulatorProcess(EmulatorHandle):
    """An emulator running in a child process started by :meth:`start` (use :func:`start_emulator`).

    The server runs in its own process so its CPU cost never mixes with the client's.
    """

    def __init__(self, root_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.process = process
        self.pid = process.pid
        self.log_path = log_path
        super().__init__(root_url)

    @classmethod
    def start(
        cls,
        *,
        api_key: str = DEFAULT_API_KEY,
        connection_id: str = DEFAULT_CONNECTION_ID,
        from_number: str = DEFAULT_FROM_NUMBER,
        speed: float | str = "fast",
        outcomes: Mapping[str, OutcomeSpec] | None = None,
        webhook_url: str | None = None,
        webhook_failover_url: str | None = None,
        rate_limit: float | None = None,
        busy_lines: bool = True,
        max_in_flight: int | None = DEFAULT_MAX_IN_FLIGHT,
        channel_limit: int | None = DEFAULT_CHANNEL_LIMIT,
        application_channel_limit: int | None = None,
        profile_channel_limit: int | None = None,
        daily_page_budget: int | None = None,
        event_log: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        extra_args: Iterable[str] = (),
        startup_timeout: float = 120.0,
    ) -> EmulatorProcess:
        workdir = Path(tempfile.mkdtemp(prefix="telnyx-fax-emulator-"))
        args = [
            sys.executable, "-m", "telnyx_fax_emulator",
            "--host", host, "--port", str(port), "--api-key", api_key,
            "--connection-id", connection_id, "--from-number", from_number, "--speed", str(speed),
            "--busy-lines" if busy_lines else "--no-busy-lines", "--max-in-flight", str(max_in_flight or 0),
            "--channel-limit", str(channel_limit or 0),
        ]  # fmt: skip
        if outcomes:
            outcomes_file = workdir / "outcomes.json"
            outcomes_file.write_text(json.dumps(dict(outcomes)))
            args += ["--outcomes-file", str(outcomes_file)]
        for flag, value in (
            ("--webhook-url", webhook_url),
            ("--webhook-failover-url", webhook_failover_url),
            ("--rate-limit", rate_limit),
            ("--application-channel-limit", application_channel_limit),
            ("--profile-channel-limit", profile_channel_limit),
            ("--daily-page-budget", daily_page_budget),
            ("--event-log", event_log),
        ):
            if value is not None:
                args += [flag, str(value)]
        args += list(extra_args)
        log_path = workdir / "emulator.log"
        # A file rather than a pipe: nobody has to keep draining it while the emulator runs.
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        root_url = cls._wait_until_ready(process, log_path, startup_timeout)
        return cls(root_url, process, log_path)

    @staticmethod
    def _wait_until_ready(process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = log_path.read_text(errors="replace")
            match = _BASE_URL_RE.search(output)
            if READY_MARKER in output and match:
                return match.group(1)
            if process.poll() is not None:
                raise RuntimeError(f"the emulator exited with {process.returncode}:\n{output}")
            time.sleep(0.02)
        process.kill()
        process.wait()
        raise RuntimeError(f"the emulator did not start within {timeout}s:\n{log_path.read_text(errors='replace')}")

    def stop(self, timeout: float = 10.0) -> int | None:
        """Terminate the emulator process (SIGTERM, then SIGKILL) and return its exit code."""
        super().stop()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(OSError):
            self.log_path.unlink()
            self.log_path.parent.joinpath("outcomes.json").unlink(missing_ok=True)
            self.log_path.parent.rmdir()
        return self.process.returncode

    def __enter__(self) -> EmulatorProcess:
        return self


def start_emulator(**options: Any) -> EmulatorProcess:
    """Start the emulator in a subprocess on a free loopback port; see :meth:`EmulatorProcess.start`."""
    return EmulatorProcess.start(**options)
