"""pytest fixtures for testing DAGs and hooks against the emulator (registered as a ``pytest11`` plugin).

``telnyx_fax_emulator`` gives each test a freshly reset emulator and points
``AIRFLOW_CONN_TELNYX_FAX_DEFAULT`` at it::

    def test_my_dag_sends_a_fax(telnyx_fax_emulator):
        ...  # run the task; the default Telnyx connection now talks to the emulator
        assert telnyx_fax_emulator.request_count("POST", "/v2/faxes") == 1

``telnyx_fax_webhook_receiver`` records the webhooks sent to its ``url`` (see
:mod:`telnyx_fax_emulator.webhook_receiver`).

Imports stay inside the fixtures: pytest loads this module in every run of every project that
has the provider installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from telnyx_fax_emulator.launcher import EmulatorProcess
    from telnyx_fax_emulator.webhook_receiver import WebhookReceiver


@pytest.fixture(scope="session")
def telnyx_fax_emulator_server() -> Iterator[EmulatorProcess]:
    """One emulator subprocess for the whole test session, stopped at the end."""
    from telnyx_fax_emulator.launcher import start_emulator

    handle = start_emulator()
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def telnyx_fax_emulator(
    telnyx_fax_emulator_server: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> EmulatorProcess:
    """The session's emulator, reset, with ``AIRFLOW_CONN_TELNYX_FAX_DEFAULT`` pointing at it."""
    telnyx_fax_emulator_server.reset()
    monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", telnyx_fax_emulator_server.airflow_conn_json)
    return telnyx_fax_emulator_server


@pytest.fixture
def telnyx_fax_webhook_receiver() -> Iterator[WebhookReceiver]:
    """A local server recording each webhook it receives (path, headers, raw body); ``/fail`` answers 500."""
    from telnyx_fax_emulator.webhook_receiver import WebhookReceiver

    with WebhookReceiver() as receiver:
        yield receiver
