"""``python -m airflow_provider_telnyx_fax.emulator``."""

from __future__ import annotations

import sys

from airflow_provider_telnyx_fax.emulator.cli import main

sys.exit(main())
