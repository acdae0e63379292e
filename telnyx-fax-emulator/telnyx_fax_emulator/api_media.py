"""``/v2/media`` routes (Media Storage API) and the tokenised inbound fax file URLs."""

from __future__ import annotations

import math
import secrets
import time
import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from telnyx_fax_emulator.api_faxes import json_response, runtime_of
from telnyx_fax_emulator.bodies import FieldErrors, parse_body
from telnyx_fax_emulator.documents import (
    fetch_document,
    guess_content_type,
    is_fetchable,
    placeholder_pdf,
    sniff_content_type,
)
from telnyx_fax_emulator.errors import ApiError, error_item, not_found, unprocessable
from telnyx_fax_emulator.state import MediaRecord

router = APIRouter()

DEFAULT_MEDIA_TTL_SECS = 2 * 24 * 3600
MAX_MEDIA_TTL_SECS = 630_720_000


@router.post("/v2/media")
async def upload_media(request: Request) -> Response:
    runtime = runtime_of(request)
    body = await parse_body(request, file_fields=("media",))
    check = FieldErrors()
    upload = body.files.get("media")
    media_url = None
    if body.multipart:
        if upload is None:
            check.missing("media")
    else:
        media_url = check.url(body.fields, "media_url", schemes=("http", "https", "file"))
        if media_url is None and "media_url" not in body.fields:
            check.missing("media_url")
    media_name = check.string(body.fields, "media_name")
    if media_name is not None and not media_name.strip():
        check.invalid("media_name", "The 'media_name' parameter must not be empty.")
    ttl = check.integer(body.fields, "ttl_secs", 1, MAX_MEDIA_TTL_SECS) or DEFAULT_MEDIA_TTL_SECS
    check.raise_if_any()
    now = time.time()
    name = media_name or str(uuid.uuid4())
    if runtime.store.live_media(name, now) is not None:
        raise unprocessable(f"Media '{name}' already exists.", pointer="/media_name")

    if upload is not None:
        _filename, declared_type, content = upload
        content_type = declared_type if declared_type != "application/octet-stream" else None
        content_type = content_type or sniff_content_type(content) or "application/octet-stream"
    else:
        assert media_url is not None
        if is_fetchable(media_url):
            fetched = await fetch_document(media_url)
            if fetched.data is None:
                detail = "larger than 20 MB" if fetched.too_large else f"not downloadable ({fetched.error})"
                raise unprocessable(f"The media_url is {detail}.", pointer="/media_url")
            content = fetched.data
            content_type = sniff_content_type(content) or guess_content_type(media_url)
        else:
            # The emulator never goes online: an outside URL is stored as a one-page placeholder.
            content = placeholder_pdf()
            content_type = guess_content_type(media_url)
    media = MediaRecord(name, content, content_type, now, now + ttl, source_url=media_url)
    runtime.store.media[name] = media
    return json_response({"data": media.to_api()}, 201)


@router.get("/v2/media")
async def list_media(request: Request) -> Response:
    runtime = runtime_of(request)
    now = time.time()
    wanted = request.query_params.getlist("filter[content_type][]")
    items = [
        media
        for name in list(runtime.store.media)
        if (media := runtime.store.live_media(name, now)) is not None and (not wanted or media.content_type in wanted)
    ]
    meta = {"page_number": 1, "page_size": max(1, len(items)), "total_pages": 1, "total_results": len(items)}
    meta["total_pages"] = max(1, math.ceil(len(items) / meta["page_size"]))
    return json_response({"data": [media.to_api() for media in items], "meta": meta})


def _live_media(request: Request, media_name: str) -> MediaRecord:
    media = runtime_of(request).store.live_media(media_name, time.time())
    if media is None:
        raise not_found(f"Media '{media_name}' was not found.")
    return media


@router.get("/v2/media/{media_name}")
async def view_media(media_name: str, request: Request) -> Response:
    return json_response({"data": _live_media(request, media_name).to_api()})


@router.get("/v2/media/{media_name}/download")
async def download_media(media_name: str, request: Request) -> Response:
    media = _live_media(request, media_name)
    # The spec declares application/octet-stream for downloads, whatever the stored type.
    return Response(media.content, 200, media_type="application/octet-stream")


@router.delete("/v2/media/{media_name}")
async def delete_media(media_name: str, request: Request) -> Response:
    _live_media(request, media_name)
    del runtime_of(request).store.media[media_name]
    return Response(status_code=204)


def _forbidden(detail: str) -> ApiError:
    return ApiError(403, [error_item("403", "Forbidden", detail)])


@router.get("/files/inbound/{fax_id}.pdf")
async def inbound_fax_file(fax_id: str, request: Request, token: str = "") -> Response:
    """The inbound fax document: no bearer needed, the token in the URL is the credential."""
    runtime = runtime_of(request)
    fax = runtime.store.live_fax(fax_id)
    now = time.time()
    if (
        fax is None
        or fax.media_token is None
        or fax.document is None
        or fax.status_at(now) != "received"
        or not secrets.compare_digest(token, fax.media_token)
    ):
        raise _forbidden("The media URL is not valid. Refresh the fax to get a new one.")
    if fax.media_token_expires_at is not None and now >= fax.media_token_expires_at:
        raise _forbidden("Request has expired. Refresh the fax to get a new media_url.")
    return Response(fax.document, 200, media_type=fax.document_content_type or "application/pdf")
