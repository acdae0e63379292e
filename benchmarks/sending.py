"""Benchmark 3: sequential fax sends from one client process, ours against the ways a user would send otherwise.

* ``ours``: ``TelnyxFaxHook().send_fax(to, media_url=...)`` on one hook;
* ``http``: providers-http ``HttpHook(method="POST", http_conn_id=...).run(endpoint, json=...)`` per send,
  with an http connection to the emulator whose extras carry the Bearer header;
* ``sdk``: the official SDK's sync client, ``telnyx.Telnyx(api_key=..., base_url=...).faxes.create(...)``.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import TYPE_CHECKING, Any

from benchmarks._common import HTTP_CONN_ID, Child, child_ready, child_result, client_env

if TYPE_CHECKING:
    from collections.abc import Callable

    from telnyx_fax_emulator.launcher import EmulatorHandle

VARIANTS = ("ours", "http", "sdk")
MEDIA_URL = "https://example.com/report.pdf"


def _sender(variant: str) -> Callable[[str], str]:
    """A function sending one fax to ``to`` and returning its id; everything set up as a user would."""
    connection_id = os.environ["TELNYX_BENCH_CONNECTION_ID"]
    from_number = os.environ["TELNYX_BENCH_FROM"]
    if variant == "ours":
        from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

        hook = TelnyxFaxHook()
        return lambda to: str(hook.send_fax(to, media_url=MEDIA_URL)["id"])
    if variant == "http":
        from airflow.providers.http.hooks.http import HttpHook

        http_hook = HttpHook(method="POST", http_conn_id=HTTP_CONN_ID)

        def send_http(to: str) -> str:
            body = {"to": to, "from": from_number, "connection_id": connection_id, "media_url": MEDIA_URL}
            response = http_hook.run("v2/faxes", json=body)
            return str(response.json()["data"]["id"])

        return send_http
    import telnyx

    client = telnyx.Telnyx(api_key=os.environ["TELNYX_BENCH_API_KEY"], base_url=os.environ["TELNYX_BENCH_BASE_URL"])

    def send_sdk(to: str) -> str:
        fax = client.faxes.create(connection_id=connection_id, from_=from_number, to=to, media_url=MEDIA_URL)
        assert fax.data is not None
        return str(fax.data.id)

    return send_sdk


def measure(emulator: EmulatorHandle, variant: str, count: int) -> dict[str, Any]:
    emulator.reset()
    child = Child("benchmarks.sending", ["--variant", variant], client_env(emulator))
    child.go(count)
    result = child.result()
    result["accepted"] = emulator.request_count("POST", "/v2/faxes")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    args = parser.parse_args()
    send = _sender(args.variant)
    send("+15550300000")  # a warm-up send: first-call imports and the first connection are not measured
    count: int = child_ready()
    cpu = time.process_time()
    wall = time.perf_counter()
    for index in range(count):
        send(f"+1555031{index % 10000:04d}")
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    child_result(
        {
            "variant": args.variant,
            "sends": count,
            "wall_s": wall,
            "cpu_s": cpu,
            "sends_per_s": count / wall,
            "cpu_ms_per_send": cpu * 1000 / count,
        }
    )


if __name__ == "__main__":
    main()
