"""Under pytest-xdist, the real-Airflow suites really share one worker (tests/conftest.py groups them)."""

from __future__ import annotations

import os

import pytest


def test_the_system_suites_are_grouped_onto_one_worker(request: pytest.FixtureRequest):
    """Two deployments at once would starve each other on 2 cores; a pytest upgrade once silently undid this.

    pytest-xdist's ``--dist loadgroup`` keeps a group on one worker through a suffix on the test's id, which
    pytest 9.2 no longer lets it set (pytest-dev/pytest-xdist#1386): the tests then spread like any others.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        pytest.skip("not under pytest-xdist: every test runs in this one process")
    assert request.node.nodeid.endswith("@real-airflow"), request.node.nodeid
