#!/usr/bin/env bash
# The README's first command: fax a generated multi-page report with Airflow through a local Telnyx Fax
# emulator. Needs only python3 and pip (no Telnyx account, no network beyond the package index).
# Options go to scripts/demo.py: --to NUMBER, --demo-dir DIR, --speed X, --keep-emulator.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$repo_root"
exec python scripts/demo.py "$@"
