"""The hook reads proxy and CA settings from the environment once, and nothing overrides its bearer key."""

from __future__ import annotations

import pytest

from airflow_provider_telnyx_fax.exceptions import TelnyxTransportError
from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
from tests.support.api import FAX_ID, SECRET_KEY, connection_uri, fax_record

UNRESOLVABLE_API = "http://api.telnyx.invalid/v2"


@pytest.fixture
def api_behind_proxy(scripted_server, monkeypatch):
    """Telnyx at a host only the proxy (the scripted server) can reach, over plain HTTP as allowed."""
    monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", connection_uri(UNRESOLVABLE_API, allow_http=True))
    monkeypatch.setenv("HTTP_PROXY", scripted_server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    return scripted_server


def test_requests_go_through_the_proxy_from_the_environment(api_behind_proxy):
    api_behind_proxy.queue("GET", f"/v2/faxes/{FAX_ID}", json={"data": fax_record()}, times=2)
    hook = TelnyxFaxHook()

    hook.get_fax(FAX_ID)
    hook.get_fax(FAX_ID)

    [first, second] = api_behind_proxy.requests_to("GET", f"/v2/faxes/{FAX_ID}")
    assert first.header("host") == second.header("host") == "api.telnyx.invalid"


def test_no_proxy_from_the_environment_is_honoured(api_behind_proxy, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "api.telnyx.invalid")

    with pytest.raises(TelnyxTransportError):
        TelnyxFaxHook(max_retries=0).get_fax(FAX_ID)
    assert api_behind_proxy.requests == []


def test_a_netrc_entry_for_the_host_does_not_replace_the_api_key(scripted_server, monkeypatch, tmp_path):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password other-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    scripted_server.queue("GET", f"/v2/faxes/{FAX_ID}", json={"data": fax_record()})

    TelnyxFaxHook().get_fax(FAX_ID)

    [request] = scripted_server.requests_to("GET", f"/v2/faxes/{FAX_ID}")
    assert request.header("authorization") == f"Bearer {SECRET_KEY}"
