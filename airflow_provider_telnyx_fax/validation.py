"""Checks Telnyx would make on a send request, made before any HTTP call so nothing half-sends."""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
from airflow_provider_telnyx_fax.privacy import mask_number

if TYPE_CHECKING:
    from collections.abc import Mapping

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
SIP_URI = re.compile(r"^sips?:[^@\s]+@[^@\s]+$")
DISPLAY_NAME = re.compile(r"^[A-Za-z0-9 \-_~!.+]{1,128}$")
QUALITIES = ("normal", "high", "very_high", "ultra_light", "ultra_dark")
PREVIEW_FORMATS = ("pdf", "tiff")
MEDIA_SOURCES = ("media_url", "media_name", "contents")
# Telnyx fetches the document itself; the emulator also fetches file:// URLs, to show local documents.
MEDIA_URL_SCHEMES = ("http://", "https://", "file://")


def check_e164(field: str, value: Any) -> str:
    if not isinstance(value, str) or not E164.match(value):
        raise TelnyxFaxValidationError(
            field,
            f"{mask_number(value)!r} is not an E.164 number; write it as + country code and number, e.g. +13125550123",
        )
    return value


def check_destination(value: Any) -> str:
    """``to`` may be an E.164 number or a SIP URI."""
    if isinstance(value, str) and (E164.match(value) or SIP_URI.match(value)):
        return value
    raise TelnyxFaxValidationError(
        "to",
        f"{mask_number(value)!r} is neither an E.164 number (e.g. +13125550123) "
        "nor a SIP URI (e.g. sip:fax@example.com)",
    )


def check_client_state(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise TelnyxFaxValidationError("client_state", "must be a non-empty base64 string")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise TelnyxFaxValidationError(
            "client_state",
            "is not valid base64; encode it first, e.g. base64.b64encode(b'...').decode()",
        ) from None
    return value


def check_media_source(media_url: Any, media_name: Any) -> None:
    """The one document named is one Telnyx can find. Messages leave the value out: it names the document."""
    if media_url and not (isinstance(media_url, str) and media_url.lower().startswith(MEDIA_URL_SCHEMES)):
        raise TelnyxFaxValidationError(
            "media_url",
            "is not an http(s) URL that Telnyx can fetch; send a local file with an operator's media_path "
            "or the hook's contents",
        )
    if media_name and not isinstance(media_name, str):
        raise TelnyxFaxValidationError(
            "media_name", f"is a {type(media_name).__name__}; give the name the document has in media storage"
        )


def check_send_request(payload: Mapping[str, Any]) -> None:
    """Validate a SendFax body (JSON or multipart fields). Raises on the first problem found."""
    check_destination(payload.get("to"))
    check_e164("from", payload.get("from"))
    if not payload.get("connection_id"):
        raise TelnyxFaxValidationError(
            "connection_id",
            "no Fax Application id given; pass connection_id or set the connection's 'connection_id' extra",
        )
    given = [name for name in MEDIA_SOURCES if payload.get(name)]
    if len(given) != 1:
        choice = "none was given" if not given else f"got {', '.join(given)}"
        raise TelnyxFaxValidationError(
            "media_url", f"give exactly one of media_url, media_name or a file to upload; {choice}"
        )
    check_media_source(payload.get("media_url"), payload.get("media_name"))
    if payload.get("store_media") and payload.get("media_name"):
        raise TelnyxFaxValidationError("store_media", "Telnyx does not support store_media with media_name")
    if payload.get("client_state") is not None:
        check_client_state(payload["client_state"])
    quality = payload.get("quality")
    if quality is not None and quality not in QUALITIES:
        raise TelnyxFaxValidationError("quality", f"{quality!r} is not one of {', '.join(QUALITIES)}")
    preview_format = payload.get("preview_format")
    if preview_format is not None and preview_format not in PREVIEW_FORMATS:
        raise TelnyxFaxValidationError(
            "preview_format", f"{preview_format!r} is not one of {', '.join(PREVIEW_FORMATS)}"
        )
    display_name = payload.get("from_display_name")
    if display_name is not None and (not isinstance(display_name, str) or not DISPLAY_NAME.match(display_name)):
        raise TelnyxFaxValidationError(
            "from_display_name",
            "use at most 128 letters, digits, spaces and -_~!.+ characters",
        )
    threshold = payload.get("black_threshold")
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, int) or not 1 <= threshold <= 100:
            raise TelnyxFaxValidationError("black_threshold", f"{threshold!r} must be a whole number from 1 to 100")
        if not payload.get("monochrome"):
            raise TelnyxFaxValidationError("black_threshold", "only applies with monochrome=True; set both or neither")
