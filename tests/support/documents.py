"""Fax documents for the tests: real PDFs from the emulator's one blank-PDF builder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telnyx_fax_emulator.documents import blank_pdf

if TYPE_CHECKING:
    from pathlib import Path


def make_pdf(path: Path, pages: int) -> Path:
    """Write a real PDF of ``pages`` blank pages to ``path``."""
    path.write_bytes(blank_pdf(pages))
    return path
