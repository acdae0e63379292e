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
        "config": {
            "telnyx_fax": {
                "description": "Settings of the Telnyx Fax provider.",
                "options": {
                    "mask_numbers": {
                        "description": "Mask fax numbers (+1•••••0123) in everything the provider logs, raises "
                        "or shows, such as task logs, exception messages and asset events. Fax numbers are "
                        "identifiers under HIPAA's Safe Harbor list. XCom return values keep full records.",
                        "version_added": "0.2.0",
                        "type": "boolean",
                        "example": "False",
                        "default": "True",
                    }
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
