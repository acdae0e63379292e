"""The assets webhooks update: one per connection and kind, named as configured."""

from __future__ import annotations

import pytest

from airflow_provider_telnyx_fax.assets import FaxEventKind, fax_asset, fax_asset_uri


def test_the_default_names_carry_the_connection_and_the_kind():
    assert fax_asset_uri("received") == "telnyx-fax://telnyx_fax_default/received"
    assert fax_asset_uri(FaxEventKind.FAILED, "billing") == "telnyx-fax://billing/failed"
    assert fax_asset("delivered", "billing").uri == "telnyx-fax://billing/delivered"


def test_a_configured_template_renames_one_kind_only(monkeypatch):
    monkeypatch.setenv("AIRFLOW__TELNYX_FAX__WEBHOOK_RECEIVED_ASSET", "telnyx-fax://inbox/{conn_id}")

    assert fax_asset_uri("received", "clinic") == "telnyx-fax://inbox/clinic"
    assert fax_asset_uri("failed", "clinic") == "telnyx-fax://clinic/failed"


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="queued"):
        fax_asset_uri("queued")
