#!/usr/bin/env bash
# Sets up the pinned environment, then runs lint, type checks, the strict docs build and the whole test suite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$repo_root"
echo "==> ruff"
ruff check .
ruff format --check .
echo "==> mypy"
mypy
echo "==> docs (mkdocs build --strict: a broken link or anchor fails)"
# Not --quiet: it silences the warnings that --strict turns into a failure, and the build then passes.
site_dir="$(mktemp -d)"
trap 'rm -rf "$site_dir"' EXIT
mkdocs build --strict --site-dir "$site_dir"
echo "==> pytest"
# Two workers (more on a bigger machine): the real-Airflow suites run one after another on one of them (tests/conftest.py
# groups them), everything else spreads over the rest. `-n 0` runs in one process, as a single test is best run.
pytest --numprocesses auto --dist loadgroup "$@"
