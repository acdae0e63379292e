"""Fixtures for the unit tests: DAG runs in-process, and a receiver for the emulator's webhooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.support.dag_runs import DagRunResult, dag_runner

if TYPE_CHECKING:
    from collections.abc import Callable

    from telnyx_fax_emulator.webhook_receiver import WebhookReceiver


@pytest.fixture
def run_dag(airflow_db: Any, telnyx_fax_emulator: Any) -> Callable[..., DagRunResult]:
    """Run one DAG from tests/support/dags to the end with ``dag.test()``, against the emulator."""
    return dag_runner()


@pytest.fixture
def webhook_receiver(telnyx_fax_webhook_receiver: WebhookReceiver) -> WebhookReceiver:
    """The emulator plugin's webhook receiver."""
    return telnyx_fax_webhook_receiver
