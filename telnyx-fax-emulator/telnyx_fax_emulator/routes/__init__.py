"""The emulator's HTTP routes: ``/v2`` (faxes, media) and the control API under ``/_emulator``.

Each route parses its request, calls the backend with plain arguments, and serialises the result.
"""
