"""The account's one Fax Application (its id is the ``connection_id`` faxes are sent with), as
``/v2/fax_applications`` shows and changes it: the ``FaxApplication`` schema of the API contract.

Its ``outbound.channel_limit`` is enforced (channels.py); its webhook URLs and timeout are the ones
the emulator delivers with. ``active``, ``tags``, ``inbound.channel_limit`` and the outbound voice
profile id are kept and shown only: simulated inbound faxes always arrive, and the emulated account
has one outbound voice profile whatever its id says.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from telnyx_fax_emulator.errors import not_found
from telnyx_fax_emulator.settings import DEFAULT_APPLICATION_NAME, DEFAULT_OUTBOUND_VOICE_PROFILE_ID
from telnyx_fax_emulator.state import isoformat

if TYPE_CHECKING:
    from telnyx_fax_emulator.settings import EmulatorSettings

# What ``PATCH /v2/fax_applications/{id}`` may change, by the backend's name for it.
UPDATABLE = frozenset(
    {
        "application_name",
        "active",
        "tags",
        "webhook_event_url",
        "webhook_event_failover_url",
        "webhook_timeout_secs",
        "inbound_channel_limit",
        "outbound_channel_limit",
        "outbound_voice_profile_id",
    }
)


@dataclass
class FaxApplication:
    """The application's own settings; its webhook URLs live in the emulator's settings, which deliver with them."""

    id: str
    created_at: float
    updated_at: float
    application_name: str = DEFAULT_APPLICATION_NAME
    active: bool = True
    tags: list[str] = field(default_factory=list)
    inbound_channel_limit: int | None = None
    outbound_channel_limit: int | None = None
    outbound_voice_profile_id: str = DEFAULT_OUTBOUND_VOICE_PROFILE_ID
    webhook_timeout_secs: int | None = None

    @classmethod
    def at_start(cls, settings: EmulatorSettings, now: float) -> FaxApplication:
        return cls(id=settings.connection_id, created_at=now, updated_at=now,
                   outbound_channel_limit=settings.application_channel_limit)  # fmt: skip

    def to_api(self, settings: EmulatorSettings) -> dict[str, Any]:
        """The ``FaxApplication`` object. The contract types ``channel_limit`` as an integer, so an unset
        one is left out (Telnyx's upstream spec gives it a ``null`` default), as is an unset webhook URL."""
        data: dict[str, Any] = {
            "record_type": "fax_application",
            "id": self.id,
            "application_name": self.application_name,
            "active": self.active,
            "anchorsite_override": "Latency",
            "tags": list(self.tags),
            "inbound": _without_none(
                channel_limit=self.inbound_channel_limit, sip_subdomain_receive_settings="from_anyone"
            ),
            "outbound": _without_none(
                channel_limit=self.outbound_channel_limit, outbound_voice_profile_id=self.outbound_voice_profile_id
            ),
            "webhook_event_failover_url": settings.webhook_failover_url,
            "webhook_timeout_secs": self.webhook_timeout_secs,
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at),
        }
        if settings.webhook_url:
            data["webhook_event_url"] = settings.webhook_url
        return data


def _without_none(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class FaxApplicationCalls:
    """Reading and changing the Fax Application, as methods of :class:`~telnyx_fax_emulator.backend.Backend`."""

    if TYPE_CHECKING:
        initial: EmulatorSettings
        settings: EmulatorSettings
        application: FaxApplication
        application_at_start: FaxApplication

    def fax_application(self, application_id: str) -> FaxApplication:
        if application_id != self.application.id:
            raise not_found(f"Fax Application '{application_id}' was not found.")
        return self.application

    def fax_applications(
        self, *, name_contains: str | None = None, outbound_voice_profile_id: str | None = None
    ) -> list[FaxApplication]:
        """The account's applications matching every filter given (it has one)."""
        application = self.application
        if name_contains is not None and name_contains.lower() not in application.application_name.lower():
            return []
        if outbound_voice_profile_id is not None and outbound_voice_profile_id != application.outbound_voice_profile_id:
            return []
        return [application]

    def update_fax_application(self, application_id: str, changes: dict[str, Any], now: float) -> FaxApplication:
        """Apply checked ``changes`` (keys from :data:`UPDATABLE`); a new channel limit holds from the next call."""
        application = self.fax_application(application_id)
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        for name, value in changes.items():
            if name == "webhook_event_url":
                self.settings.webhook_url = value or None
            elif name == "webhook_event_failover_url":
                self.settings.webhook_failover_url = value or None
            else:
                setattr(application, name, value)
        if "webhook_timeout_secs" in changes:
            # The delivery timeout is the application's when set, else the one the emulator started with.
            self.settings.webhook_timeout = float(application.webhook_timeout_secs or self.initial.webhook_timeout)
        application.updated_at = now
        return application

    def reset_fax_application(self) -> None:
        self.application = replace(self.application_at_start, tags=list(self.application_at_start.tags))
