"""
The assets Telnyx fax webhooks update, one per connection and kind of event.

The api-server plugin (:mod:`airflow_provider_telnyx_fax.plugins`) records each verified
``fax.received``, ``fax.delivered`` and ``fax.failed`` webhook as an asset event on one of these;
a DAG scheduled on the same asset runs for it::

    from airflow_provider_telnyx_fax.assets import fax_asset

    with DAG(dag_id="file_received_faxes", schedule=[fax_asset("received")], ...):
        ...

The URIs default to ``telnyx-fax://<conn_id>/received`` (``…/delivered``, ``…/failed``) and can be
changed with ``[telnyx_fax] webhook_received_asset`` (``webhook_delivered_asset``,
``webhook_failed_asset``): a template in which ``{conn_id}`` stands for the connection id. The
api-server and the dag-processor must see the same setting.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import Asset

CONFIG_SECTION = "telnyx_fax"
DEFAULT_CONN_ID = "telnyx_fax_default"


class FaxEventKind(str, Enum):
    """What a webhook tells about a fax that is worth an asset event: it arrived, it got through, it failed."""

    RECEIVED = "received"
    DELIVERED = "delivered"
    FAILED = "failed"

    @property
    def config_option(self) -> str:
        return f"webhook_{self.value}_asset"

    @property
    def default_uri_template(self) -> str:
        return f"telnyx-fax://{{conn_id}}/{self.value}"


# Only terminal events become asset events: the in-between ones (queued, sending, receiving, ...)
# change nothing a downstream DAG could act on.
EVENT_KINDS = {
    "fax.received": FaxEventKind.RECEIVED,
    "fax.delivered": FaxEventKind.DELIVERED,
    "fax.failed": FaxEventKind.FAILED,
}


def fax_asset_uri(kind: FaxEventKind | str, conn_id: str = DEFAULT_CONN_ID) -> str:
    """The URI of the asset for ``kind`` events of connection ``conn_id``, as configured."""
    from airflow.configuration import conf

    kind = FaxEventKind(kind)
    template = conf.get(CONFIG_SECTION, kind.config_option, fallback=None) or kind.default_uri_template
    return template.replace("{conn_id}", conn_id)


def fax_asset(kind: FaxEventKind | str, conn_id: str = DEFAULT_CONN_ID) -> Asset:
    """The :class:`~airflow.sdk.Asset` a DAG schedules on to run for ``kind`` webhooks of ``conn_id``."""
    from airflow.sdk import Asset

    return Asset(fax_asset_uri(kind, conn_id))
