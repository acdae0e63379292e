"""Debian's headless Chromium driven by Selenium, for the tests of pages (skipped where it is missing, but under CI)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
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
)


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def browser_unavailable(reason: str) -> None:
    """Skip, or fail under CI, where ``.ci/run`` installs the browser."""
    if running_in_ci():
        pytest.fail(f"{reason}. CI is set, so the browser tests fail instead of skipping.", pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def headless_chromium(window_size: str = "1280,900") -> Iterator[Any]:
    """A headless Chromium with a fresh profile, quit at the end."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        browser_unavailable(f"browser tests need Debian's chromium and chromium-driver ({', '.join(missing)} missing)")
    try:
        from selenium import webdriver
    except ImportError:
        browser_unavailable("browser tests need selenium (it is in the dev extra)")
        raise  # unreachable: browser_unavailable raises
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--window-size={window_size}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # Given both binaries, Selenium never runs Selenium Manager (which would try the network).
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
