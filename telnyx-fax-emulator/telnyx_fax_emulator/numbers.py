"""What counts as a phone number: E.164, and for a fax destination also a SIP URI."""

from __future__ import annotations

import re

E164_RE = re.compile(r"^\+[1-9]\d{1,14}$")


def is_e164(value: str) -> bool:
    return bool(E164_RE.match(value))


def is_destination(value: str) -> bool:
    """A number a fax can be sent to: E.164 or a SIP URI (``sip:user@host``)."""
    return is_e164(value) or (value.startswith("sip:") and "@" in value)
