"""``telnyx-fax-emulator``: run the local Telnyx Fax API emulator from a shell."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telnyx_fax_emulator.outcomes import validate_outcome
from telnyx_fax_emulator.settings import (
    DEFAULT_API_KEY,
    DEFAULT_CHANNEL_LIMIT,
    DEFAULT_CONNECTION_ID,
    DEFAULT_FROM_NUMBER,
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_PORT,
    EmulatorSettings,
    OutcomeSpec,
    parse_limit,
    parse_max_in_flight,
    parse_speed,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from telnyx_fax_emulator.backend import Backend

# Printed first once the server accepts requests; EmulatorProcess waits for it.
READY_MARKER = "Telnyx Fax API emulator ready"


def _outcome_arg(text: str) -> tuple[str, OutcomeSpec]:
    number, sep, outcome = text.partition("=")
    if not sep or not number:
        raise argparse.ArgumentTypeError("use NUMBER=OUTCOME, e.g. +15550100001=user_busy")
    spec: Any = outcome.split(",") if "," in outcome else outcome
    try:
        return number.strip(), validate_outcome(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _speed_arg(text: str) -> float:
    try:
        return parse_speed(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _max_in_flight_arg(text: str) -> int | None:
    try:
        return parse_max_in_flight(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _limit_arg(unit: str) -> Callable[[str], int | None]:
    def parse(text: str) -> int | None:
        try:
            return parse_limit(text, "limit", unit)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="telnyx-fax-emulator",
        description="Local emulator of the Telnyx Programmable Fax API (v2) for tests and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port; 0 picks a free one (default 8089)")
    parser.add_argument(
        "--api-key", action="append", dest="api_keys", help=f"accepted API key, repeatable (default {DEFAULT_API_KEY})"
    )
    parser.add_argument("--connection-id", default=DEFAULT_CONNECTION_ID, help="the Fax Application id")
    parser.add_argument("--from-number", default=DEFAULT_FROM_NUMBER, help="the account's fax number (E.164)")
    parser.add_argument(
        "--speed", type=_speed_arg, default="fast", help="'fast' (default, 100x), 'realistic' (1x) or a factor"
    )
    parser.add_argument(
        "--outcome", type=_outcome_arg, action="append", default=[], metavar="NUMBER=OUTCOME",
        help="outcome for a destination, repeatable; OUTCOME is delivered, a failure reason, "
        "or a comma-separated sequence like user_busy,delivered",
    )  # fmt: skip
    parser.add_argument("--outcomes-file", type=Path, help='JSON object {"+1555...": "user_busy" | [..]}')
    parser.add_argument("--webhook-url", help="the application's webhook URL")
    parser.add_argument("--webhook-failover-url", help="the application's failover webhook URL")
    parser.add_argument("--rate-limit", type=float, metavar="RPS", help="steady requests/second on /v2")
    parser.add_argument(
        "--busy-lines", action=argparse.BooleanOptionalAction, default=True,
        help="a number takes one call at a time: a fax to a number one of ours is on fails user_busy (default on)",
    )  # fmt: skip
    parser.add_argument(
        "--max-in-flight", type=_max_in_flight_arg, default=DEFAULT_MAX_IN_FLIGHT, metavar="N",
        help=f"outbound faxes allowed in processing at once, one more gets 429 (default {DEFAULT_MAX_IN_FLIGHT}; "
        "0 = no limit)",
    )  # fmt: skip
    parser.add_argument(
        "--channel-limit", type=_limit_arg("calls"), default=DEFAULT_CHANNEL_LIMIT, metavar="N",
        help="the account's concurrent outbound calls; a fax whose call would be one more fails "
        f"user_channel_limit_exceeded (default {DEFAULT_CHANNEL_LIMIT}, as after Level 2 verification; 0 = no limit)",
    )  # fmt: skip
    parser.add_argument(
        "--application-channel-limit", type=_limit_arg("calls"), metavar="N",
        help="the Fax Application's outbound.channel_limit; one more call fails connection_channel_limit_exceeded "
        "(default: not set)",
    )  # fmt: skip
    parser.add_argument(
        "--profile-channel-limit", type=_limit_arg("calls"), metavar="N",
        help="the outbound voice profile's channel limit; one more call fails "
        "outbound_profile_channel_limit_exceeded (default: not set)",
    )  # fmt: skip
    parser.add_argument(
        "--daily-page-budget", type=_limit_arg("pages"), metavar="N",
        help="the outbound voice profile's daily spend limit, as pages dialled per UTC day; a fax that would go "
        "over fails outbound_profile_daily_spend_limit_exceeded (default: not set)",
    )  # fmt: skip
    parser.add_argument("--event-log", metavar="PATH", help="append events and deliveries as JSON lines")
    parser.add_argument(
        "--webhook-private-key", type=Path, metavar="PATH",
        help="Ed25519 private key (PEM or base64 raw) to sign webhooks; generated when omitted",
    )  # fmt: skip
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    return parser


def settings_from_args(args: argparse.Namespace) -> EmulatorSettings:
    outcomes: dict[str, OutcomeSpec] = {}
    if args.outcomes_file is not None:
        loaded = json.loads(args.outcomes_file.read_text())
        if not isinstance(loaded, dict):
            raise ValueError("--outcomes-file must hold a JSON object of number -> outcome")
        outcomes.update({str(number): validate_outcome(spec) for number, spec in loaded.items()})
    outcomes.update(dict(args.outcome))
    if args.rate_limit is not None and args.rate_limit <= 0:
        raise ValueError("--rate-limit must be positive")
    return EmulatorSettings(
        api_keys=tuple(args.api_keys or [DEFAULT_API_KEY]),
        connection_id=args.connection_id,
        from_number=args.from_number,
        speed=args.speed if isinstance(args.speed, float) else parse_speed(args.speed),
        outcomes=outcomes,
        webhook_url=args.webhook_url,
        webhook_failover_url=args.webhook_failover_url,
        rate_limit=args.rate_limit,
        event_log_path=args.event_log,
        private_key=args.webhook_private_key.read_text() if args.webhook_private_key else None,
        busy_lines=args.busy_lines,
        max_in_flight=args.max_in_flight,
        channel_limit=args.channel_limit,
        application_channel_limit=args.application_channel_limit,
        profile_channel_limit=args.profile_channel_limit,
        daily_page_budget=args.daily_page_budget,
    )


def airflow_conn_json(base_url: str, api_key: str, connection_id: str, from_number: str) -> str:
    """The value for ``AIRFLOW_CONN_TELNYX_FAX_DEFAULT`` pointing at an emulator."""
    return json.dumps(
        {
            "conn_type": "telnyx_fax",
            "host": base_url,
            "password": api_key,
            "extra": {"connection_id": connection_id, "from_number": from_number},
        }
    )


def banner(backend: Backend) -> str:
    info = backend.info()
    conn = airflow_conn_json(info["base_url"], info["api_key"], info["connection_id"], info["from_number"])
    lines = [
        READY_MARKER,
        f"  Base URL:        {info['base_url']}",
        f"  API key:         {info['api_key']}",
        f"  Connection id:   {info['connection_id']}",
        f"  From number:     {info['from_number']}",
        f"  Speed:           {info['speed']:g}x real time",
        f"  Limits:          busy lines {'on' if info['busy_lines'] else 'off'}, "
        f"{info['max_in_flight'] or 'no limit on'} faxes in processing at once, "
        f"{info['channel_limit'] or 'no limit on'} concurrent calls",
        f"  Webhook key:     {info['public_key']}   (base64 Ed25519 public key)",
        f"  Control API:     {info['root_url']}/_emulator/info",
        f"  Fax inbox:       {info['root_url']}/   (open in a browser)",
    ]
    if info["event_log"]:
        lines.append(f"  Event log:       {info['event_log']}")
    lines += ["", f"export AIRFLOW_CONN_TELNYX_FAX_DEFAULT='{conn}'", "", "Press Ctrl-C to stop."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from telnyx_fax_emulator.server import serve

    def on_ready(backend: Backend) -> None:
        print(banner(backend), flush=True)

    try:
        serve(settings, host=args.host, port=args.port, on_ready=on_ready, log_level=args.log_level)
    except OSError as exc:
        print(f"telnyx-fax-emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print("Telnyx Fax API emulator stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
