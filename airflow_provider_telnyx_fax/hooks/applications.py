"""
The hook's Fax Application calls, and the channel limit a send can count on.

A fax is a phone call, and Telnyx caps the calls an account has up at once: 2 at initial setup, 10
once the account passes Level 2 verification, more on request (Telnyx docs, "Concurrent call limits";
support article "Limits on Concurrent Outbound Calls"). A Fax Application may set a lower cap of its
own, ``outbound.channel_limit``: "When set, this will limit the number of concurrent outbound calls to
phone numbers associated with this connection" (``GET /v2/fax_applications/{id}``). The account's cap
is not readable through the API, so a connection may state it in its ``channel_limit`` extra.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping


class FaxApplicationCalls:
    """Fax Application reads, as methods of :class:`~airflow_provider_telnyx_fax.hooks.fax.TelnyxFaxHook`."""

    if TYPE_CHECKING:

        @property
        def extras(self) -> dict[str, Any]: ...

        def _request(
            self, method: str, path: str, *, subject: str, resend_safe: bool = True, **request_kwargs: Any
        ) -> Any: ...

        async def _arequest(
            self, method: str, path: str, *, subject: str, resend_safe: bool = True, **request_kwargs: Any
        ) -> Any: ...

        async def _settings(self) -> tuple[str, dict[str, str], dict[str, Any]]: ...

    def get_fax_application(self, application_id: str | None = None) -> dict[str, Any]:
        """The Fax Application ``application_id`` (default: the connection's ``connection_id`` extra)."""
        application_id = _application_id(application_id, self.extras)
        body = self._request("GET", f"/fax_applications/{application_id}", subject=_subject(application_id))
        return dict(body["data"])

    async def aget_fax_application(self, application_id: str | None = None) -> dict[str, Any]:
        """Async :meth:`get_fax_application`."""
        application_id = _application_id(application_id, (await self._settings())[2])
        body = await self._arequest("GET", f"/fax_applications/{application_id}", subject=_subject(application_id))
        return dict(body["data"])

    async def aknown_channel_limit(self, application_id: str | None = None) -> int | None:
        """
        The fewest concurrent calls the connection is known to allow, or ``None`` when nothing says.

        The connection's ``channel_limit`` extra (the account's cap, as the user knows it) and the Fax
        Application's ``outbound.channel_limit``, whichever is lower. An application that cannot be read
        (no ``connection_id``, or a key without access) says nothing: the batch learns the limit instead.
        """
        from airflow_provider_telnyx_fax.exceptions import TelnyxAPIError

        extras = (await self._settings())[2]
        limits = [limit for limit in (channel_limit_extra(extras),) if limit]
        if application_id or extras.get("connection_id"):
            with contextlib.suppress(TelnyxAPIError):
                limits.append(outbound_channel_limit(await self.aget_fax_application(application_id)) or 0)
        known = [limit for limit in limits if limit > 0]
        return min(known) if known else None


def outbound_channel_limit(application: Mapping[str, Any]) -> int | None:
    """A Fax Application's ``outbound.channel_limit``, or ``None`` when it sets none."""
    limit = (application.get("outbound") or {}).get("channel_limit")
    return int(limit) if isinstance(limit, int | float) and not isinstance(limit, bool) and limit > 0 else None


def channel_limit_extra(extras: Mapping[str, Any]) -> int | None:
    """The connection's ``channel_limit`` extra as a whole number of calls, ``None`` when unset."""
    value = extras.get("channel_limit")
    if value in (None, ""):
        return None
    try:
        limit = int(str(value).strip())
    except ValueError:
        limit = 0
    if limit < 1:
        raise TelnyxFaxValidationError(
            "channel_limit", f"the connection's extra must be a whole number of calls, at least 1, not {value!r}."
        )
    return limit


def _application_id(application_id: str | None, extras: Mapping[str, Any]) -> str:
    found = application_id or extras.get("connection_id")
    if not found:
        raise TelnyxFaxValidationError(
            "connection_id", "no Fax Application id: pass one, or set the connection's connection_id extra."
        )
    return str(found)


def _subject(application_id: str) -> str:
    return f"Fax Application '{application_id}'"
