"""A local emulator of the Telnyx Programmable Fax API, for tests, demos and benchmarks.

Start it from code with :func:`start_emulator` (a subprocess on a free loopback port), from a
shell with ``telnyx-fax-emulator``, or in pytest with the ``telnyx_fax_emulator`` fixture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorHandle, EmulatorProcess, start_emulator

__version__ = "0.1.0"

__all__ = ["EmulatorHandle", "EmulatorProcess", "__version__", "start_emulator"]


_LAUNCHER_NAMES = frozenset({"EmulatorHandle", "EmulatorProcess", "start_emulator"})


def __getattr__(name: str) -> Any:
    # Lazy, so importing the pytest plugin (every pytest run) does not pull in requests or FastAPI.
    if name in _LAUNCHER_NAMES:
        from telnyx_fax_emulator import launcher

        return getattr(launcher, name)
    raise AttributeError(name)
