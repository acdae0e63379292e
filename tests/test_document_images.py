"""scripts/document_images.py, which draws the pictures in docs/images/, still runs (into a tmp dir, for a look)."""

from __future__ import annotations

import runpy
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_the_docs_pictures_of_the_cover_page_and_reports_are_drawn(tmp_path):
    script = runpy.run_path(str(REPO_ROOT / "scripts" / "document_images.py"))

    written = script["main"](tmp_path)

    names = sorted(path.name for path in written)
    assert names == ["batch-report.png", "cover-page.png", "transmission-report.png"]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (REPO_ROOT / "docs" / "images" / path.name).is_file(), "docs/images/ holds the committed picture"
