"""The Fax Application calls and the channel limit a send can count on."""

from __future__ import annotations

import asyncio
import json

import pytest

from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
from airflow_provider_telnyx_fax.hooks.applications import channel_limit_extra, outbound_channel_limit
from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("10", 10), (4, 4), (" 2 ", 2)])
def test_the_channel_limit_extra_is_a_whole_number_of_calls(value, expected):
    assert channel_limit_extra({"channel_limit": value}) == expected


@pytest.mark.parametrize("value", ["0", "-1", "ten", 2.5])
def test_a_bad_channel_limit_extra_names_the_field_and_the_fix(value):
    with pytest.raises(TelnyxFaxValidationError, match=r"'channel_limit'.*whole number of calls"):
        channel_limit_extra({"channel_limit": value})


def test_an_applications_outbound_limit_is_read_and_an_unset_one_is_none():
    assert outbound_channel_limit({"outbound": {"channel_limit": 10}}) == 10
    assert outbound_channel_limit({"outbound": {"channel_limit": None}}) is None
    assert outbound_channel_limit({}) is None


def connection_with(monkeypatch, emulator, **extra: object) -> None:
    conn = json.loads(emulator.airflow_conn_json)
    conn["extra"] = {**conn.get("extra", {}), **extra}
    monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", json.dumps(conn))


def test_the_lower_of_the_connection_and_the_application_is_the_known_limit(telnyx_fax_emulator, monkeypatch):
    telnyx_fax_emulator.set_limits(application_channel_limit=6)
    assert asyncio.run(TelnyxFaxHook().aknown_channel_limit()) == 6
    assert TelnyxFaxHook().get_fax_application()["outbound"]["channel_limit"] == 6

    connection_with(monkeypatch, telnyx_fax_emulator, channel_limit="3")
    assert asyncio.run(TelnyxFaxHook().aknown_channel_limit()) == 3


def test_nothing_known_when_neither_states_a_limit_or_the_application_cannot_be_read(telnyx_fax_emulator, monkeypatch):
    assert asyncio.run(TelnyxFaxHook().aknown_channel_limit()) is None
    assert asyncio.run(TelnyxFaxHook().aknown_channel_limit("no-such-application")) is None
