"""TelnyxFaxHook: every Telnyx Programmable Fax call, sync (requests) and async (aiohttp)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import requests
from airflow.providers.http.hooks.http import HttpHook
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from airflow_provider_telnyx_fax import __version__
from airflow_provider_telnyx_fax.documents import MAX_UPLOAD_BYTES
from airflow_provider_telnyx_fax.exceptions import (
    TelnyxAPIError,
    TelnyxAuthenticationError,
    TelnyxFaxValidationError,
    TelnyxNotFoundError,
    TelnyxOutcomeUnknownError,
    TelnyxRateLimitError,
    TelnyxServerError,
    TelnyxTransportError,
    parse_error_body,
)
from airflow_provider_telnyx_fax.validation import check_send_request

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping

    import aiohttp

DEFAULT_API_BASE_URL = "https://api.telnyx.com/v2"
USER_AGENT = f"airflow-provider-telnyx-fax/{__version__}"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """
    How long Telnyx asks us to wait, from ``Retry-After`` or ``x-ratelimit-reset``.

    ``x-ratelimit-reset`` is read as seconds to wait, or as a Unix time when it is that large.
    """
    now = time.time() if now is None else now
    for name in ("Retry-After", "x-ratelimit-reset"):
        value = headers.get(name) or headers.get(name.lower())
        if not value:
            continue
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - now
            except (TypeError, ValueError):
                continue
        else:
            if seconds > 1_000_000_000:
                seconds -= now
        return max(0.0, seconds)
    return None


def backoff_delay(attempt: int, *, base: float, cap: float, retry_after: float | None = None) -> float:
    """Full-jitter exponential backoff; a server-given wait is honoured (plus a little jitter)."""
    if retry_after is not None:
        return retry_after + random.uniform(0, base)
    return random.uniform(base / 2, min(cap, base * 2**attempt))


def api_error_for(
    status: int,
    body: Any,
    *,
    method: str,
    path: str,
    conn_id: str,
    subject: str,
    retry_after: float | None = None,
) -> TelnyxAPIError:
    """Turn a Telnyx error answer into the matching exception with a message a person can act on."""
    errors = parse_error_body(body)
    error_class: type[TelnyxAPIError] = TelnyxAPIError
    hint = ""
    action = f"Telnyx rejected {subject}"
    if status in (401, 403):
        error_class = TelnyxAuthenticationError
        action = f"Telnyx refused the API key of Airflow connection '{conn_id}'"
        hint = f"Check the API key (password) of connection '{conn_id}'."
    elif status == 404:
        error_class = TelnyxNotFoundError
        action = f"Telnyx has no {subject}"
    elif status == 429:
        error_class = TelnyxRateLimitError
        action = f"Telnyx rate-limited {subject}"
    elif status >= 500:
        error_class = TelnyxServerError
        action = f"Telnyx failed on {subject}"
    error = error_class(status, errors, method=method, path=path, hint=hint, action=action)
    error.retry_after = retry_after  # type: ignore[attr-defined]
    return error


def _read_environment_once(session: requests.Session, base_url: str) -> None:
    """
    Apply the proxy and CA-bundle environment variables to the session once, then stop requests re-reading them.

    With ``trust_env`` on, requests scans every environment variable for proxies on each request (a
    quarter of a send's CPU) and may replace our bearer token with ``~/.netrc`` credentials.
    """
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    session.trust_env = False


class _NoAnswer(Exception):
    """A request that must not repeat left this machine, and no usable answer came back."""


def _never_reached_server(error: requests.RequestException) -> bool:
    """True when the request provably did not leave this machine (so resending cannot duplicate)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if not isinstance(error, requests.ConnectionError):
        return False
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError, NameResolutionError))


