"""``[core] hostname_callable`` for several Airflow components on one machine: each one's own name.

The scale-out run starts two Celery workers and two triggerers on one host; with the machine's name they
would all record the same ``hostname`` on task instances and jobs, and nothing would show which one ran what.
"""

from __future__ import annotations

import os
import socket

NAME_VARIABLE = "TELNYX_FAX_TEST_COMPONENT_NAME"


def component_hostname() -> str:
    """The name the test gave this process in ``TELNYX_FAX_TEST_COMPONENT_NAME``, else the machine's."""
    return os.environ.get(NAME_VARIABLE) or socket.getfqdn()
