"""The official Telnyx Python SDK, which nobody on this team wrote, works against the emulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
import telnyx

from telnyx_fax_emulator_tests.support import OTHER_NUMBER, TEST_NUMBER_DELIVERED

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess


def create(sdk: Any, emulator: EmulatorProcess, to: str = TEST_NUMBER_DELIVERED, **kwargs: Any) -> Any:
    kwargs.setdefault("media_url", "https://example.com/report.pdf")
    return sdk.faxes.create(connection_id=emulator.connection_id, from_=emulator.from_number, to=to, **kwargs)


def test_create_by_media_url_and_retrieve(sdk: Any, emulator: EmulatorProcess) -> None:
    created = create(sdk, emulator, client_state="aGVsbG8=", quality="very_high")
    assert created.data.status == "queued"
    assert created.data.direction == "outbound"
    assert created.data.client_state == "aGVsbG8="
    assert created.data.failure_reason is None

    emulator.wait_for_status(created.data.id, "delivered")
    fetched = sdk.faxes.retrieve(created.data.id)
    assert fetched.data.status == "delivered"
    assert fetched.data.quality == "very_high"
    assert fetched.data.media_url == "https://example.com/report.pdf"
    assert isinstance(fetched.data.updated_at, datetime)


def test_upload_media_then_send_by_media_name(sdk: Any, emulator: EmulatorProcess, pdf_file: Any) -> None:
    path = pdf_file(3)
    uploaded = sdk.media.upload(media_url=path.as_uri(), media_name="quarterly-report", ttl_secs=3600)
    assert uploaded.data.media_name == "quarterly-report"
    assert uploaded.data.content_type == "application/pdf"
    assert sdk.media.retrieve("quarterly-report").data.media_name == "quarterly-report"
    assert [m.media_name for m in sdk.media.list().data] == ["quarterly-report"]
    assert sdk.media.download("quarterly-report").read() == path.read_bytes()

    fax = create(sdk, emulator, media_url=telnyx.omit, media_name="quarterly-report")
    assert fax.data.media_name == "quarterly-report"
    # The page count comes from the stored PDF.
    assert emulator.wait_for_status(fax.data.id, "delivered")["page_count"] == 3

    sdk.media.delete("quarterly-report")
    with pytest.raises(telnyx.NotFoundError):
        sdk.media.retrieve("quarterly-report")


def test_list_with_filters_and_pages(sdk: Any, emulator: EmulatorProcess) -> None:
    ids = [create(sdk, emulator).data.id for _ in range(3)]
    other = create(sdk, emulator, to=OTHER_NUMBER).data.id

    page = sdk.faxes.list(filter={"to": {"eq": TEST_NUMBER_DELIVERED}}, page_size=2)
    assert [fax.id for fax in page.data] == [ids[2], ids[1]]  # newest first
    assert page.meta.total_results == 3
    assert page.meta.total_pages == 2
    assert [fax.id for fax in page.get_next_page().data] == [ids[0]]
    # The SDK's auto-pagination walks every page.
    everything = [fax.id for fax in sdk.faxes.list(page_size=1)]
    assert everything == [other, *reversed(ids)]

    assert [
        f.id for f in sdk.faxes.list(filter={"from": {"eq": emulator.from_number}, "to": {"eq": OTHER_NUMBER}}).data
    ] == [other]
    assert sdk.faxes.list(filter={"direction": {"eq": "inbound"}}).data == []
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    assert sdk.faxes.list(filter={"created_at": {"gte": future}}).data == []
    assert len(sdk.faxes.list(filter={"created_at": {"lt": future}}).data) == 4


def test_cancel_refresh_and_delete(sdk: Any, emulator: EmulatorProcess) -> None:
    fax = create(sdk, emulator, to="+15550100011")  # stays sending until cancelled
    emulator.wait_for_status(fax.data.id, "sending")
    assert sdk.faxes.actions.cancel(fax.data.id).data.result == "ok"
    cancelled = sdk.faxes.retrieve(fax.data.id).data
    assert cancelled.status == "failed"
    assert cancelled.failure_reason == "sender_canceled"

    assert sdk.faxes.actions.refresh(fax.data.id).data.result == "ok"

    sdk.faxes.delete(fax.data.id)
    with pytest.raises(telnyx.NotFoundError):
        sdk.faxes.retrieve(fax.data.id)


def test_sdk_errors_are_typed(sdk: Any, emulator: EmulatorProcess) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as raised:
        create(sdk, emulator, to="not-a-number")
    assert raised.value.body["errors"][0]["source"] == {"pointer": "/to"}

    bad_key = telnyx.Telnyx(api_key="KEYwrong", base_url=emulator.base_url, max_retries=0)
    with pytest.raises(telnyx.AuthenticationError):
        bad_key.faxes.list()
