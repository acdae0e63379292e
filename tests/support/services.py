"""Throw-away PostgreSQL and Redis servers from Debian's packages, on free loopback ports, for the scale-out run.

Each is started by the test, in its own process group, with its data in a temp dir removed afterwards. A
missing package is a skip with the reason, or a failure under ``CI`` (``.ci/run`` installs both).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.airflow_processes import stop_groups
from tests.support.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

POSTGRES_USER = "postgres"  # the system user Debian's package creates; PostgreSQL refuses to run as root
DATABASE_USER = "airflow"


def missing(what: str) -> None:
    """Skip the test that needs ``what``, or fail it in CI, where it must have been installed."""
    reason = f"{what} is not installed (apt-get install postgresql redis-server; .ci/run does it)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def postgres_bin_dir() -> Path:
    """The newest PostgreSQL server binaries Debian installed (``/usr/lib/postgresql/<major>/bin``)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda path: int(path.parts[-3]), reverse=True
    )
    if not candidates:
        missing("PostgreSQL (Debian's postgresql package)")
    return candidates[0].parent


def _as_server_user() -> dict[str, Any]:
    """Popen arguments that drop root to the ``postgres`` user; nothing when we are not root."""
    if os.geteuid() != 0:
        return {}
    return {"user": POSTGRES_USER, "group": POSTGRES_USER, "extra_groups": []}


def wait_for(check: Any, timeout: float, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not come up in {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


@dataclass(frozen=True)
class Postgres:
    """A running throw-away cluster: superuser ``airflow`` with trust authentication, database ``airflow``."""

    port: int
    bin_dir: Path
    log: Path
    database: str = "airflow"

    def url(self, driver: str = "psycopg2", scheme: str = "postgresql") -> str:
        return f"{scheme}+{driver}://{DATABASE_USER}@127.0.0.1:{self.port}/{self.database}"

    def dump(self) -> str:
        """The whole metadata database as SQL (``pg_dump``): schema and every row."""
        result = subprocess.run(
            [
                str(self.bin_dir / "pg_dump"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                DATABASE_USER,
                self.database,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return result.stdout


@contextlib.contextmanager
def running_postgres() -> Iterator[Postgres]:
    """initdb a cluster in a fresh temp dir and run it on a free port; stop it and delete it afterwards."""
    import psycopg2

    bin_dir = postgres_bin_dir()
    # Not under pytest's tmp dir: its parents are private to root, and the server runs as ``postgres``.
    root = Path(tempfile.mkdtemp(prefix="telnyx-fax-postgres-"))
    data, sockets, log = root / "data", root / "sockets", root / "postgres.log"
    as_server_user = _as_server_user()
    if as_server_user:
        shutil.chown(root, POSTGRES_USER, POSTGRES_USER)
    process: subprocess.Popen[bytes] | None = None
    try:
        for directory in (data, sockets):
            directory.mkdir()
            if as_server_user:
                shutil.chown(directory, POSTGRES_USER, POSTGRES_USER)
        initdb = subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", DATABASE_USER, "--auth=trust", "-E", "UTF8", "--no-sync"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **as_server_user,
        )
        assert initdb.returncode == 0, initdb.stdout + initdb.stderr
        port = free_port()
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(sockets),
            # A test database: durability buys nothing and costs the shared CPU time.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "300",
        }
        options = [item for name, value in settings.items() for item in ("-c", f"{name}={value}")]
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), *options],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                **as_server_user,
            )

        def accepts(database: str = "postgres") -> bool:
            psycopg2.connect(host="127.0.0.1", port=port, user=DATABASE_USER, dbname=database).close()
            return True

        wait_for(accepts, 60, "PostgreSQL", process, log)
        connection = psycopg2.connect(host="127.0.0.1", port=port, user=DATABASE_USER, dbname="postgres")
        try:
            connection.autocommit = True
            connection.cursor().execute("CREATE DATABASE airflow")
        finally:
            connection.close()
        yield Postgres(port=port, bin_dir=bin_dir, log=log)
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class Redis:
    port: int

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"


@contextlib.contextmanager
def running_redis(directory: Path) -> Iterator[Redis]:
    """``redis-server`` on a free loopback port, nothing persisted; its log in ``directory``."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        missing("Redis (Debian's redis-server package)")
    port = free_port()
    log = directory / "redis.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=directory,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        wait_for(lambda: redis.Redis(host="127.0.0.1", port=port).ping(), 30, "Redis", process, log)
        yield Redis(port=port)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (PostgreSQL: smart shutdown once its clients are gone; Redis: exit), then SIGKILL the group."""
    stop_groups([process], grace=30)
