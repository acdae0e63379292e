"""The fax inbox: a web page at ``/`` showing every fax the emulator saw, like Mailpit does for email.

Pages: ``/`` (the list, newest first, plus a tester's controls) and ``/faxes/{id}`` (one fax: its
status timeline, the webhook events and their deliveries, the document). Everything the pages load
or post to lives under ``/_emulator/inbox/``: the HTML fragments the pages poll every second, the
static CSS and JavaScript, the document, and the form handlers. None of it touches ``/v2``, and
like the control API it works through the backend only.

``views`` turns the backend's records into what a page shows, ``render`` fills the templates,
``pages`` serves what a browser reads and ``forms`` what it posts.

Rendering is Jinja2 with autoescaping on, so every value (display names, file names, the DAG, task
and run decoded from ``client_state``) is text, never markup. The pages also send a Content Security
Policy without ``'unsafe-inline'``, so even a missed escape could not run a script.
"""

from __future__ import annotations

from fastapi import APIRouter

from telnyx_fax_emulator.inbox import forms, pages

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(forms.router)
