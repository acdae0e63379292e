"""
``TelnyxFaxPlugin``: the api-server route that turns Telnyx fax webhooks into asset events.

Airflow loads plugins in every component, the dag-processor included, so this module imports
nothing heavy: the FastAPI app is built by the api-server on the first request it routes here.
``[telnyx_fax] webhooks_enabled = False`` leaves the route out (the plugin then adds nothing).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_telnyx_fax.assets import CONFIG_SECTION

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

URL_PREFIX = "/telnyx-fax"
WEBHOOK_ROUTE = URL_PREFIX + "/webhooks/{conn_id}"


class LazyWebhookApp:
    """An ASGI app that builds the webhook FastAPI app on its first call, once."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    def _build(self) -> Any:
        with self._lock:
            if self._app is None:
                from airflow_provider_telnyx_fax.plugins.webhook_app import create_app

                self._app = create_app()
        return self._app

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        app = self._app if self._app is not None else self._build()
        await app(scope, receive, send)


def webhooks_enabled() -> bool:
    from airflow.configuration import conf

    return conf.getboolean(CONFIG_SECTION, "webhooks_enabled", fallback=True)


def webhook_apps() -> list[dict[str, Any]]:
    """The plugin's ``fastapi_apps``: the webhook route, unless webhooks are turned off."""
    if not webhooks_enabled():
        return []
    return [{"name": "Telnyx Fax webhooks", "app": LazyWebhookApp(), "url_prefix": URL_PREFIX}]


class TelnyxFaxPlugin(AirflowPlugin):
    """Receives signed Telnyx fax webhooks at ``/telnyx-fax/webhooks/{conn_id}`` and records asset events."""

    name = "telnyx_fax"
    fastapi_apps = webhook_apps()
