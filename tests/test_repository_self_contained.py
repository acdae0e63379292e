"""A clone of the repository alone runs every test: nothing reads outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# A path climbing out of the checkout: "../shared", or parents[N].parent / "shared".
OUTSIDE_REFERENCE = re.compile(r"\.\./shared|\.parent\s*/\s*[\"']shared[\"']")


def test_the_api_contract_is_in_the_repository() -> None:
    from tests.support.openapi_contract import SPEC_PATH

    assert SPEC_PATH.is_file()
    assert SPEC_PATH.resolve().is_relative_to(REPO_ROOT)
    assert (SPEC_PATH.parent / "SOURCE.md").is_file()


def test_no_tracked_file_reads_outside_the_checkout() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.sh", "*.toml", ".ci/*"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    offenders = [
        name
        for name in tracked
        if name != "tests/test_repository_self_contained.py"
        and OUTSIDE_REFERENCE.search((REPO_ROOT / name).read_text(errors="replace"))
    ]
    assert offenders == []
