"""Provider metadata read by Airflow's ProvidersManager (no imports of our own code here)."""

from __future__ import annotations

from typing import Any

E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-telnyx-fax",
        "name": "Telnyx Fax",
        "description": "Send, track and receive faxes with Telnyx Programmable Fax.",
        "versions": ["0.1.0"],
        "integrations": [
            {
                "integration-name": "Telnyx Fax",
                "external-doc-url": "https://developers.telnyx.com/docs/programmable-fax",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Telnyx Fax",
                "python-modules": ["airflow_provider_telnyx_fax.hooks.fax"],
            }
        ],
        "operators": [
            {
                "integration-name": "Telnyx Fax",
                "python-modules": [
                    "airflow_provider_telnyx_fax.operators.batch",
                    "airflow_provider_telnyx_fax.operators.fax",
                    "airflow_provider_telnyx_fax.operators.inbound",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Telnyx Fax",
                "python-modules": [
                    "airflow_provider_telnyx_fax.sensors.fax",
                    "airflow_provider_telnyx_fax.sensors.inbound",
                ],
            }
        ],
        "triggers": [
            {
                "integration-name": "Telnyx Fax",
                "python-modules": [
                    "airflow_provider_telnyx_fax.triggers.batch",
                    "airflow_provider_telnyx_fax.triggers.fax",
                    "airflow_provider_telnyx_fax.triggers.inbound",
                ],
            }
        ],
        # No "plugins" key: TelnyxFaxPlugin is declared through the airflow.plugins entry point, which Airflow
        # loads whether lazy_discover_providers is on or off. Listed here as well, it would be loaded a second
        # time with lazy_discover_providers off and reported as a plugin import error ("already registered").
        "config": {
            "telnyx_fax": {
                "description": "Settings of the Telnyx Fax provider.",
                "options": {
                    "mask_numbers": {
                        "description": "Mask fax numbers (+1•••••0123) in everything the provider logs, raises "
                        "or shows, such as task logs, exception messages and asset events. Fax numbers are "
                        "identifiers under HIPAA's Safe Harbor list. XCom return values keep full records.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "False",
                        "default": "True",
                    },
                    "webhooks_enabled": {
                        "description": "Serve POST /telnyx-fax/webhooks/{conn_id} on the api-server, which records "
                        "each signed fax.received, fax.delivered and fax.failed webhook as an asset event. False "
                        "leaves the route out.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "False",
                        "default": "True",
                    },
                    "faxes_page_enabled": {
                        "description": "Add the Faxes page to the Airflow UI (Browse > Faxes, and a Faxes tab on "
                        "each DAG run), served by the api-server at /telnyx-fax-ui/faxes: the faxes Telnyx lists "
                        "for a telnyx_fax connection, rolled up by DAG and run, shown only to users who may read "
                        "the DAG. False leaves the page and its routes out.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "False",
                        "default": "True",
                    },
                    "webhook_received_asset": {
                        "description": "URI of the asset fax.received webhooks update; {conn_id} is replaced by "
                        "the connection id in the webhook URL.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "telnyx-fax://{conn_id}/inbox",
                        "default": "telnyx-fax://{conn_id}/received",
                    },
                    "webhook_delivered_asset": {
                        "description": "URI of the asset fax.delivered webhooks update ({conn_id} as above).",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "telnyx-fax://{conn_id}/sent",
                        "default": "telnyx-fax://{conn_id}/delivered",
                    },
                    "webhook_failed_asset": {
                        "description": "URI of the asset fax.failed webhooks update ({conn_id} as above).",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "telnyx-fax://{conn_id}/problems",
                        "default": "telnyx-fax://{conn_id}/failed",
                    },
                    "webhook_max_body_bytes": {
                        "description": "The largest webhook body accepted, in bytes; a larger one is refused "
                        "(413) before it is read whole. Telnyx fax events are about 1-2 KB.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "16384",
                        "default": "65536",
                    },
                    "webhook_tolerance_seconds": {
                        "description": "How far the telnyx-timestamp of a webhook may be from the api-server's "
                        "clock, in seconds; an older (or future) webhook is refused as a possible replay.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "600",
                        "default": "300",
                    },
                    "webhook_seen_event_ids": {
                        "description": "How many recent Telnyx event ids are remembered per asset to record "
                        "each event once, however often it is delivered.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "50000",
                        "default": "10000",
                    },
                },
            }
        },
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_telnyx_fax.hooks.fax.TelnyxFaxHook",
                "hook-name": "Telnyx Fax",
                "connection-type": "telnyx_fax",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"host": "API base URL", "password": "API key (V2)"},
                    "placeholders": {
                        "host": "https://api.telnyx.com/v2",
                        "password": "KEY0123456789ABCDEF...",
                        "connection_id": "1234567890123456789",
                        "from_number": "+13125550123",
                    },
                },
                "conn-fields": {
                    "connection_id": {
                        "label": "Fax Application id",
                        "description": "The id of the Telnyx Fax Application (Telnyx calls it connection_id) "
                        "used when a task does not name one.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "from_number": {
                        "label": "Default from number",
                        "description": "The E.164 number faxes are sent from when a task does not name one, "
                        "e.g. +13125550123.",
                        "schema": {"type": ["string", "null"], "pattern": E164_PATTERN},
                    },
                    "channel_limit": {
                        "label": "Channel limit",
                        "description": "How many calls your Telnyx account may have up at once: 2 for a new "
                        "account, 10 once verified, more on request. Batches keep at most this many faxes on the "
                        "line. Empty: the Fax Application's outbound channel limit, or learned as the batch sends.",
                        "schema": {"type": ["integer", "null"], "minimum": 1},
                    },
                    "public_key": {
                        "label": "Webhook public key",
                        "description": "The base64 Ed25519 public key Telnyx signs webhooks with (Account "
                        "settings > Keys & Credentials), used by airflow_provider_telnyx_fax.webhooks.verify_webhook.",
                        "schema": {"type": ["string", "null"]},
                    },
                },
            }
        ],
    }
