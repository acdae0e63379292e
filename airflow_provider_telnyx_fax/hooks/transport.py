"""
How the hook talks HTTP to Telnyx: the base-URL rule, one retry policy, error mapping, the shared session.

Sync calls (requests) and async calls (aiohttp) go through the same pieces: :func:`api_base_url`
decides where a connection points, :class:`RetryPolicy` decides what is retried and how long to
wait (tenacity's ``Retrying`` and ``AsyncRetrying`` driven by one set of arguments), and
:func:`api_error_for` turns an error answer into the matching exception.

The send rule: a call marked ``resend_safe=False`` (sending a fax) is retried only when it provably
never left this machine or Telnyx refused it with 429. Any other failure of such a call raises
:class:`NoAnswer`, so the caller can look for the fax before sending again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import random
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import requests
import tenacity
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from airflow_provider_telnyx_fax import __version__
from airflow_provider_telnyx_fax.exceptions import (
    TelnyxAPIError,
    TelnyxAuthenticationError,
    TelnyxFaxValidationError,
    TelnyxNotFoundError,
    TelnyxRateLimitError,
    TelnyxServerError,
    TelnyxTransportError,
    parse_error_body,
)
from airflow_provider_telnyx_fax.privacy import mask_numbers_in

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

DEFAULT_API_BASE_URL = "https://api.telnyx.com/v2"
USER_AGENT = f"airflow-provider-telnyx-fax/{__version__}"
SERVER_ERROR_STATUSES = frozenset({500, 502, 503, 504})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


# -- where a connection points --------------------------------------------------------------------


def is_loopback(hostname: str | None) -> bool:
    """127.0.0.0/8, ``::1`` and ``localhost``: the only hosts an API key may reach over plain HTTP."""
    if not hostname:
        return False
    if hostname.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def api_base_url(host: str | None, *, conn_id: str, port: int | None = None, allow_http: bool = False) -> str:
    """
    The API base URL of a connection, the same for sync and async calls.

    No scheme means ``https``; a port in the host (or the connection's port) is kept. ``http://`` is
    accepted for loopback hosts (the emulator) and, for any other host, only with the connection's
    ``allow_http`` extra: the API key travels in every request.
    """
    text = (host or DEFAULT_API_BASE_URL).strip().rstrip("/")
    parts = urlsplit(text if "://" in text else f"https://{text}")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise TelnyxFaxValidationError(
            "host", f"connection '{conn_id}' has no usable API base URL; use e.g. {DEFAULT_API_BASE_URL}"
        )
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{port}"
    if scheme == "http" and not is_loopback(parts.hostname) and not allow_http:
        raise TelnyxFaxValidationError(
            "host",
            f"connection '{conn_id}' points at http://{parts.hostname}, which would send the API key "
            f"unencrypted; use https:// (or no scheme), or set the extra allow_http to true for a "
            f"trusted private network such as an emulator in a container",
        )
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))


def sends_key_in_clear(base_url: str) -> bool:
    parts = urlsplit(base_url)
    return parts.scheme == "http" and not is_loopback(parts.hostname)


def flag(value: Any) -> bool:
    """A connection extra read as a boolean (JSON ``true`` or the strings ``true`` / ``1`` / ``yes``)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def default_headers(api_key: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def read_environment_once(session: requests.Session, base_url: str) -> None:
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


# -- error answers ---------------------------------------------------------------------------------


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
    return error_class(
        status,
        parse_error_body(body),
        method=method,
        path=path,
        hint=hint,
        action=action,
        retry_after=retry_after,
    )


def json_or_none(body: bytes) -> Any:
    """A response body parsed as JSON; ``None`` when it is empty or not JSON."""
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return None


# -- what a failed attempt means ----------------------------------------------------------------------


class Unreachable(Exception):
    """The request provably never left this machine (refused, DNS, connect timeout): resending is safe."""


class NoAnswer(Exception):
    """The request may have reached Telnyx, but no usable answer came back."""


def _reason(error: BaseException) -> str:
    # Library messages carry the URL, and a list call's URL carries the number it filters on.
    return f"{type(error).__name__}: {mask_numbers_in(str(error))}" if str(error) else type(error).__name__


def classify_requests_error(error: requests.RequestException) -> Exception:
    if isinstance(error, requests.ConnectTimeout):
        return Unreachable(_reason(error))
    if isinstance(error, requests.ConnectionError):
        cause = getattr(error.args[0], "reason", None) if error.args else None
        if isinstance(cause, (NewConnectionError, ConnectTimeoutError, NameResolutionError)):
            return Unreachable(_reason(error))
    return NoAnswer(_reason(error))


def classify_aiohttp_error(error: BaseException) -> Exception:
    if isinstance(error, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        return Unreachable(_reason(error))
    return NoAnswer(_reason(error))


def answer_error(status: int, headers: Mapping[str, str], body: Any, *, call: Call, resend_safe: bool) -> Exception:
    """The exception for an error answer; a 5xx on a send does not prove Telnyx dropped it."""
    if not resend_safe and status in SERVER_ERROR_STATUSES:
        return NoAnswer(f"HTTP {status}")
    return api_error_for(
        status,
        body,
        method=call.method,
        path=call.path,
        conn_id=call.conn_id,
        subject=call.subject,
        retry_after=retry_after_seconds(headers),
    )


@dataclass(frozen=True)
class Call:
    """One API call as the retry policy and the error messages see it."""

    method: str
    path: str
    subject: str
    conn_id: str
    base_url: str
    resend_safe: bool = True


# -- one retry policy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """
    What is retried and how long to wait, for sync and async calls alike.

    Retried: a call that never left, and a 429 (Telnyx pacing us, not failing); for calls that are
    safe to repeat also 5xx and lost answers. The wait honours ``Retry-After`` /
    ``x-ratelimit-reset`` plus a little jitter, else full-jitter exponential backoff.
    """

    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return retry_after + random.uniform(0, self.backoff_base)
        return random.uniform(self.backoff_base / 2, min(self.backoff_max, self.backoff_base * 2**attempt))

    def should_retry(self, error: BaseException | None, *, resend_safe: bool) -> bool:
        if isinstance(error, (TelnyxRateLimitError, Unreachable)):
            return True
        return resend_safe and isinstance(error, (TelnyxServerError, NoAnswer))

    def _tenacity_arguments(self, call: Call, log: Callable[[], Any]) -> dict[str, Any]:
        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            retry_after = error.retry_after if isinstance(error, TelnyxAPIError) else None
            return self.delay(state.attempt_number - 1, retry_after)

        def log_retry(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            what = f"answered {error.status}" if isinstance(error, TelnyxAPIError) else f"failed ({error})"
            sleep = state.next_action.sleep if state.next_action else 0.0
            log().warning(
                "%s %s %s; retrying in %.1fs (attempt %d of %d)",
                call.method,
                call.path,
                what,
                sleep,
                state.attempt_number + 1,
                self.max_retries + 1,
            )

        return {
            "stop": tenacity.stop_after_attempt(self.max_retries + 1),
            "wait": wait,
            "retry": tenacity.retry_if_exception(lambda error: self.should_retry(error, resend_safe=call.resend_safe)),
            "before_sleep": log_retry,
            "reraise": True,
        }

    def final(self, error: Exception, call: Call) -> Exception:
        """What the caller sees once retrying is over."""
        if isinstance(error, Unreachable) or (isinstance(error, NoAnswer) and call.resend_safe):
            return TelnyxTransportError(
                f"Could not reach Telnyx at {call.base_url} for {call.subject} "
                f"after {self.max_retries + 1} attempt(s): {error}"
            )
        return error

    def call(self, attempt: Callable[[], Any], call: Call, log: Callable[[], Any]) -> Any:
        """
        Run ``attempt`` under the policy; ``log`` gives the logger for retry lines, looked up only when needed.

        Creating a task logger costs a quarter of a millisecond, as much as a status check, and a
        triggerer has a hook per waiting fax.
        """
        try:
            if not self.max_retries:
                # A polling trigger's call (it owns its own backoff): nothing to retry, so no retry machinery.
                return attempt()
            retrying = tenacity.Retrying(**self._tenacity_arguments(call, log))
            return retrying(attempt)
        except (Unreachable, NoAnswer) as error:
            raise self.final(error, call) from None

    async def acall(self, attempt: Callable[[], Awaitable[Any]], call: Call, log: Callable[[], Any]) -> Any:
        try:
            retrying = tenacity.AsyncRetrying(**self._tenacity_arguments(call, log))
            return await retrying(attempt)
        except (Unreachable, NoAnswer) as error:
            raise self.final(error, call) from None


# -- the shared aiohttp session and connection settings ------------------------------------------------

# Connection settings shared by the hooks on one loop while it has a shared session, at most
# ASYNC_SETTINGS_TTL seconds old: (lock, [expires_at, settings]) per conn id.
ASYNC_SETTINGS_TTL = 30.0
_async_settings_cache: dict[asyncio.AbstractEventLoop, dict[str, tuple[asyncio.Lock, list[Any]]]] = {}

# One aiohttp session per event loop, shared by every hook and trigger on that loop (a triggerer runs
# thousands of triggers on one loop); closed when the last user releases it.
_shared_sessions: dict[asyncio.AbstractEventLoop, tuple[aiohttp.ClientSession, int]] = {}


async def cached_settings(conn_id: str, resolve: Callable[[], Awaitable[Any]]) -> Any:
    """
    ``resolve()`` for this connection, shared by the hooks on the running loop for a while.

    A triggerer starting a thousand fax triggers looks the connection up once, not a thousand times
    (each lookup costs a secrets-backend round trip and secret masking).
    """
    loop = asyncio.get_running_loop()
    per_loop = _async_settings_cache.setdefault(loop, {})
    entry = per_loop.get(conn_id)
    if entry is None:
        entry = per_loop[conn_id] = (asyncio.Lock(), [0.0, None])
    lock, cached = entry
    async with lock:
        if cached[1] is None or cached[0] <= time.monotonic():
            cached[1] = await resolve()
            cached[0] = time.monotonic() + ASYNC_SETTINGS_TTL
        return cached[1]


@asynccontextmanager
async def shared_client_session() -> AsyncIterator[aiohttp.ClientSession]:
    """
    Borrow the running loop's shared :class:`aiohttp.ClientSession`, creating it on first use.

    Every async hook call borrows it for the call; a caller making many calls (a polling trigger)
    holds it across them with ``async with shared_client_session():`` so it is not reopened.
    """
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
