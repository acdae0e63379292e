"""TelnyxFaxHook: every Telnyx Programmable Fax call, sync (requests) and async (aiohttp), as methods."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

import aiohttp
import requests
from airflow.providers.http.hooks.http import HttpHook

from airflow_provider_telnyx_fax.documents import MAX_UPLOAD_BYTES
from airflow_provider_telnyx_fax.exceptions import (
    TelnyxAuthenticationError,
    TelnyxFaxValidationError,
    TelnyxNotFoundError,
    TelnyxOutcomeUnknownError,
    TelnyxTransportError,
)
from airflow_provider_telnyx_fax.fax_request import FaxListQuery, FaxSendRequest, PreparedFaxSendRequest
from airflow_provider_telnyx_fax.hooks.applications import FaxApplicationCalls, outbound_channel_limit
from airflow_provider_telnyx_fax.hooks.media import MediaStorageCalls
from airflow_provider_telnyx_fax.hooks.transport import (
    DEFAULT_API_BASE_URL,
    Call,
    NoAnswer,
    RetryPolicy,
    Unreachable,
    answer_error,
    api_base_url,
    cached_settings,
    classify_aiohttp_error,
    classify_requests_error,
    default_headers,
    flag,
    json_or_none,
    read_environment_once,
    sends_key_in_clear,
    shared_client_session,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping

__all__ = ["MAX_UPLOAD_BYTES", "FaxListQuery", "TelnyxFaxHook", "shared_client_session"]


class TelnyxFaxHook(FaxApplicationCalls, MediaStorageCalls, HttpHook):
    """
    Talks to the Telnyx Programmable Fax API (and its media storage) for Airflow.

    The connection holds the API base URL (host, default ``https://api.telnyx.com/v2``; no scheme
    means ``https``, plain ``http`` only for loopback or with the ``allow_http`` extra), the API key
    (password) and the extras ``connection_id`` (the Fax Application id) and ``from_number``.

    Every call goes through one :class:`~airflow_provider_telnyx_fax.hooks.transport.RetryPolicy`:
    reads and idempotent actions are retried with jittered exponential backoff on connection
    errors, timeouts, 429 and 5xx, honouring ``Retry-After`` / ``x-ratelimit-reset``. Sending a fax
    is retried only when the request provably never reached Telnyx or was refused with 429; any
    other failure raises :class:`TelnyxOutcomeUnknownError` so the caller can look before sending again.

    :param telnyx_conn_id: the Airflow connection id.
    :param connect_timeout: seconds to wait for a TCP/TLS connection.
    :param read_timeout: seconds to wait for an answer once the request is sent.
    :param max_retries: retries after the first attempt for retryable failures (0 disables).
    :param backoff_base: the first backoff delay in seconds; doubles per retry.
    :param backoff_max: the longest backoff delay in seconds (a server-given wait may be longer).
    """

    conn_name_attr = "telnyx_conn_id"
    default_conn_name = "telnyx_fax_default"
    conn_type = "telnyx_fax"
    hook_name = "Telnyx Fax"
    default_host = DEFAULT_API_BASE_URL

    def __init__(
        self,
        telnyx_conn_id: str = default_conn_name,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        super().__init__(method="GET", http_conn_id=telnyx_conn_id)
        self.telnyx_conn_id = telnyx_conn_id
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.retry_policy = RetryPolicy(max_retries, backoff_base, backoff_max)
        self._session: requests.Session | None = None
        self._extras: dict[str, Any] | None = None
        self._async_settings: tuple[str, dict[str, str], dict[str, Any]] | None = None
        self._warned_about_http = False

    @property
    def max_retries(self) -> int:
        return self.retry_policy.max_retries

    def __repr__(self) -> str:
        return f"{type(self).__name__}(telnyx_conn_id={self.telnyx_conn_id!r})"

    # -- connection -----------------------------------------------------------------------------

    def _base_url_for(self, connection: Any, extras: Mapping[str, Any]) -> str:
        base_url = api_base_url(
            connection.host,
            conn_id=self.telnyx_conn_id,
            port=connection.port,
            allow_http=flag(extras.get("allow_http")),
        )
        if sends_key_in_clear(base_url) and not self._warned_about_http:
            self._warned_about_http = True
            self.log.warning(
                "Connection '%s' sends the API key unencrypted to %s (allow_http is set).",
                self.telnyx_conn_id,
                base_url,
            )
        return base_url

    def get_conn(
        self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None
    ) -> requests.Session:
        """One pooled session for the hook's lifetime: bearer auth, our User-Agent, no extras as headers."""
        if self._session is None:
            connection = self.get_connection(self.telnyx_conn_id)
            extras = dict(connection.extra_dejson)
            self.base_url = self._base_url_for(connection, extras)
            self._extras = extras
            session = requests.Session()
            session.headers.update(default_headers(connection.password))
            read_environment_once(session, self.base_url)
            self._session = session
        if headers:
            self._session.headers.update(headers)
        return self._session

    @property
    def extras(self) -> dict[str, Any]:
        self.get_conn()
        return self._extras or {}

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- sync calls ----------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, subject: str, resend_safe: bool = True, **request_kwargs: Any) -> Any:
        """One API call under the retry policy; returns the parsed JSON body (``None`` when empty)."""
        session = self.get_conn()
        call = Call(method, path, subject, self.telnyx_conn_id, self.base_url, resend_safe)
        timeout = (self.connect_timeout, self.read_timeout)

        def attempt() -> Any:
            try:
                response = session.request(method, f"{self.base_url}{path}", timeout=timeout, **request_kwargs)
            except requests.RequestException as error:
                raise classify_requests_error(error) from None
            body = json_or_none(response.content)
            if response.status_code >= 400:
                raise answer_error(response.status_code, response.headers, body, call=call, resend_safe=resend_safe)
            return body

        return self.retry_policy.call(attempt, call, lambda: self.log)

    def run(
        self,
        endpoint: str | None = None,
        data: dict[str, Any] | str | None = None,
        headers: dict[str, Any] | None = None,
        extra_options: dict[str, Any] | None = None,
        **request_kwargs: Any,
    ) -> Any:
        """
        providers-http's generic call, under this hook's retry policy; returns the parsed JSON body.

        It refuses ``POST /faxes``: a send goes through :meth:`send_fax`, which never repeats blindly.
        """
        path = "/" + (endpoint or "").lstrip("/")
        if self.method.upper() == "POST" and path.split("?", 1)[0].rstrip("/") == "/faxes":
            raise TelnyxFaxValidationError("endpoint", "send faxes with send_fax(), which never sends one twice")
        if headers:
            request_kwargs["headers"] = headers
        key = "params" if self.method.upper() in ("GET", "HEAD", "DELETE") else "data"
        request_kwargs[key] = data
        return self._request(self.method.upper(), path, subject=f"the call to {path}", **request_kwargs)

    def run_with_advanced_retry(self, _retry_args: dict[Any, Any], *args: Any, **kwargs: Any) -> Any:
        """The same as :meth:`run`: this hook's retry policy applies, whatever ``_retry_args`` say."""
        return self.run(*args, **kwargs)

    def run_and_check(self, session: Any, prepped_request: Any, extra_options: Any) -> Any:
        """Refused: a prepared request would go out once, outside the retry policy and the send guard of :meth:`run`."""
        raise TelnyxFaxValidationError(
            "prepped_request", "this hook does not send prepared requests; call run() or a method such as get_fax()"
        )

    # -- faxes ----------------------------------------------------------------------------------

    def prepare_send(self, request: FaxSendRequest, *, with_file: bool = False) -> FaxSendRequest:
        """
        ``request`` with the connection's defaults applied, checked; raises before any request is made.

        For a JSON send (no file) the result is a :class:`PreparedFaxSendRequest`, which :meth:`send_fax`
        and :meth:`asend_fax` send without resolving the defaults or checking again.
        """
        if isinstance(request, PreparedFaxSendRequest) and not with_file:
            return request
        return PreparedFaxSendRequest.resolved(request, self.extras, with_file=with_file)

    def send_fax(
        self,
        request: FaxSendRequest | str | None = None,
        *,
        contents: bytes | None = None,
        filename: str = "document.pdf",
        **fields: Any,
    ) -> dict[str, Any]:
        """
        Send a fax and return the fax record Telnyx accepted (status ``queued``).

        Pass the :class:`FaxSendRequest` fields by keyword (``send_fax(to="+1...", media_url=...)``;
        ``to`` may also come first), or a whole :class:`FaxSendRequest`. Give exactly one document:
        ``media_url``, ``media_name`` (uploaded with :meth:`upload_media`) or ``contents`` (bytes sent
        as multipart; Telnyx takes fewer options that way). ``from_number`` and ``connection_id``
        default to the connection's extras.

        :param request: a whole request, or the destination; leave it out to give ``to=`` by keyword.
        :param contents: the document's bytes, uploaded with the send.
        :param filename: the name the uploaded ``contents`` go by.
        :param fields: ``to`` and the send options, by :class:`FaxSendRequest`'s field names.
        :raises TelnyxFaxValidationError: bad input, before any request; ``field`` names it.
        :raises TelnyxOutcomeUnknownError: the request left but no answer came back; look before resending.
        """
        request = FaxSendRequest.of(request, **fields)
        prepared = self.prepare_send(request, with_file=contents is not None)
        if contents is not None and len(contents) > MAX_UPLOAD_BYTES:
            raise TelnyxFaxValidationError("contents", "is over the 20 MB upload limit")
        sent_at = datetime.now(timezone.utc).isoformat()
        try:
            if contents is not None:
                form = prepared.multipart_form()
                files = {"contents": (filename, contents)}
                body = self._request("POST", "/faxes", data=form, files=files, subject="the fax", resend_safe=False)
            else:
                body = self._request("POST", "/faxes", json=prepared.json_body(), subject="the fax", resend_safe=False)
        except NoAnswer as no_answer:
            raise _outcome_unknown(prepared, sent_at, no_answer) from None
        return dict(body["data"])

    def get_fax(self, fax_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/faxes/{fax_id}", subject=f"fax with id '{fax_id}'")["data"])

    def list_faxes(self, *, page_size: int = 50, **filters: str | None) -> Iterator[dict[str, Any]]:
        """
        Yield every fax matching the filters, fetching pages lazily as the caller iterates.

        Filters: ``direction``, ``to``, ``from_number``, ``created_at_gte`` / ``_gt`` / ``_lte`` / ``_lt``.
        """
        query = FaxListQuery.of(page_size=page_size, **filters)
        page: int | None = 1
        while page is not None:
            body = self._request("GET", "/faxes", params=query.params(page), subject="the fax list")
            yield from body.get("data", [])
            page = query.next_page(body, page)

    def cancel_fax(self, fax_id: str) -> dict[str, Any]:
        body = self._request("POST", f"/faxes/{fax_id}/actions/cancel", subject=f"fax with id '{fax_id}'")
        return dict((body or {}).get("data") or {})

    def delete_fax(self, fax_id: str) -> None:
        self._request("DELETE", f"/faxes/{fax_id}", subject=f"fax with id '{fax_id}'")

    def refresh_fax(self, fax_id: str) -> dict[str, Any]:
        """Renew the fax's expiring media links (``media_url`` of a received fax, stored media)."""
        body = self._request("POST", f"/faxes/{fax_id}/actions/refresh", subject=f"fax with id '{fax_id}'")
        return dict((body or {}).get("data") or {})

    # -- UI "Test" button -----------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """
        Read-only check of the key and the Fax Application together: ``GET /v2/fax_applications/{id}``.

        Never sends anything. Without a ``connection_id`` extra only the key is checked (one fax listed).
        """
        application_id = self.extras.get("connection_id")
        try:
            if not application_id:
                next(iter(self.list_faxes(page_size=1)), None)
                return True, (
                    f"Connected to Telnyx at {self.base_url}. Set the connection_id extra (your Fax Application "
                    "id) to check it too."
                )
            application = self.get_fax_application(application_id)
        except TelnyxAuthenticationError as error:
            return False, str(error)
        except TelnyxNotFoundError:
            return False, (
                f"The API key works, but Telnyx has no Fax Application '{application_id}' on this account: set the "
                "connection_id extra to an id listed under Programmable Fax > Fax Applications."
            )
        except TelnyxTransportError as error:
            return False, f"{error} (check the API base URL and the network)"
        except Exception as error:
            return False, str(error)
        limit = outbound_channel_limit(application)
        channels = (
            f"outbound channel limit {limit}"
            if limit
            else "no outbound channel limit of its own (the account's applies: 2 calls at once for a new account, "
            "10 once verified)"
        )
        name = application.get("application_name") or application_id
        return True, f"Connected to Telnyx at {self.base_url}: Fax Application '{name}', {channels}."

    # -- async calls ----------------------------------------------------------------------------

    async def _settings(self) -> tuple[str, dict[str, str], dict[str, Any]]:
        """Base URL, headers and extras, resolved without blocking the event loop, once per hook."""
        if self._async_settings is None:
            async with shared_client_session():
                self._async_settings = await cached_settings(self.telnyx_conn_id, self._resolve_async_settings)
        return self._async_settings

    async def _resolve_async_settings(self) -> tuple[str, dict[str, str], dict[str, Any]]:
        from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson

        connection = await get_async_connection(self.telnyx_conn_id, hook=self)
        extras = dict(await get_async_extra_dejson(connection))
        return self._base_url_for(connection, extras), default_headers(connection.password), extras

    async def _arequest(
        self, method: str, path: str, *, subject: str, resend_safe: bool = True, **request_kwargs: Any
    ) -> Any:
        """The async twin of :meth:`_request`, on the loop's shared session, under the same retry policy."""
        async with shared_client_session() as session:
            base_url, headers, _ = await self._settings()
            call = Call(method, path, subject, self.telnyx_conn_id, base_url, resend_safe)
            timeout = self._client_timeout

            async def attempt() -> Any:
                try:
                    async with session.request(
                        method, f"{base_url}{path}", headers=headers, timeout=timeout, **request_kwargs
                    ) as response:
                        body = json_or_none(await response.read())
                except (aiohttp.ClientError, TimeoutError) as error:
                    raise classify_aiohttp_error(error) from None
                if response.status >= 400:
                    raise answer_error(response.status, response.headers, body, call=call, resend_safe=resend_safe)
                return body

            if not self.retry_policy.max_retries:
                # A polling trigger's check (it owns the backoff): nothing to retry, and every coroutine
                # layer between the trigger and aiohttp costs CPU on each of a triggerer's thousands of polls.
                try:
                    return await attempt()
                except (Unreachable, NoAnswer) as error:
                    raise self.retry_policy.final(error, call) from None
            return await self.retry_policy.acall(attempt, call, lambda: self.log)

    @cached_property
    def _client_timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout, sock_read=self.read_timeout)

    async def asend_fax(self, request: FaxSendRequest | str | None = None, **fields: Any) -> dict[str, Any]:
        """Async :meth:`send_fax` for a JSON send (``media_url`` or ``media_name``): same fields, same send rule."""
        prepared = FaxSendRequest.of(request, **fields)
        if not isinstance(prepared, PreparedFaxSendRequest):
            prepared = PreparedFaxSendRequest.resolved(prepared, (await self._settings())[2])
        sent_at = datetime.now(timezone.utc).isoformat()
        try:
            body = await self._arequest(
                "POST", "/faxes", json=prepared.json_body(), subject="the fax", resend_safe=False
            )
        except NoAnswer as no_answer:
            raise _outcome_unknown(prepared, sent_at, no_answer) from None
        return dict(body["data"])

    async def aget_fax(self, fax_id: str) -> dict[str, Any]:
        return dict((await self._arequest("GET", f"/faxes/{fax_id}", subject=f"fax with id '{fax_id}'"))["data"])

    async def alist_faxes(self, *, page_size: int = 50, **filters: str | None) -> AsyncIterator[dict[str, Any]]:
        """Async twin of :meth:`list_faxes`: yields every matching fax, page by page."""
        query = FaxListQuery.of(page_size=page_size, **filters)
        page: int | None = 1
        while page is not None:
            body = await self._arequest("GET", "/faxes", params=query.params(page), subject="the fax list")
            for fax in body.get("data", []):
                yield fax
            page = query.next_page(body, page)


def _outcome_unknown(request: FaxSendRequest, sent_at: str, no_answer: NoAnswer) -> TelnyxOutcomeUnknownError:
    return TelnyxOutcomeUnknownError(
        to=request.to, client_state=request.client_state, sent_at=sent_at, reason=str(no_answer)
    )
