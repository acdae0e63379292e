"""DownloadFaxOperator against the emulator: expired links, atomic writes, reruns, delete after download."""

from __future__ import annotations

import time
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
from airflow_provider_telnyx_fax.operators.inbound import DownloadFaxOperator, link_expired
from tests.support.documents import make_pdf

MEDIA = "/files/inbound/*"


@pytest.fixture
def document(tmp_path) -> bytes:
    return make_pdf(tmp_path / "incoming.pdf", pages=2).read_bytes()


def download(fax_id: str, path: Any, **kwargs: Any) -> dict[str, Any]:
    return DownloadFaxOperator(task_id="download", fax_id=fax_id, path=path, **kwargs).execute({})  # type: ignore[arg-type]


def test_stores_the_document_byte_for_byte(emulator, receive, document, tmp_path):
    [fax] = receive(1, document=document)

    result = download(fax["id"], f"{tmp_path}/inbox/")

    target = tmp_path / "inbox" / f"{fax['id']}.pdf"
    assert target.read_bytes() == document
    assert result["path"] == str(ObjectStoragePath(str(target)))
    assert (result["bytes"], result["downloaded"], result["deleted"]) == (len(document), True, False)
    assert [p.name for p in (tmp_path / "inbox").iterdir() if p.name.startswith(".")] == []


def test_an_expired_link_is_refreshed_and_the_file_saved_intact(emulator, receive, document, tmp_path):
    emulator.set_speed(100_000)  # the media link lives 6 ms at this speed
    [fax] = receive(1, document=document)
    time.sleep(0.05)
    emulator.set_speed(100)  # a refreshed link lives 6 s: long enough to download
    stale = TelnyxFaxHook().get_fax(fax["id"])["media_url"]
    assert __import__("requests").get(stale, timeout=5).status_code == 403

    result = download(fax["id"], tmp_path / "fax.pdf")

    assert (tmp_path / "fax.pdf").read_bytes() == document
    assert result["bytes"] == len(document)
    assert emulator.request_count("POST", f"/v2/faxes/{fax['id']}/actions/refresh") == 1


def test_a_rerun_does_not_download_again(emulator, receive, document, tmp_path):
    [fax] = receive(1, document=document)
    first = download(fax["id"], f"{tmp_path}/")
    gets = emulator.request_count("GET", MEDIA)

    second = download(fax["id"], f"{tmp_path}/")

    assert emulator.request_count("GET", MEDIA) == gets == 1
    assert second["downloaded"] is False
    assert {k: second[k] for k in ("path", "bytes", "sha256")} == {k: first[k] for k in ("path", "bytes", "sha256")}


def test_a_changed_file_at_the_target_is_downloaded_again(emulator, receive, document, tmp_path):
    [fax] = receive(1, document=document)
    download(fax["id"], tmp_path / "fax.pdf")
    (tmp_path / "fax.pdf").write_bytes(b"truncated")

    assert download(fax["id"], tmp_path / "fax.pdf")["downloaded"] is True
    assert (tmp_path / "fax.pdf").read_bytes() == document


def test_a_failure_mid_write_leaves_no_partial_file(emulator, receive, document, tmp_path, monkeypatch):
    [fax] = receive(1, document=document)
    real = TelnyxFaxHook.download_media

    def half_then_fail(self: TelnyxFaxHook, url: str, target: Any, **kwargs: Any) -> dict[str, Any]:
        class Half:
            def write(self, chunk: bytes) -> int:
                target.write(chunk[: len(chunk) // 2])
                raise OSError("disk full")

        return real(self, url, Half(), **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(TelnyxFaxHook, "download_media", half_then_fail)
        with pytest.raises(OSError, match="disk full"):
            download(fax["id"], tmp_path / "inbox" / "fax.pdf")

    assert list((tmp_path / "inbox").iterdir()) == []
    assert download(fax["id"], tmp_path / "inbox" / "fax.pdf")["bytes"] == len(document)


def test_delete_after_download_deletes_on_telnyx_and_reruns_cleanly(emulator, receive, document, tmp_path):
    [fax] = receive(1, document=document)

    result = download(fax["id"], f"{tmp_path}/", delete_after_download=True)

    assert result["deleted"] is True
    assert emulator.fax(fax["id"])["deleted"] is True
    assert (tmp_path / f"{fax['id']}.pdf").read_bytes() == document
    # A rerun finds the file and treats the fax as already deleted.
    assert download(fax["id"], f"{tmp_path}/", delete_after_download=True)["downloaded"] is False
    assert emulator.request_count("GET", MEDIA) == 1


def test_a_missing_fax_fails_without_retry(emulator, tmp_path):
    with pytest.raises(AirflowFailException, match="no fax"):
        download("00000000-0000-0000-0000-000000000000", f"{tmp_path}/")


def test_presigned_link_expiry_is_read_from_the_url():
    url = "https://s3.amazonaws.com/f.pdf?X-Amz-Date=20200505T095917Z&X-Amz-Expires=600&X-Amz-Signature=x"
    signed = 1588672757.0  # 2020-05-05T09:59:17Z

    assert link_expired(url, now=signed + 60) is False
    assert link_expired(url, now=signed + 590) is True
    assert link_expired("http://127.0.0.1/files/inbound/x.pdf?token=t") is False


def test_sensor_then_mapped_download_in_a_dag(run_dag, emulator, receive, document, tmp_path):
    from tests.support.inbound import INBOX, watermark

    since = watermark()
    faxes = receive(2, document=document)

    result = run_dag("inbound_sensor_then_download", conf={"to": INBOX, "since": since, "root": f"{tmp_path}/inbox/"})

    assert result.state == "success", result.task_states
    assert sorted(p.name for p in (tmp_path / "inbox").glob("*.pdf")) == sorted(f"{fax['id']}.pdf" for fax in faxes)
