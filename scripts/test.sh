#!/usr/bin/env bash
# Sets up the pinned environment, then runs lint, type checks and the whole test suite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$repo_root"
echo "==> ruff"
ruff check .
ruff format --check .
echo "==> mypy"
mypy
echo "==> pytest"
pytest "$@"
