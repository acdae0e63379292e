"""Airflow loads TelnyxFaxPlugin, once, with lazy_discover_providers on and off; turned off it adds nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from airflow_provider_telnyx_fax.get_provider_info import get_provider_info

# Runs in a fresh interpreter: Airflow caches the plugins it loaded for the life of a process.
PROBE = """
import json, sys
from airflow import plugins_manager
from airflow.providers_manager import ProvidersManager
plugins, errors = plugins_manager._get_plugins()
ours = [plugin for plugin in plugins if plugin.name == "telnyx_fax"]
apps = [app for plugin in ours for app in plugin.fastapi_apps]
heavy = ("fastapi", "airflow_provider_telnyx_fax.plugins.webhook_app", "airflow_provider_telnyx_fax.plugins.faxes_page")
print(json.dumps({
    "plugins": [plugin.name for plugin in plugins],
    "import_errors": errors,
    "fastapi_apps": [{"name": app["name"], "url_prefix": app["url_prefix"]} for app in apps],
    "external_views": [view for plugin in ours for view in plugin.external_views],
    "ui_views": [view["url_route"] for view in plugins_manager._get_ui_plugins()[0]],
    "heavy_modules": sorted(module for module in heavy if module in sys.modules),
    "provider_hooks": sorted(ProvidersManager().hooks),
}))
"""


def probe(**settings: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW__TELNYX_FAX__")}
    env.update(settings)
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_plugin_is_an_airflow_plugins_entry_point():
    (entry,) = [ep for ep in entry_points(group="airflow.plugins") if ep.name == "telnyx_fax"]

    assert entry.value == "airflow_provider_telnyx_fax.plugins.telnyx_fax:TelnyxFaxPlugin"
    # Also in provider info it would load twice with lazy_discover_providers off (an "already registered" error).
    assert "plugins" not in get_provider_info()


@pytest.mark.parametrize("lazy", ["True", "False"])
def test_it_loads_once_without_import_errors_whatever_lazy_discover_providers_says(lazy):
    loaded = probe(AIRFLOW__CORE__LAZY_DISCOVER_PROVIDERS=lazy)

    assert loaded["plugins"].count("telnyx_fax") == 1
    assert loaded["import_errors"] == {}
    assert loaded["fastapi_apps"] == [
        {"name": "Telnyx Fax webhooks", "url_prefix": "/telnyx-fax"},
        {"name": "Telnyx Fax: Faxes page", "url_prefix": "/telnyx-fax-ui"},
    ]
    # Loading the plugin (as every component does, the dag-processor included) builds no web app.
    assert loaded["heavy_modules"] == []


def test_the_faxes_page_is_in_the_browse_menu_and_a_tab_of_each_dag_run():
    views = {view["url_route"]: view for view in probe()["external_views"]}

    assert views["telnyx-faxes"] == {
        "name": "Faxes",
        "href": "/telnyx-fax-ui/faxes",
        "destination": "nav",
        "category": "browse",
        "url_route": "telnyx-faxes",
    }
    run_tab = views["telnyx-faxes-run"]
    assert (run_tab["destination"], run_tab["href"]) == (
        "dag_run",
        "/telnyx-fax-ui/faxes?dag_id={DAG_ID}&run_id={RUN_ID}",
    )
    # Airflow accepted both: each url_route is its own.
    assert {"telnyx-faxes", "telnyx-faxes-run"} <= set(probe()["ui_views"])


def test_webhooks_turned_off_leave_the_faxes_page_and_nothing_else_changes():
    on = probe()
    off = probe(AIRFLOW__TELNYX_FAX__WEBHOOKS_ENABLED="False")

    assert off["fastapi_apps"] == [{"name": "Telnyx Fax: Faxes page", "url_prefix": "/telnyx-fax-ui"}]
    assert {key: value for key, value in off.items() if key != "fastapi_apps"} == {
        key: value for key, value in on.items() if key != "fastapi_apps"
    }


def test_the_faxes_page_turned_off_leaves_no_view_and_no_app():
    off = probe(AIRFLOW__TELNYX_FAX__FAXES_PAGE_ENABLED="False")

    assert off["fastapi_apps"] == [{"name": "Telnyx Fax webhooks", "url_prefix": "/telnyx-fax"}]
    assert off["external_views"] == []
