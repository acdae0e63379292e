"""``python -m telnyx_fax_emulator``."""

from __future__ import annotations

import sys

from telnyx_fax_emulator.cli import main

sys.exit(main())
