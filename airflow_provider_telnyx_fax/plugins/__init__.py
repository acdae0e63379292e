"""The api-server plugin: Telnyx fax webhooks in, asset events out (see :mod:`.telnyx_fax`)."""
