"""``/v2/media`` routes (Media Storage API) and the tokenised fax file URLs (inbound media, previews, stored media)."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from starlette.responses import Response

from telnyx_fax_emulator.bodies import FieldErrors, parse_body
from telnyx_fax_emulator.web import backend_of, json_response

router = APIRouter()

MAX_MEDIA_TTL_SECS = 630_720_000


@router.post("/v2/media")
async def upload_media(request: Request) -> Response:
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
    ttl = check.integer(body.fields, "ttl_secs", 1, MAX_MEDIA_TTL_SECS)
    check.raise_if_any()
    media = await backend_of(request).upload_media(
        media_name=media_name, ttl_secs=ttl, upload=upload, media_url=media_url
    )
    return json_response({"data": media.to_api()}, 201)


@router.get("/v2/media")
async def list_media(request: Request) -> Response:
    items = backend_of(request).list_media(request.query_params.getlist("filter[content_type][]"))
    page_size = max(1, len(items))
    meta = {
        "page_number": 1,
        "page_size": page_size,
        "total_pages": max(1, math.ceil(len(items) / page_size)),
        "total_results": len(items),
    }
    return json_response({"data": [media.to_api() for media in items], "meta": meta})


@router.get("/v2/media/{media_name}")
async def view_media(media_name: str, request: Request) -> Response:
    return json_response({"data": backend_of(request).media(media_name).to_api()})


@router.get("/v2/media/{media_name}/download")
async def download_media(media_name: str, request: Request) -> Response:
    media = backend_of(request).media(media_name)
    # The spec declares application/octet-stream for downloads, whatever the stored type.
    return Response(media.content, 200, media_type="application/octet-stream")


@router.delete("/v2/media/{media_name}")
async def delete_media(media_name: str, request: Request) -> Response:
    backend_of(request).delete_media(media_name)
    return Response(status_code=204)


@router.get("/files/inbound/{fax_id}.pdf")
async def inbound_fax_file(fax_id: str, request: Request, token: str = "") -> Response:
    """The inbound fax document: no bearer needed, the token in the URL is the credential."""
    fax = backend_of(request).inbound_document(fax_id, token)
    assert fax.document is not None
    return Response(fax.document, 200, media_type=fax.document_content_type or "application/pdf")


@router.get("/files/faxes/{fax_id}/{name}")
async def stored_fax_file(fax_id: str, name: str, request: Request, expires: str = "", signature: str = "") -> Response:
    """An outbound fax's ``preview_url`` or ``stored_media_url``: signed and expiring, like a presigned S3 link."""
    content, content_type = await backend_of(request).stored_file(fax_id, name, expires, signature)
    return Response(content, 200, media_type=content_type)
