#!/usr/bin/env bash
# Runs every benchmark (emulator in its own process, each client variant in a fresh one) and prints one table.
# Extra arguments go to `python -m benchmarks`, e.g. `--quick`, `--faxes 200`, `--markdown out.md`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$repo_root"
python -m benchmarks "$@"