class TelnyxFaxHook(HttpHook):
    """
    Talks to the Telnyx Programmable Fax API (and its media storage) for Airflow.

    The connection holds the API base URL (host, default ``https://api.telnyx.com/v2``), the API
    key (password) and the extras ``connection_id`` (the Fax Application id) and ``from_number``.

    Reads and idempotent actions are retried with jittered exponential backoff on connection
    errors, timeouts, 429 and 5xx, honouring ``Retry-After`` / ``x-ratelimit-reset``. Sending a fax
    is retried only when the request provably never reached Telnyx or was refused with 429;
    any other failure raises :class:`TelnyxOutcomeUnknownError` so the caller can look before
    sending again.

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
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._session: requests.Session | None = None
        self._extras: dict[str, Any] | None = None
        self._async_cache: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(telnyx_conn_id={self.telnyx_conn_id!r})"

    # -- connection -----------------------------------------------------------------------------

    def get_conn(
        self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None
    ) -> requests.Session:
        """One pooled session for the hook's lifetime: bearer auth, our User-Agent, no extras as headers."""
        if self._session is None:
            connection = self.get_connection(self.telnyx_conn_id)
            self._set_base_url(connection)
            self.base_url = self.base_url.rstrip("/")
            self._extras = dict(connection.extra_dejson)
            session = requests.Session()
            session.headers.update(self._default_headers(connection.password))
            _read_environment_once(session, self.base_url)
            self._session = self._configure_session_from_mount_adapters(session)
        if headers:
            self._session.headers.update(headers)
        return self._session

    @staticmethod
    def _default_headers(api_key: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        return headers

    @property
    def extras(self) -> dict[str, Any]:
        self.get_conn()
        return self._extras or {}

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- sync transport -------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        subject: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        data: Any = None,
        resend_safe: bool = True,
    ) -> requests.Response:
        """
        Send one API call with the retry policy; ``resend_safe=False`` marks a call that must not repeat.

        A call that must not repeat is retried only after a connect failure or a 429.
        """
        session = self.get_conn()
        url = f"{self.base_url}{path}"
        for attempt in range(self.max_retries + 1):
            last_try = attempt == self.max_retries
            try:
                response = session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    files=files,
                    data=data,
                    timeout=(self.connect_timeout, self.read_timeout),
                )
            except requests.RequestException as error:
                if not resend_safe and not _never_reached_server(error):
                    raise _NoAnswer(f"{type(error).__name__}: {error}") from error
                if last_try:
                    raise TelnyxTransportError(
                        f"Could not reach Telnyx at {self.base_url} for {subject} "
                        f"after {attempt + 1} attempts: {type(error).__name__}"
                    ) from error
                delay = backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_max)
                self.log.warning("%s %s failed (%s); retrying in %.1fs", method, path, type(error).__name__, delay)
                time.sleep(delay)
                continue
            if response.status_code < 400:
                return response
            retry_after = retry_after_seconds(response.headers)
            retryable = response.status_code == 429 or (resend_safe and response.status_code in RETRYABLE_STATUSES)
            if retryable and not last_try:
                delay = backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_max, retry_after=retry_after)
                self.log.warning("%s %s answered %s; retrying in %.1fs", method, path, response.status_code, delay)
                time.sleep(delay)
                continue
            if not resend_safe and response.status_code >= 500:
                # A 5xx on a send does not prove Telnyx dropped it: it may still be queued.
                raise _NoAnswer(f"HTTP {response.status_code}") from self._api_error(
                    response, method, path, subject, retry_after
                )
            raise self._api_error(response, method, path, subject, retry_after)
        raise AssertionError("unreachable: the loop returns or raises")

    def _api_error(
        self, response: requests.Response, method: str, path: str, subject: str, retry_after: float | None
    ) -> TelnyxAPIError:
        try:
            body = response.json()
        except ValueError:
            body = None
        return api_error_for(
            response.status_code,
            body,
            method=method,
            path=path,
            conn_id=self.telnyx_conn_id,
            subject=subject,
            retry_after=retry_after,
        )

    # -- faxes ----------------------------------------------------------------------------------

    def build_send_request(self, to: str, **fields: Any) -> dict[str, Any]:
        """The SendFax body with the connection's defaults applied, validated; ``None`` fields dropped."""
        payload: dict[str, Any] = {"to": to}
        from_number = fields.pop("from_number", None) or self.extras.get("from_number")
        connection_id = fields.pop("connection_id", None) or self.extras.get("connection_id")
        payload["from"] = from_number
        payload["connection_id"] = str(connection_id) if connection_id else None
        payload.update(fields)
        payload = {key: value for key, value in payload.items() if value is not None}
        check_send_request(payload)
        return payload

    def send_fax(
        self,
        to: str,
        *,
        media_url: str | None = None,
        media_name: str | None = None,
        contents: bytes | None = None,
        filename: str = "document.pdf",
        from_number: str | None = None,
        connection_id: str | None = None,
        quality: str | None = None,
        t38_enabled: bool | None = None,
        monochrome: bool | None = None,
        black_threshold: int | None = None,
        store_media: bool | None = None,
        store_preview: bool | None = None,
        preview_format: str | None = None,
        from_display_name: str | None = None,
        webhook_url: str | None = None,
        client_state: str | None = None,
    ) -> dict[str, Any]:
        """
        Send a fax and return the fax record Telnyx accepted (status ``queued``).

        Give exactly one document: ``media_url``, ``media_name`` (uploaded with :meth:`upload_media`)
        or ``contents`` (bytes sent as multipart; Telnyx takes fewer options that way).
        ``from_number`` and ``connection_id`` default to the connection's extras.

        :raises TelnyxFaxValidationError: bad input, before any request.
        :raises TelnyxOutcomeUnknownError: the request left but no answer came back; look before resending.
        """
        payload = self.build_send_request(
            to,
            media_url=media_url,
            media_name=media_name,
            contents=contents,
            from_number=from_number,
            connection_id=connection_id,
            quality=quality,
            t38_enabled=t38_enabled,
            monochrome=monochrome,
            black_threshold=black_threshold,
            store_media=store_media,
            store_preview=store_preview,
            preview_format=preview_format,
            from_display_name=from_display_name,
            webhook_url=webhook_url,
            client_state=client_state,
        )
        sent_at = datetime.now(timezone.utc).isoformat()
        try:
            if contents is not None:
                response = self._send_multipart(payload, contents, filename)
            else:
                response = self._request("POST", "/faxes", json=payload, subject="the fax", resend_safe=False)
        except _NoAnswer as no_answer:
            raise TelnyxOutcomeUnknownError(
                to=to, client_state=client_state, sent_at=sent_at, reason=str(no_answer)
            ) from no_answer.__cause__
        return dict(response.json()["data"])

    def _send_multipart(self, payload: dict[str, Any], contents: bytes, filename: str) -> requests.Response:
        multipart_fields = {"to", "from", "connection_id", "quality", "t38_enabled", "monochrome"}
        multipart_fields |= {"store_media", "store_preview", "contents"}
        for name in payload:
            if name not in multipart_fields:
                raise TelnyxFaxValidationError(
                    name,
                    "cannot go with an uploaded file; upload it with upload_media and send by media_name",
                )
        if len(contents) > MAX_UPLOAD_BYTES:
            raise TelnyxFaxValidationError("contents", "is over the 20 MB upload limit")
        form = {key: _form_value(value) for key, value in payload.items() if key != "contents"}
        files = {"contents": (filename, contents)}
        return self._request("POST", "/faxes", data=form, files=files, subject="the fax", resend_safe=False)

    def get_fax(self, fax_id: str) -> dict[str, Any]:
        response = self._request("GET", f"/faxes/{fax_id}", subject=f"fax with id '{fax_id}'")
        return dict(response.json()["data"])

    def list_faxes(
        self,
        *,
        direction: str | None = None,
        to: str | None = None,
        from_number: str | None = None,
        created_at_gte: str | None = None,
        created_at_gt: str | None = None,
        created_at_lte: str | None = None,
        created_at_lt: str | None = None,
        page_size: int = 50,
    ) -> Iterator[dict[str, Any]]:
        """Yield every fax matching the filters, fetching pages lazily as the caller iterates."""
        filters = list_filters(direction, to, from_number, created_at_gte, created_at_gt, created_at_lte, created_at_lt)
        page_number = 1
        while True:
            params = {**filters, "page[number]": page_number, "page[size]": page_size}
            body = self._request("GET", "/faxes", params=params, subject="the fax list").json()
            yield from body.get("data", [])
            if is_last_page(body, page_number):
                return
            page_number += 1

    def cancel_fax(self, fax_id: str) -> dict[str, Any]:
        response = self._request("POST", f"/faxes/{fax_id}/actions/cancel", subject=f"fax with id '{fax_id}'")
        return dict(response.json().get("data") or {})

    def delete_fax(self, fax_id: str) -> None:
        self._request("DELETE", f"/faxes/{fax_id}", subject=f"fax with id '{fax_id}'")

    def refresh_fax(self, fax_id: str) -> dict[str, Any]:
        """Renew the fax's expiring media links (``media_url`` of a received fax, stored media)."""
        response = self._request("POST", f"/faxes/{fax_id}/actions/refresh", subject=f"fax with id '{fax_id}'")
        return dict(response.json().get("data") or {})

    # -- media storage --------------------------------------------------------------------------

    def upload_media(
        self,
        document: bytes | str | Path,
        *,
        media_name: str | None = None,
        ttl_secs: int | None = None,
        filename: str | None = None,
    ) -> dict[str, Any]:
        """Store a document in Telnyx media storage (multipart, at most 20 MB) and return its record."""
        if isinstance(document, (str, Path)):
            filename = filename or Path(document).name
            document = Path(document).read_bytes()
        if len(document) > MAX_UPLOAD_BYTES:
            raise TelnyxFaxValidationError(
                "media", f"is {len(document)} bytes, over the 20 MB media storage limit; send it by media_url"
            )
        form: dict[str, str] = {}
        if media_name:
            form["media_name"] = media_name
        if ttl_secs is not None:
            form["ttl_secs"] = str(ttl_secs)
        files = {"media": (filename or media_name or "document", document)}
        subject = f"the media upload '{media_name or filename}'"
        response = self._request("POST", "/media", data=form, files=files, subject=subject)
        return dict(response.json()["data"])

    def get_media(self, media_name: str) -> dict[str, Any]:
        response = self._request("GET", f"/media/{media_name}", subject=f"media named '{media_name}'")
        return dict(response.json()["data"])

    def media_exists(self, media_name: str) -> bool:
        try:
            self.get_media(media_name)
        except TelnyxNotFoundError:
            return False
        return True

    def delete_media(self, media_name: str) -> None:
        self._request("DELETE", f"/media/{media_name}", subject=f"media named '{media_name}'")

    # -- UI "Test" button -----------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Read-only check: list one fax. Never sends anything."""
        try:
            next(iter(self.list_faxes(page_size=1)), None)
        except TelnyxAuthenticationError as error:
            return False, str(error)
        except TelnyxTransportError as error:
            cause = error.__cause__
            return False, f"{error} ({cause.__class__.__name__}: check the API base URL and the network)"
        except Exception as error:
            return False, str(error)
        return True, f"Connected to Telnyx at {self.base_url}"

    # -- async ----------------------------------------------------------------------------------

    async def _async_settings(self) -> tuple[str, dict[str, str], dict[str, Any]]:
        """
        Base URL, headers and extras, resolved without blocking the event loop.

        While the loop's shared session is open, hooks on it share one resolution of the same
        connection for up to :data:`ASYNC_SETTINGS_TTL` seconds: a triggerer starting a thousand
        fax triggers looks the connection up once, not a thousand times (each lookup costs a
        secrets-backend round trip and secret masking).
        """
        loop = asyncio.get_running_loop()
        per_loop = _async_settings_cache.get(loop)
        if per_loop is None:
            per_loop = _async_settings_cache[loop] = {}
        entry = per_loop.get(self.telnyx_conn_id)
        if entry is None:
            entry = per_loop[self.telnyx_conn_id] = (asyncio.Lock(), [0.0, None])
        lock, cached = entry
        async with lock:
            if cached[1] is None or cached[0] <= time.monotonic():
                cached[1] = await self._resolve_async_settings()
                cached[0] = time.monotonic() + ASYNC_SETTINGS_TTL
            base_url, headers, extras = cached[1]
        return base_url, dict(headers), dict(extras)

    async def _resolve_async_settings(self) -> tuple[str, dict[str, str], dict[str, Any]]:
        from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson

        connection = await get_async_connection(self.telnyx_conn_id, hook=self)
        host = (connection.host or self.default_host).rstrip("/")
        base_url = host if "://" in host else f"https://{host}"
        extras = await get_async_extra_dejson(connection)
        return base_url, self._default_headers(connection.password), dict(extras)

    async def _async_request(
        self, method: str, path: str, *, subject: str, params: Mapping[str, Any] | None = None
    ) -> Any:
        """One read call on the loop's shared session, with the same retry policy as the sync side."""
        import aiohttp

        cache = self._async_cache
        async with shared_client_session() as session:
            if not cache:
                cache["base_url"], cache["headers"], cache["extras"] = await self._async_settings()
                cache["timeout"] = self._client_timeout()
            url = f"{cache['base_url']}{path}"
            headers = cache["headers"]
            timeout = cache["timeout"]
            for attempt in range(self.max_retries + 1):
                last_try = attempt == self.max_retries
                try:
                    async with session.request(
                        method, url, params=params, headers=headers, timeout=timeout
                    ) as response:
                        if response.status < 400:
                            return _json_or_none(await response.read())
                        retry_after = retry_after_seconds(response.headers)
                        if response.status in RETRYABLE_STATUSES and not last_try:
                            delay = backoff_delay(
                                attempt, base=self.backoff_base, cap=self.backoff_max, retry_after=retry_after
                            )
                            await asyncio.sleep(delay)
                            continue
                        try:
                            body = _json_or_none(await response.read())
                        except ValueError:
                            body = None
                        raise api_error_for(
                            response.status,
                            body,
                            method=method,
                            path=path,
                            conn_id=self.telnyx_conn_id,
                            subject=subject,
                            retry_after=retry_after,
                        )
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    if last_try:
                        raise TelnyxTransportError(
                            f"Could not reach Telnyx at {cache['base_url']} for {subject} "
                            f"after {attempt + 1} attempts: {type(error).__name__}"
                        ) from error
                    await asyncio.sleep(backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_max))
        raise AssertionError("unreachable: the loop returns or raises")

    def _client_timeout(self) -> aiohttp.ClientTimeout:
        import aiohttp

        return aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout, sock_read=self.read_timeout)

    async def aget_fax(self, fax_id: str) -> dict[str, Any]:
        body = await self._async_request("GET", f"/faxes/{fax_id}", subject=f"fax with id '{fax_id}'")
        return dict(body["data"])

    async def alist_faxes(
        self,
        *,
        direction: str | None = None,
        to: str | None = None,
        from_number: str | None = None,
        created_at_gte: str | None = None,
        created_at_gt: str | None = None,
        created_at_lte: str | None = None,
        created_at_lt: str | None = None,
        page_size: int = 50,
    ) -> AsyncIterator[dict[str, Any]]:
        """Async twin of :meth:`list_faxes`: yields every matching fax, page by page."""
        filters = list_filters(direction, to, from_number, created_at_gte, created_at_gt, created_at_lte, created_at_lt)
        page_number = 1
        while True:
            params = {**filters, "page[number]": page_number, "page[size]": page_size}
            body = await self._async_request("GET", "/faxes", params=params, subject="the fax list")
            for fax in body.get("data", []):
                yield fax
            if is_last_page(body, page_number):
                return
            page_number += 1

    # -- received fax documents -----------------------------------------------------------------

    def download_media(self, url: str, target: BinaryIO, *, chunk_size: int = 1024 * 1024) -> dict[str, Any]:
        """
        Stream a fax document from its temporary ``media_url`` into ``target``, in one attempt.

        The URL carries its own credential (a presigned link), so the request goes out on a plain
        session: the Telnyx API key must never reach the storage host. Returns ``{"bytes",
        "content_type"}``; a body shorter or longer than ``Content-Length`` raises.

        :raises TelnyxAPIError: the link was refused (``status`` 403 once it expired: refresh the fax).
        :raises TelnyxTransportError: the storage host could not be reached or the body was cut short.
        """
        location = url.split("?", 1)[0]
        try:
            with requests.get(url, stream=True, timeout=(self.connect_timeout, self.read_timeout)) as response:
                if response.status_code >= 400:
                    action = "The fax media link was refused (expired or revoked)"
                    raise TelnyxAPIError(response.status_code, [], method="GET", path=location, action=action)
                written = 0
                for chunk in response.iter_content(chunk_size):
                    target.write(chunk)
                    written += len(chunk)
                # Content-Length counts encoded bytes; iter_content yields decoded ones.
                encoded = response.headers.get("Content-Encoding", "identity") != "identity"
                expected = None if encoded else response.headers.get("Content-Length")
                content_type = response.headers.get("Content-Type")
        except requests.RequestException as error:
            raise TelnyxTransportError(f"Downloading {location} failed: {type(error).__name__}: {error}") from error
        if expected is not None and expected.isdigit() and int(expected) != written:
            raise TelnyxTransportError(f"Downloading {location} got {written} bytes of the {expected} announced.")
        return {"bytes": written, "content_type": content_type.split(";")[0].strip() if content_type else None}


