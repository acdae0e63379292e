"""Building a distribution's wheel and installing it into a fresh virtualenv, as a user would (with uv)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCK_FILE = REPO_ROOT / "requirements" / "dev.lock"
# uv from the dev environment if it is there, else from PATH; its cache makes a fresh venv take seconds.
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def _uv(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    assert UV is not None, "uv is needed to build wheels and virtualenvs"
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    return subprocess.run([UV, *args], check=True, capture_output=True, text=True, env=env, timeout=timeout)


def build_wheel(project: Path, out_dir: Path) -> Path:
    """Build ``project``'s wheel into ``out_dir`` and return it."""
    _uv("build", "--wheel", "--out-dir", str(out_dir), str(project), timeout=300)
    (wheel,) = out_dir.glob("*.whl")
    return wheel


def fresh_venv(path: Path, *requirements: str) -> Path:
    """A new virtualenv at ``path`` with ``requirements`` (uv pip install arguments); returns its python."""
    _uv("venv", "--python", f"{sys.version_info.major}.{sys.version_info.minor}", str(path), timeout=300)
    python = path / "bin" / "python"
    _uv("pip", "install", "--python", str(python), *requirements)
    return python
