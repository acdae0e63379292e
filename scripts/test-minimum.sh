#!/usr/bin/env bash
# Runs the provider's tests against the oldest versions pyproject.toml allows (Airflow 3.2.2,
# providers-http 5.6.0, common-compat 1.21.0, ...: requirements/minimum.lock), so the declared
# minimums stay true. The browser and system suites (tests/system: example DAGs, real Airflow processes) run
# on the newest versions only.
set -euo pipefail
export VENV_NAME=.venv-minimum LOCK_FILE=requirements/minimum.lock
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$repo_root"
echo "==> pytest on the minimum versions ($(python -c 'import airflow; print("Airflow", airflow.__version__)'))"
# tests/unit: every module's unit tests, provider registration (test_get_provider_info.py) included.
pytest tests/unit telnyx-fax-emulator/tests/telnyx_fax_emulator_tests/api "$@"
