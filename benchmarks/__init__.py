"""Benchmarks of the provider against the alternatives users would pick; run them all with ``python -m benchmarks``."""
