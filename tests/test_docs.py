"""README.md and docs/: what `mkdocs build --strict` cannot check (it never reads README.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"
PAGES = sorted((REPO_ROOT / "docs").glob("*.md"))
# [text](target) and ![alt](target); a target ends at whitespace or the closing parenthesis.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def without_code_blocks(markdown: str) -> str:
    return re.sub(r"^```.*?^```", "", markdown, flags=re.DOTALL | re.MULTILINE)


def without_code(markdown: str) -> str:
    """The text outside fenced code blocks and code spans, where a link is a link."""
    return re.sub(r"`[^`\n]*`", "", without_code_blocks(markdown))


def anchors(page: Path) -> set[str]:
    """The heading ids MkDocs gives a page (the toc extension's slugify)."""
    headings = HEADING.findall(without_code_blocks(page.read_text()))
    return {slugify(heading.replace("`", ""), "-") for heading in headings}


def test_every_relative_link_in_the_readme_resolves():
    targets = [target for target in LINK.findall(without_code(README.read_text())) if "://" not in target]
    assert targets, "README.md links into docs/"
    for target in targets:
        path, _, fragment = target.partition("#")
        file = (REPO_ROOT / path).resolve() if path else README
        assert file.is_relative_to(REPO_ROOT), f"README.md links outside the repository: {target}"
        assert file.is_file(), f"README.md links to {target}, which is not a file in the repository"
        if fragment and file.suffix == ".md":
            assert fragment in anchors(file), f"README.md links to {target}, but {path} has no heading #{fragment}"


def test_the_readme_is_the_front_door():
    readme = README.read_text()
    # The two commands a newcomer runs from a fresh clone.
    assert "bash scripts/demo.sh" in readme
    assert "bash scripts/test.sh" in readme
    size = len(readme.encode())
    assert size <= 8000, f"README.md is {size} bytes; move the detail to a page in docs/"
    linked = {target.partition("#")[0] for target in LINK.findall(without_code(readme))}
    unlinked = [page.name for page in PAGES if f"docs/{page.name}" not in linked]
    assert not unlinked, f"README.md does not link to {unlinked}"


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda page: page.name)
def test_python_snippets_compile_and_are_ruff_formatted(page: Path):
    for number, snippet in enumerate(PYTHON_BLOCK.findall(page.read_text()), start=1):
        where = f"{page.name}, Python block {number}"
        compile(snippet, where, "exec")
        result = subprocess.run(
            [sys.executable, "-m", "ruff", "format", "--diff", "--stdin-filename", f"{page.stem}_snippet.py", "-"],
            input=snippet,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            check=False,
        )
        assert result.returncode == 0, f"{where} is not formatted as ruff formats it:\n{result.stdout}{result.stderr}"
