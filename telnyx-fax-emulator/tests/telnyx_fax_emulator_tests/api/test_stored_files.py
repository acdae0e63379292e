"""``store_media`` and ``store_preview``: a fax then carries links the emulator serves, signed and expiring."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import requests

from telnyx_fax_emulator.documents import blank_pdf
from telnyx_fax_emulator_tests.support import OTHER_NUMBER, send_fax

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess
    from telnyx_fax_emulator_tests.support import ApiSession

TWO_PAGES = blank_pdf(2)


def send_document(api: ApiSession, emulator: EmulatorProcess, **flags: str) -> dict[str, Any]:
    fields = {"connection_id": emulator.connection_id, "from": emulator.from_number, "to": OTHER_NUMBER, **flags}
    response = api.post("/faxes", data=fields, files={"contents": ("two.pdf", TWO_PAGES, "application/pdf")})
    assert response.status_code == 202, response.text
    fax: dict[str, Any] = response.json()["data"]
    return fax


def fetch(url: str) -> requests.Response:
    # No bearer: the signature in the link is the credential, as with Telnyx's presigned links.
    return requests.get(url, timeout=10)


def test_both_links_appear_once_the_media_is_processed_and_serve_the_document(
    api: ApiSession, emulator: EmulatorProcess
) -> None:
    fax = send_document(api, emulator, store_media="true", store_preview="true", preview_format="pdf")
    assert "preview_url" not in fax  # still queued: nothing is processed yet
    emulator.wait_for_status(fax["id"], "delivered")

    seen = api.get(f"/faxes/{fax['id']}").json()["data"]
    listed = api.get("/faxes").json()["data"][0]

    assert (seen["store_media"], listed["id"]) == (True, fax["id"])
    for view in (seen, listed):
        stored = fetch(view["stored_media_url"])
        assert (stored.status_code, stored.content) == (200, TWO_PAGES)
        assert stored.headers["content-type"] == "application/pdf"
        preview = fetch(view["preview_url"])
        assert (preview.status_code, preview.content) == (200, TWO_PAGES)
    assert urlsplit(seen["preview_url"]).path.endswith("/preview.pdf")


def test_a_tiff_preview_by_default_is_a_one_page_tiff(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = send_document(api, emulator, store_preview="true")
    emulator.wait_for_status(fax["id"], "delivered")

    seen = api.get(f"/faxes/{fax['id']}").json()["data"]
    preview = fetch(seen["preview_url"])

    assert "stored_media_url" not in seen
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "image/tiff"
    assert preview.content.startswith(b"II*\x00")


def test_without_the_flags_there_are_no_links(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = send_fax(api, emulator)
    emulator.wait_for_status(fax["id"], "delivered")

    seen = api.get(f"/faxes/{fax['id']}").json()["data"]

    assert "preview_url" not in seen
    assert "stored_media_url" not in seen


def test_an_outside_media_url_is_stored_as_a_placeholder_page(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = send_fax(api, emulator, store_media=True)
    emulator.wait_for_status(fax["id"], "delivered")

    stored = fetch(api.get(f"/faxes/{fax['id']}").json()["data"]["stored_media_url"])

    assert stored.status_code == 200
    assert stored.content.startswith(b"%PDF")


def test_a_tampered_or_foreign_link_is_refused(api: ApiSession, emulator: EmulatorProcess) -> None:
    fax = send_document(api, emulator, store_media="true")
    emulator.wait_for_status(fax["id"], "delivered")
    link = api.get(f"/faxes/{fax['id']}").json()["data"]["stored_media_url"]
    query = parse_qs(urlsplit(link).query)
    # The same signature on a later expiry: the signature covers the expiry, so it no longer matches.
    later = link.replace(f"expires={query['expires'][0]}", f"expires={int(query['expires'][0]) + 3600}")
    other_fax = link.replace(fax["id"], send_fax(api, emulator)["id"])
    for bad in (later, other_fax, link.replace("/media.pdf", "/preview.tiff"), link.split("?")[0]):
        refused = fetch(bad)
        assert refused.status_code == 403, bad
        assert refused.json()["errors"][0]["detail"]
    assert fetch(link).status_code == 200
