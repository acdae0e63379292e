"""Airflow finds the provider: connection type, connection form, and ``airflow providers list``."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from importlib.metadata import metadata
from pathlib import Path

import pytest
from airflow.providers_manager import ProvidersManager
from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

from airflow_provider_telnyx_fax import __version__
from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
from airflow_provider_telnyx_fax.validation import E164
from tests.support.wheels import LOCK_FILE, REPO_ROOT, UV, build_wheel, fresh_venv

DISTRIBUTION = "airflow-provider-telnyx-fax"
CONNECTION_ID_WIDGET = "extra__telnyx_fax__connection_id"
FROM_NUMBER_WIDGET = "extra__telnyx_fax__from_number"


@pytest.fixture(scope="module")
def providers_manager() -> ProvidersManager:
    return ProvidersManager()


class TestInProcessRegistration:
    def test_the_distribution_is_a_provider_at_the_package_version(self, providers_manager):
        provider = providers_manager.providers[DISTRIBUTION]

        assert provider.version == __version__
        assert provider.data["name"] == "Telnyx Fax"

    def test_every_setting_was_added_in_a_version_the_provider_has(self, providers_manager):
        data = providers_manager.providers[DISTRIBUTION].data
        added = {
            name: option["version_added"]
            for section in data["config"].values()
            for name, option in section["options"].items()
        }

        assert __version__ in data["versions"]
        assert {name: version for name, version in added.items() if version not in data["versions"]} == {}

    def test_the_provider_page_links_to_the_documentation(self, providers_manager):
        urls = dict(entry.split(", ", 1) for entry in metadata(DISTRIBUTION).get_all("Project-URL") or [])

        assert set(urls) >= {"Documentation", "Source", "Changelog", "Issues"}
        # Airflow takes the UI provider page's link from the "Documentation" project URL (3.3), not provider info.
        data = providers_manager.providers[DISTRIBUTION].data
        if "documentation-url" in data:
            # Airflow 3.2 keeps the space after the comma of "Documentation, <url>".
            assert data["documentation-url"].strip() == urls["Documentation"]

    def test_connection_type_maps_to_the_hook_for_the_ui(self, providers_manager):
        if hasattr(providers_manager, "iter_connection_type_hook_ui_metadata"):
            metadata = {
                entry.connection_type: entry for entry in providers_manager.iter_connection_type_hook_ui_metadata()
            }
            entry = metadata["telnyx_fax"]
        else:  # Airflow 3.2, our minimum, imports the hook to describe it
            entry = providers_manager.hooks["telnyx_fax"]
        assert entry.hook_name == "Telnyx Fax"
        assert entry.hook_class_name == "airflow_provider_telnyx_fax.hooks.fax.TelnyxFaxHook"

    def test_task_runtime_resolves_the_hook_and_the_connection_is_testable(self):
        hook_info = ProvidersManagerTaskRuntime().hooks["telnyx_fax"]

        assert hook_info is not None
        assert hook_info.hook_name == "Telnyx Fax"
        assert hook_info.connection_id_attribute_name == "telnyx_conn_id"
        # The UI shows the "Test" button only for hooks that define test_connection.
        assert hook_info.connection_testable is True
        assert TelnyxFaxHook.default_conn_name == "telnyx_fax_default"

    def test_connection_form_has_the_two_extra_fields(self, providers_manager):
        widgets = providers_manager.connection_form_widgets

        connection_id = widgets[CONNECTION_ID_WIDGET]
        from_number = widgets[FROM_NUMBER_WIDGET]
        assert connection_id.field_name == "connection_id"
        assert connection_id.field["schema"]["title"] == "Fax Application id"
        assert from_number.field_name == "from_number"
        assert from_number.field["schema"]["title"] == "Default from number"
        assert not connection_id.is_sensitive
        assert not from_number.is_sensitive

    def test_from_number_field_carries_the_same_e164_pattern_the_hook_enforces(self, providers_manager):
        pattern = providers_manager.connection_form_widgets[FROM_NUMBER_WIDGET].field["schema"]["pattern"]

        assert pattern == E164.pattern

    def test_field_behaviour_hides_unused_fields_and_relabels_host_and_password(self, providers_manager):
        behaviour = providers_manager.field_behaviours["telnyx_fax"]

        assert set(behaviour["hidden_fields"]) == {"schema", "port", "login"}
        assert behaviour["relabeling"] == {"host": "API base URL", "password": "API key (V2)"}
        assert behaviour["placeholders"]["host"] == "https://api.telnyx.com/v2"
        assert behaviour["placeholders"][FROM_NUMBER_WIDGET].startswith("+")


def airflow_env(airflow_home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(airflow_home)
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    return env


def providers_list(airflow: Path, airflow_home: Path) -> str:
    result = subprocess.run(
        [str(airflow), "providers", "list", "--output", "plain"],
        capture_output=True,
        text=True,
        env=airflow_env(airflow_home),
        cwd=airflow_home.parent,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_airflow_providers_list_shows_the_package(tmp_path):
    output = providers_list(Path(sys.executable).with_name("airflow"), tmp_path / "airflow-home")

    lines = [line.split() for line in output.splitlines()]
    assert any(DISTRIBUTION in line and __version__ in line for line in lines), output


@pytest.mark.skipif(UV is None, reason="needs uv to build a fresh virtualenv quickly")
def test_a_fresh_venv_with_the_built_wheel_lists_the_provider_and_carries_no_emulator(tmp_path):
    """What a user does: install the package next to Airflow, then ask Airflow what it sees."""
    wheel = build_wheel(REPO_ROOT, tmp_path / "dist")
    venv = tmp_path / "venv"
    python = fresh_venv(venv, "-r", str(LOCK_FILE), str(wheel))

    output = providers_list(venv / "bin" / "airflow", tmp_path / "airflow-home")

    assert any(DISTRIBUTION in line.split() for line in output.splitlines()), output
    installed = subprocess.run(
        [str(python), "-c", "import airflow_provider_telnyx_fax as p; print(p.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert str(venv) in installed
    # The emulator is a distribution of its own: none of it ships with the provider.
    files = zipfile.ZipFile(wheel).namelist()
    assert [name for name in files if "emulator" in name] == []
    # The Faxes page's template, script and style sheet are package data.
    page = "airflow_provider_telnyx_fax/plugins/"
    assert {f"{page}templates/faxes.html", f"{page}static/faxes.js", f"{page}static/faxes.css"} <= set(files)
    plugins = subprocess.run(
        [str(python), "-c", PRINT_ENTRY_POINTS, "pytest11", "console_scripts"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout.split()
    assert "telnyx_fax_emulator" not in plugins
    assert "telnyx-fax-emulator" not in plugins
    assert not (venv / "bin" / "telnyx-fax-emulator").exists()


PRINT_ENTRY_POINTS = """
import importlib.metadata, sys
for group in sys.argv[1:]:
    for entry in importlib.metadata.entry_points(group=group):
        print(entry.name)
"""