def _json_or_none(body: bytes) -> Any:
    """A response body parsed as JSON (``None`` when empty), like ``ClientResponse.json(content_type=None)``."""
    return json.loads(body) if body.strip() else None


def list_filters(
    direction: str | None,
    to: str | None,
    from_number: str | None,
    created_at_gte: str | None,
    created_at_gt: str | None,
    created_at_lte: str | None,
    created_at_lt: str | None,
) -> dict[str, str]:
    """ListFaxes query parameters in Telnyx's deepObject form, e.g. ``filter[to][eq]``."""
    candidates = {
        "filter[direction][eq]": direction,
        "filter[to][eq]": to,
        "filter[from][eq]": from_number,
        "filter[created_at][gte]": created_at_gte,
        "filter[created_at][gt]": created_at_gt,
        "filter[created_at][lte]": created_at_lte,
        "filter[created_at][lt]": created_at_lt,
    }
    return {name: value for name, value in candidates.items() if value is not None}


def is_last_page(body: Mapping[str, Any], page_number: int) -> bool:
    meta = body.get("meta") or {}
    total_pages = meta.get("total_pages")
    if not body.get("data"):
        return True
    return total_pages is None or page_number >= int(total_pages)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Connection settings shared by the hooks on one loop while it has a shared session, at most
