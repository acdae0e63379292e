"""The emulator as its own product: its wheel installs and runs in a venv with neither Airflow nor the provider."""

from __future__ import annotations

import re
import signal
import subprocess

import pytest

from telnyx_fax_emulator_tests.support import (
    EMULATOR_ROOT,
    assert_the_node_sdk_saw_telnyx,
    drive_with_the_node_sdk,
    launch,
)
from tests.support.wheels import LOCK_FILE, UV, build_wheel, fresh_venv

# Every module but ``__main__`` (it runs the server) and the pytest plugin (pytest is the user's, not a dependency).
IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys
import telnyx_fax_emulator
skipped = {"telnyx_fax_emulator.__main__", "telnyx_fax_emulator.pytest_plugin"}
names = [info.name for info in pkgutil.walk_packages(telnyx_fax_emulator.__path__, "telnyx_fax_emulator.")]
names = [name for name in names if name not in skipped]
for name in names:
    importlib.import_module(name)
print(len(names), sorted({name.split(".")[0] for name in sys.modules} & {"airflow", "airflow_provider_telnyx_fax"}))
"""


@pytest.mark.skipif(UV is None, reason="needs uv to build a fresh virtualenv quickly")
def test_an_emulator_only_venv_serves_the_node_sdk(tmp_path):
    wheel = build_wheel(EMULATOR_ROOT, tmp_path / "dist")
    venv = tmp_path / "venv"
    # Only the emulator's own dependencies, at the versions the development environment pins.
    python = fresh_venv(venv, "-c", str(LOCK_FILE), str(wheel))

    modules, outside = subprocess.run(
        [str(python), "-c", IMPORT_EVERY_MODULE], capture_output=True, text=True, check=True, cwd=tmp_path, timeout=120
    ).stdout.split(maxsplit=1)
    assert int(modules) > 10
    assert outside.strip() == "[]"
    for absent in ("airflow", "airflow_provider_telnyx_fax"):
        found = subprocess.run([str(python), "-c", f"import {absent}"], capture_output=True, cwd=tmp_path, check=False)
        assert found.returncode != 0, f"{absent} is installed next to the emulator"

    process, banner = launch(venv / "bin" / "telnyx-fax-emulator")
    try:
        base_url = re.search(r"Base URL:\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
        api_key = re.search(r"API key:\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
        connection_id = re.search(r"Connection id:\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
        from_number = re.search(r"From number:\s+(\S+)", banner).group(1)  # type: ignore[union-attr]

        result = drive_with_the_node_sdk(base_url, api_key, connection_id, from_number)

        assert_the_node_sdk_saw_telnyx(result)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
