"""The api-server plugin: fax webhooks in as asset events, and the Faxes page in the UI (see :mod:`.telnyx_fax`)."""