# ASYNC_SETTINGS_TTL seconds old: (lock, [expires_at, settings]) per conn id.
ASYNC_SETTINGS_TTL = 30.0
_async_settings_cache: dict[asyncio.AbstractEventLoop, dict[str, tuple[asyncio.Lock, list[Any]]]] = {}

# One aiohttp session per event loop, shared by every hook and trigger on that loop (a triggerer runs
# thousands of triggers on one loop); closed when the last user releases it.
_shared_sessions: dict[asyncio.AbstractEventLoop, tuple[aiohttp.ClientSession, int]] = {}


@asynccontextmanager
async def shared_client_session() -> AsyncIterator[aiohttp.ClientSession]:
    """
    Borrow the running loop's shared :class:`aiohttp.ClientSession`, creating it on first use.

    Every async hook call borrows it for the call; a caller making many calls (a polling trigger)
    holds it across them with ``async with shared_client_session():`` so it is not reopened.
    """
    import aiohttp

    loop = asyncio.get_running_loop()
    session, users = _shared_sessions.get(loop, (None, 0))
    if session is None or session.closed:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300),
            headers={"User-Agent": USER_AGENT},
        )
        users = 0
    _shared_sessions[loop] = (session, users + 1)
    try:
        yield session
    finally:
        session, users = _shared_sessions[loop]
        if users <= 1:
            del _shared_sessions[loop]
            _async_settings_cache.pop(loop, None)
            await session.close()
        else:
            _shared_sessions[loop] = (session, users - 1)
