"""Fixtures for the fax inbox tests: Debian's headless Chromium driven by Selenium, and the emulator.

The browser tests skip when Chromium or chromedriver is missing, except under CI (``CI`` set), where
they fail: ``.ci/run`` installs both, so a skip there would hide a broken setup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from telnyx_fax_emulator_tests.support import REPO_ROOT
from tests.support.browser import headless_chromium

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


# Screenshots land here (gitignored), for people and for CI artifacts.
ARTIFACTS_DIR = REPO_ROOT / ".artifacts" / "inbox"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (a fresh profile in a temp dir), quit at the end."""
    with headless_chromium(window_size="1280,900") as driver:
        yield driver


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR
