"""
Fax numbers out of logs, messages and the UI.

Fax numbers are identifiers under HIPAA's Safe Harbor list, and most fax traffic is healthcare.
Everything this package logs, raises or shows (task logs, exception messages, asset-event
``extra``) names a number through :func:`mask_number`: ``+13125550123`` becomes ``+1•••••0123``
and ``sip:fax@clinic.example`` becomes ``sip:•••@clinic.example``. Document file names and media
URLs are never logged at all; a media name or a SHA-256 prefix stands for a document instead.

Masking is on by default. ``[telnyx_fax] mask_numbers = False`` in ``airflow.cfg`` (or
``AIRFLOW__TELNYX_FAX__MASK_NUMBERS=False``) turns it off for those who want full numbers.
XCom return values are not masked: the fax record is the data the DAG asked for.
"""

from __future__ import annotations

import re
from typing import Any

CONFIG_SECTION = "telnyx_fax"
CONFIG_OPTION = "mask_numbers"
MASK = "•••"
VISIBLE_DIGITS = 4
# A run of digits that could be a phone number, with an optional +; shorter runs (page counts,
# status codes, years) are left alone.
_PHONE_LIKE = re.compile(r"\+?\d{7,15}")
_SIP_URI = re.compile(r"(sips?:)[^@\s]+@")


def masking_enabled() -> bool:
    """Whether numbers are masked: ``[telnyx_fax] mask_numbers``, on unless set to false."""
    from airflow.configuration import conf

    return conf.getboolean(CONFIG_SECTION, CONFIG_OPTION, fallback=True)


def mask_number(number: Any, *, enabled: bool | None = None) -> str:
    """
    A fax number as it may be shown: the country-code digit and the last four, or a SIP URI's host.

    Anything that is not a string (``None``, a wrong type in bad input) is shown as its type's
    ``repr``-free form, so bad input can be reported without echoing it.
    """
    if number is None:
        return "none"
    text = str(number)
    if not (masking_enabled() if enabled is None else enabled):
        return text
    sip = _SIP_URI.match(text)
    if sip:
        return f"{sip.group(1)}{MASK}@{text[sip.end() :]}"
    digits = re.sub(r"\D", "", text)
    if len(digits) <= VISIBLE_DIGITS + 2:
        return f"{MASK}{digits[-2:]}" if digits else MASK
    prefix = "+" if text.startswith("+") else ""
    return f"{prefix}{digits[0]}{MASK}••{digits[-VISIBLE_DIGITS:]}"


def mask_numbers_in(text: str, *, enabled: bool | None = None) -> str:
    """``text`` with every phone-like number and SIP user in it masked (for messages Telnyx wrote)."""
    if not (masking_enabled() if enabled is None else enabled):
        return text
    text = _SIP_URI.sub(lambda match: f"{match.group(1)}{MASK}@", text)
    return _PHONE_LIKE.sub(lambda match: mask_number(match.group(0), enabled=True), text)


def mask_fax_record(fax: dict[str, Any], *, enabled: bool | None = None) -> dict[str, Any]:
    """A fax record with its ``to`` and ``from`` masked, for what is shown rather than returned."""
    if not (masking_enabled() if enabled is None else enabled):
        return dict(fax)
    masked = dict(fax)
    for field in ("to", "from"):
        if masked.get(field) is not None:
            masked[field] = mask_number(masked[field], enabled=True)
    return masked
