"""The official Telnyx Node SDK (``telnyx`` on npm, 7.x), which nobody on this team wrote, drives the emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telnyx_fax_emulator_tests.support import assert_the_node_sdk_saw_telnyx, drive_with_the_node_sdk

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess


def test_the_node_sdk_creates_retrieves_lists_cancels_deletes_and_gets_typed_errors(emulator: EmulatorProcess) -> None:
    result = drive_with_the_node_sdk(emulator.base_url, emulator.api_key, emulator.connection_id, emulator.from_number)

    assert_the_node_sdk_saw_telnyx(result)
    assert emulator.request_count("POST", "/v2/faxes") == 6
    assert emulator.request_count("DELETE", "/v2/faxes/*") == 1
