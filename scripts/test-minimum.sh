#!/usr/bin/env bash
# Runs the tests that depend on the declared minimum versions against the oldest versions the two
# pyproject.toml files allow (Airflow 3.2.2, providers-http 5.6.0, common-compat 1.21.0, ...:
# requirements/minimum.lock), so those minimums stay true: the provider's unit tests, which run its hooks,
# operators, sensors, triggers and plugins on that Airflow, and the emulator's API tests on its oldest
# dependencies. Tests of our own code at scale (marked `scale`) and the system suites (example DAGs, real
# Airflow processes, the browser) run on the newest versions only, in scripts/test.sh.
set -euo pipefail
export VENV_NAME=.venv-minimum LOCK_FILE=requirements/minimum.lock
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$repo_root"
echo "==> pytest on the minimum versions ($(python -c 'import airflow; print("Airflow", airflow.__version__)'))"
# tests/unit: every module's unit tests, provider registration (test_get_provider_info.py) included.
pytest tests/unit telnyx-fax-emulator/tests/telnyx_fax_emulator_tests/api -m "not scale" \
  --numprocesses auto --dist loadgroup "$@"
