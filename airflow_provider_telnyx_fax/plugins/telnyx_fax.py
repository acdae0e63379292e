"""
``TelnyxFaxPlugin``: the api-server routes of the provider, and the Faxes page in the Airflow UI.

* ``POST /telnyx-fax/webhooks/{conn_id}``: signed Telnyx fax webhooks become asset events
  (:mod:`.webhook_app`); ``[telnyx_fax] webhooks_enabled = False`` leaves it out;
* ``/telnyx-fax-ui/faxes``: the Faxes page (:mod:`.faxes_page`), in the Browse menu and as a tab of
  each DAG run; ``[telnyx_fax] faxes_page_enabled = False`` leaves it out.

Airflow loads plugins in every component, the dag-processor included, so this module imports
nothing heavy: each FastAPI app is built by the api-server on the first request it routes there.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_telnyx_fax.assets import CONFIG_SECTION

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

log = logging.getLogger(__name__)

URL_PREFIX = "/telnyx-fax"
WEBHOOK_ROUTE = URL_PREFIX + "/webhooks/{conn_id}"
# Apart from the webhooks' prefix: a mount at /telnyx-fax would take every path below it.
PAGE_URL_PREFIX = "/telnyx-fax-ui"
PAGE_ROUTE = PAGE_URL_PREFIX + "/faxes"


class LazyApp:
    """
    An ASGI app that builds a FastAPI app (``module.create_app()``) on its first call, once.

    No exception leaves it. A FastAPI app answers an unhandled error itself (500, or its own
    handler's answer) and then raises it on; in the api-server that reaches Airflow's handlers for
    database errors, which cannot answer a second time and fail the connection with
    "Caught handled exception, but response already started". So the error stops here, after the
    app's answer, or with a 500 of our own when the app never answered.
    """

    def __init__(self, module: str) -> None:
        self._module = module
        self._app: Any = None
        self._lock = threading.Lock()

    def _build(self) -> Any:
        with self._lock:
            if self._app is None:
                self._app = importlib.import_module(self._module).create_app()
        return self._app

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        started = False

        async def tracking_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            app = self._app if self._app is not None else self._build()
            await app(scope, receive, tracking_send)
        except Exception as error:
            if scope["type"] != "http":
                raise
            log.error("%s failed: %s", self._module, type(error).__name__, exc_info=error)
            if not started:
                await _internal_error(send)


async def _internal_error(send: Callable[[MutableMapping[str, Any]], Awaitable[None]]) -> None:
    body = json.dumps({"detail": "Internal error."}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class LazyWebhookApp(LazyApp):
    """The webhook app (:mod:`.webhook_app`), built on its first request."""

    def __init__(self) -> None:
        super().__init__("airflow_provider_telnyx_fax.plugins.webhook_app")


class LazyFaxesPageApp(LazyApp):
    """The Faxes page app (:mod:`.faxes_page`), built on its first request."""

    def __init__(self) -> None:
        super().__init__("airflow_provider_telnyx_fax.plugins.faxes_page")


def _enabled(option: str) -> bool:
    from airflow.configuration import conf

    return conf.getboolean(CONFIG_SECTION, option, fallback=True)


def webhooks_enabled() -> bool:
    return _enabled("webhooks_enabled")


def faxes_page_enabled() -> bool:
    return _enabled("faxes_page_enabled")


def webhook_apps() -> list[dict[str, Any]]:
    """The plugin's ``fastapi_apps``: the webhook route and the Faxes page, each unless turned off."""
    apps = []
    if webhooks_enabled():
        apps.append({"name": "Telnyx Fax webhooks", "app": LazyWebhookApp(), "url_prefix": URL_PREFIX})
    if faxes_page_enabled():
        apps.append({"name": "Telnyx Fax: Faxes page", "app": LazyFaxesPageApp(), "url_prefix": PAGE_URL_PREFIX})
    return apps


def faxes_page_views() -> list[dict[str, Any]]:
    """The plugin's ``external_views``: the Faxes page in the Browse menu and on each DAG run's page."""
    if not faxes_page_enabled():
        return []
    return [
        {"name": "Faxes", "href": PAGE_ROUTE, "destination": "nav", "category": "browse", "url_route": "telnyx-faxes"},
        {
            "name": "Faxes",
            # The UI URL-encodes each value it puts in.
            "href": PAGE_ROUTE + "?dag_id={DAG_ID}&run_id={RUN_ID}",
            "destination": "dag_run",
            "url_route": "telnyx-faxes-run",
        },
    ]


class TelnyxFaxPlugin(AirflowPlugin):
    """Telnyx webhooks in at ``/telnyx-fax/webhooks/{conn_id}``; the Faxes page at ``/telnyx-fax-ui/faxes``."""

    name = "telnyx_fax"
    fastapi_apps = webhook_apps()
    external_views = faxes_page_views()
