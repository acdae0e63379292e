"""Fixtures for the fax inbox tests: Debian's headless Chromium driven by Selenium, and the emulator.

The browser tests skip when Chromium or chromedriver is missing, except under CI (``CI`` set), where
they fail: ``.ci/run`` installs both, so a skip there would hide a broken setup.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from telnyx_fax_emulator_tests.support import REPO_ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Screenshots land here (gitignored), for people and for CI artifacts.
ARTIFACTS_DIR = REPO_ROOT / ".artifacts" / "inbox"
# The machine's network is closed: these flags stop Chromium from stalling on its own traffic.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def browser_unavailable(reason: str) -> None:
    """Skip, or fail under CI, where the browser must be installed."""
    if running_in_ci():
        pytest.fail(f"{reason}. CI is set, so the browser tests fail instead of skipping.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (a fresh profile in a temp dir), quit at the end."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        browser_unavailable(
            f"the inbox browser tests need Debian's chromium and chromium-driver ({', '.join(missing)} missing; "
            "apt-get install chromium chromium-driver)"
        )
    try:
        from selenium import webdriver
    except ImportError:
        browser_unavailable("the inbox browser tests need selenium (it is in the dev extra)")
        raise  # unreachable: browser_unavailable raises
    profile = tempfile.mkdtemp(prefix="inbox-chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # Given both binaries, Selenium never runs Selenium Manager (which would try the network).
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR
