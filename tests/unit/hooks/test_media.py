"""TelnyxFaxHook's media calls against a scripted Telnyx stand-in: uploads, upload once by name, deletes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_telnyx_fax.exceptions import TelnyxAPIError, TelnyxFaxValidationError
from airflow_provider_telnyx_fax.hooks.fax import MAX_UPLOAD_BYTES, TelnyxFaxHook
from tests.support.api import telnyx_error

if TYPE_CHECKING:
    from tests.support.scripted_server import ScriptedServer

MEDIA_RECORD = {
    "content_type": "application/pdf",
    "created_at": "2019-01-23T18:10:02.574Z",
    "expires_at": "2020-01-23T18:10:02.574Z",
    "media_name": "report-2024-05-01",
    "updated_at": "2019-01-23T18:10:02.574Z",
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def hook(scripted_server: ScriptedServer, fast_hook_kwargs: dict[str, Any]) -> TelnyxFaxHook:
    return TelnyxFaxHook(**fast_hook_kwargs)


class TestMedia:
    def test_upload_media_sends_multipart_media_name_and_ttl(self, hook, scripted_server):
        scripted_server.queue("POST", "/v2/media", 201, {"data": MEDIA_RECORD})

        record = hook.upload_media(PDF, media_name="report-2024-05-01", ttl_secs=3600, filename="r.pdf")

        assert record == MEDIA_RECORD
        (request,) = scripted_server.requests
        assert request.content_type.startswith("multipart/form-data")
        assert request.multipart()["media"] == ("r.pdf", PDF)
        assert request.form_fields() == {"media_name": "report-2024-05-01", "ttl_secs": "3600"}

    def test_upload_media_from_a_path_names_the_file_and_omits_unset_fields(self, hook, scripted_server, tmp_path):
        document = tmp_path / "quarterly.pdf"
        document.write_bytes(PDF)
        scripted_server.queue("POST", "/v2/media", 201, {"data": MEDIA_RECORD})

        hook.upload_media(document)

        request = scripted_server.requests[0]
        assert request.multipart() == {"media": ("quarterly.pdf", PDF)}

    def test_upload_over_20_mb_fails_before_any_request(self, hook, scripted_server):
        with pytest.raises(TelnyxFaxValidationError) as raised:
            hook.upload_media(b"x" * (MAX_UPLOAD_BYTES + 1), media_name="too-big")

        assert raised.value.field == "media"
        assert "20 MB" in str(raised.value)
        assert scripted_server.requests == []

    def test_upload_of_exactly_20_mb_is_sent(self, hook, scripted_server):
        scripted_server.queue("POST", "/v2/media", 201, {"data": MEDIA_RECORD})

        hook.upload_media(b"x" * MAX_UPLOAD_BYTES, media_name="just-fits")

        assert len(scripted_server.requests) == 1

    @pytest.mark.parametrize(("status", "exists"), [(200, True), (404, False)])
    def test_media_exists(self, hook, scripted_server, status, exists):
        body = {"data": MEDIA_RECORD} if status == 200 else telnyx_error("404", "Not Found", "missing")
        scripted_server.queue("GET", "/v2/media/report-2024-05-01", status, body)

        assert hook.media_exists("report-2024-05-01") is exists
        assert len(scripted_server.requests) == 1

    def test_upload_media_once_uploads_only_what_is_missing(self, hook, scripted_server):
        missing = telnyx_error("404", "Not Found", "missing")
        scripted_server.queue("GET", "/v2/media/report-2024-05-01", 404, missing)
        scripted_server.queue("POST", "/v2/media", 201, {"data": MEDIA_RECORD})
        scripted_server.queue("GET", "/v2/media/report-2024-05-01", 200, {"data": MEDIA_RECORD})

        assert hook.upload_media_once(PDF, media_name="report-2024-05-01") is True
        assert hook.upload_media_once(PDF, media_name="report-2024-05-01") is False
        assert [(r.method, r.path) for r in scripted_server.requests] == [
            ("GET", "/v2/media/report-2024-05-01"),
            ("POST", "/v2/media"),
            ("GET", "/v2/media/report-2024-05-01"),
        ]

    def test_upload_media_once_takes_a_concurrent_upload_of_the_same_name_as_done(self, hook, scripted_server):
        """Two mapped sends of one document on two workers: both see it missing, the second upload gets 422."""
        missing = telnyx_error("404", "Not Found", "missing")
        exists = telnyx_error("10015", "Bad Request", "Media 'report-2024-05-01' already exists.", "/media_name")
        scripted_server.queue("GET", "/v2/media/report-2024-05-01", 404, missing)
        scripted_server.queue("POST", "/v2/media", 422, exists)
        scripted_server.queue("GET", "/v2/media/report-2024-05-01", 200, {"data": MEDIA_RECORD})

        assert hook.upload_media_once(PDF, media_name="report-2024-05-01") is False

    def test_upload_media_once_raises_a_refusal_when_the_media_is_still_missing(self, hook, scripted_server):
        missing = telnyx_error("404", "Not Found", "missing")
        invalid = telnyx_error("10015", "Bad Request", "The media is not a valid document.", "/media")
        scripted_server.queue("GET", "/v2/media/report-2024-05-01", 404, missing)
        scripted_server.queue("POST", "/v2/media", 422, invalid)
        scripted_server.queue("GET", "/v2/media/report-2024-05-01", 404, missing)

        with pytest.raises(TelnyxAPIError, match="not a valid document"):
            hook.upload_media_once(PDF, media_name="report-2024-05-01")

    def test_delete_media(self, hook, scripted_server):
        scripted_server.queue("DELETE", "/v2/media/report-2024-05-01", 204)

        hook.delete_media("report-2024-05-01")

        assert [(r.method, r.path) for r in scripted_server.requests] == [("DELETE", "/v2/media/report-2024-05-01")]
