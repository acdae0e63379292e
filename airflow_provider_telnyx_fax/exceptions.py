"""Errors raised by the Telnyx fax hook, carrying Telnyx's ``errors[]`` details."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_provider_telnyx_fax.privacy import mask_number, mask_numbers_in


@dataclass(frozen=True)
class TelnyxErrorDetail:
    """One entry of a Telnyx ``{"errors": [...]}`` body."""

    code: str | None = None
    title: str | None = None
    detail: str | None = None
    pointer: str | None = None
    parameter: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, raw: Any) -> TelnyxErrorDetail:
        if not isinstance(raw, dict):
            return cls(detail=str(raw))
        source: dict[str, Any] = raw["source"] if isinstance(raw.get("source"), dict) else {}
        meta: dict[str, Any] = raw["meta"] if isinstance(raw.get("meta"), dict) else {}
        code = raw.get("code")
        return cls(
            code=str(code) if code is not None else None,
            title=raw.get("title"),
            detail=raw.get("detail"),
            pointer=source.get("pointer"),
            parameter=source.get("parameter"),
            meta=meta,
        )

    @property
    def field_name(self) -> str | None:
        """The request field the error points at (``/to`` -> ``to``), if any."""
        if self.pointer and self.pointer.strip("/"):
            return self.pointer.strip("/").split("/")[-1]
        return self.parameter

    def describe(self) -> str:
        text = self.detail or self.title or "no detail given"
        name = self.field_name
        if name and f"'{name}'" not in text and name not in text.split():
            return f"'{name}': {text}"
        return text


def parse_error_body(body: Any) -> list[TelnyxErrorDetail]:
    """The ``errors[]`` of a Telnyx error body, tolerant of bodies that are not Telnyx-shaped."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return [TelnyxErrorDetail.from_json(item) for item in body["errors"]]
    return []


class TelnyxFaxError(Exception):
    """Base class of everything this provider raises about Telnyx fax calls."""


class TelnyxFaxValidationError(TelnyxFaxError, ValueError):
    """Input that Telnyx would reject, caught before any HTTP request; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"Invalid '{field}': {message}")


class TelnyxAPIError(TelnyxFaxError):
    """
    Telnyx answered with an error status.

    ``retry_after`` is the wait Telnyx asked for (``Retry-After`` / ``x-ratelimit-reset``), in
    seconds, or ``None``. Numbers Telnyx echoes in its error details are masked in the message.
    """

    action = "Telnyx rejected the request"

    def __init__(
        self,
        status: int,
        errors: list[TelnyxErrorDetail] | None = None,
        *,
        method: str = "",
        path: str = "",
        hint: str = "",
        action: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.errors = errors or []
        self.method = method
        self.path = path
        if action:
            self.action = action
        self.hint = hint
        super().__init__(self._message())

    @property
    def codes(self) -> list[str]:
        return [error.code for error in self.errors if error.code]

    def _message(self) -> str:
        code = f", code {self.codes[0]}" if self.codes else ""
        details = mask_numbers_in("; ".join(error.describe() for error in self.errors)) or f"HTTP {self.status}"
        message = f"{self.action} ({self.status}{code}): {details}"
        return f"{message}. {self.hint}" if self.hint else message


class TelnyxAuthenticationError(TelnyxAPIError):
    """401/403: the API key is missing, wrong, or not allowed to do this."""


class TelnyxNotFoundError(TelnyxAPIError):
    """404: the fax or media name does not exist (or is not visible to this API key)."""


class TelnyxRateLimitError(TelnyxAPIError):
    """429 after the hook's retries ran out."""


class TelnyxServerError(TelnyxAPIError):
    """5xx after the hook's retries ran out."""


class TelnyxTransportError(TelnyxFaxError):
    """No usable answer at all (connection refused, DNS, timeout) after the hook's retries."""


class TelnyxOutcomeUnknownError(TelnyxFaxError):
    """
    A send may or may not have reached Telnyx: the request left, but no answer came back.

    Never resend blindly: look for the fax first (the operator reconciles by ``client_state``).
    The attributes carry what that look-up needs.
    """

    def __init__(self, *, to: str, client_state: str | None, sent_at: str, reason: str) -> None:
        self.to = to
        self.client_state = client_state
        self.sent_at = sent_at
        self.reason = reason
        super().__init__(
            f"The outcome of sending a fax to {mask_number(to)} is unknown ({reason}): Telnyx may have accepted it. "
            "Look it up before sending again; it was sent at "
            f"{sent_at}."
        )
