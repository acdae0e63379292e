#!/usr/bin/env bash
# Creates (or reuses) .venv with the pinned development environment from requirements/dev.lock.
# Sourced by scripts/demo.sh and scripts/test.sh; needs only python3 (3.10+) and pip.
# VENV_NAME and LOCK_FILE select another environment (scripts/test-minimum.sh uses the oldest versions).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo_root/${VENV_NAME:-.venv}"
lock="$repo_root/${LOCK_FILE:-requirements/dev.lock}"
python_bin="${PYTHON:-python3}"
stamp="$venv/.installed-from"
wanted="$(cat "$lock" "$repo_root/pyproject.toml" "$repo_root/telnyx-fax-emulator/pyproject.toml" "${BASH_SOURCE[0]}" \
  | sha256sum | cut -d' ' -f1)"

if [ ! -x "$venv/bin/python" ]; then
  echo "==> creating $venv"
  "$python_bin" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "==> installing the pinned environment (${lock#"$repo_root"/})"
  # uv resolves and installs the ~160 pinned wheels in seconds where pip takes minutes.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
  "$venv/bin/python" -m uv pip install --quiet --python "$venv/bin/python" -r "$lock"
  # Both distributions from the checkout: the provider and the emulator its tests run against.
  "$venv/bin/python" -m uv pip install --quiet --python "$venv/bin/python" --no-deps \
    -e "$repo_root" -e "$repo_root/telnyx-fax-emulator"
  # Compiled once here: every Airflow process the tests start would otherwise compile Airflow's modules again
  # (about 2 s more per process) where PYTHONDONTWRITEBYTECODE is set, as on CI's machines, and no .pyc is kept.
  site_packages="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
  "$venv/bin/python" -m compileall -q -j 0 "$site_packages" >/dev/null
  echo "$wanted" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
