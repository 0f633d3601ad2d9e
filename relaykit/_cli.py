"""The ``relaykit`` command line: ``relaykit emulator`` and ``relaykit call``.

``relaykit emulator`` runs the local RELAY emulator until interrupted, with its
HTTP control endpoint on the WebSocket port + 1 (or ``--control-port``).
``relaykit call`` places a scripted inbound call through that endpoint and
prints what happened.  ``relaykit message`` injects an inbound SMS.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relaykit", description="relaykit tools")
    sub = parser.add_subparsers(dest="command", required=True)

    emu = sub.add_parser("emulator", help="run a local RELAY emulator")
    emu.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    emu.add_argument("--port", type=int, default=8765, help="WebSocket port (default 8765)")
    emu.add_argument(
        "--control-port",
        type=int,
        default=None,
        help="HTTP control port (default: port + 1; -1 disables it)",
    )
    emu.add_argument("--project", default=None, help="accepted project id (default: any)")
    emu.add_argument("--token", default=None, help="accepted API token (default: any)")
    emu.add_argument("--jwt", action="append", default=[], help="accepted JWT (repeatable)")
    emu.add_argument("--tls-cert", default=None, help="PEM certificate chain: serve wss://")
    emu.add_argument("--tls-key", default=None, help="PEM private key for --tls-cert")
    emu.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply simulated durations (e.g. 0.1 = ten times faster)",
    )
    emu.add_argument(
        "--ping-interval",
        type=float,
        default=10.0,
        help="seconds between server pings (0: one ping right after connect, then none)",
    )
    emu.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    call = sub.add_parser("call", help="place a scripted inbound call on a running emulator")
    call.add_argument("--url", default="http://127.0.0.1:8766", help="control endpoint URL")
    call.add_argument("--context", required=True, help="context to offer the call on")
    call.add_argument("--from", dest="from_number", default="+15550000001")
    call.add_argument("--to", dest="to_number", default="+15550000002")
    call.add_argument(
        "--press",
        action="append",
        default=[],
        metavar="DIGITS",
        help="press DIGITS at the next collect (repeatable, in order)",
    )
    call.add_argument(
        "--say",
        action="append",
        default=[],
        metavar="TEXT",
        help="say TEXT at the next collect (repeatable, after --press steps)",
    )
    call.add_argument("--silence", action="store_true", help="then stay silent at one collect")
    call.add_argument("--hangup-after", type=float, default=None, metavar="SECONDS")
    kind = call.add_mutually_exclusive_group()
    kind.add_argument("--voicemail", action="store_true", help="be an answering machine")
    kind.add_argument("--fax", action="store_true", help="be a fax machine")
    kind.add_argument("--human", action="store_true", help="be a human (default)")
    call.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the end")
    call.add_argument(
        "--wait-subscriber",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="seconds to wait for a client on the context",
    )
    call.add_argument("--json", action="store_true", help="print the record as JSON")

    msg = sub.add_parser("message", help="inject an inbound SMS into a running emulator")
    msg.add_argument("--url", default="http://127.0.0.1:8766", help="control endpoint URL")
    msg.add_argument("--context", required=True)
    msg.add_argument("--from", dest="from_number", default="+15550000001")
    msg.add_argument("--to", dest="to_number", default="+15550000002")
    msg.add_argument("--body", required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``relaykit`` console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "emulator":
            return _run_emulator(args)
        if args.command == "call":
            return _place_call(args)
        return _send_message(args)
    except BrokenPipeError:
        # Output piped into `head` & co.: stop quietly, as Unix tools do.  Point
        # stdout at devnull so the interpreter's final flush can't fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _run_emulator(args: argparse.Namespace) -> int:
    import anyio

    from .emulator import Emulator

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    control = args.control_port
    if control is None:
        control = args.port + 1 if args.port else 0
    emulator = Emulator(
        project=args.project,
        token=args.token,
        jwt_tokens=tuple(args.jwt),
        time_scale=args.time_scale,
        host=args.host,
        port=args.port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        control_port=None if control < 0 else control,
        ping_interval=args.ping_interval or None,
    )

    async def serve() -> None:
        async with emulator as emu:
            print(f"relaykit emulator: RELAY on {emu.url}  (client host: {emu.host})", flush=True)
            if emu.control_url:
                print(
                    f"relaykit emulator: control on {emu.control_url}  "
                    f"(relaykit call --url {emu.control_url} --context <ctx> --press 1)",
                    flush=True,
                )
            await anyio.sleep_forever()

    try:
        anyio.run(serve)
    except KeyboardInterrupt:
        print("relaykit emulator: stopped", flush=True)
    return 0


def _http(url: str, method: str, body: dict[str, Any] | None, timeout: float) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _place_call(args: argparse.Namespace) -> int:
    steps: list[dict[str, Any]] = [{"press": d} for d in args.press]
    steps += [{"say": t} for t in args.say]
    if args.silence:
        steps.append({"silence": True})
    kind = "voicemail" if args.voicemail else "fax" if args.fax else "human"
    script = {"steps": steps, "kind": kind, "hangup_after": args.hangup_after}
    base = args.url.rstrip("/")
    try:
        status, created = _http(
            f"{base}/calls",
            "POST",
            {
                "context": args.context,
                "from_number": args.from_number,
                "to_number": args.to_number,
                "script": script,
                "wait_subscriber": args.wait_subscriber,
            },
            args.wait_subscriber + 30.0,
        )
        if status != 201:
            print(f"relaykit call: {created.get('error', created)}", file=sys.stderr)
            return 2
        call_id = created["call_id"]
        status, record = _http(
            f"{base}/calls/{call_id}?wait={args.timeout}", "GET", None, args.timeout + 5
        )
    except OSError as exc:
        print(f"relaykit call: cannot reach the emulator at {base}: {exc}", file=sys.stderr)
        return 2
    if status == 504:
        print(f"relaykit call: {record['error']}", file=sys.stderr)
        record = record["record"]
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        _print_record(record)
    return 0 if status == 200 else 1


def _print_record(record: dict[str, Any]) -> None:
    print(
        f"call {record['call_id']} on context {record['context']}: {record['state']}"
        f" (end_reason={record['end_reason']}, hung up by {record['hung_up_by']})"
    )
    for label, key in (
        ("prompts", "prompts"),
        ("inputs", "inputs"),
        ("digits sent", "digits_sent"),
        ("recordings", "recordings"),
        ("detections", "detections"),
    ):
        if record[key]:
            print(f"  {label}: {record[key]}")
    if record["connected_to"]:
        print(f"  connected to: {record['connected_to']}")
    if record["transferred_to"]:
        print(f"  transferred to: {record['transferred_to']}")
    for line in record["transcript"]:
        print(f"    {line}")


def _send_message(args: argparse.Namespace) -> int:
    try:
        status, body = _http(
            f"{args.url.rstrip('/')}/messages",
            "POST",
            {
                "context": args.context,
                "from_number": args.from_number,
                "to_number": args.to_number,
                "body": args.body,
            },
            30.0,
        )
    except OSError as exc:
        print(f"relaykit message: cannot reach the emulator: {exc}", file=sys.stderr)
        return 2
    if status != 201:
        print(f"relaykit message: {body.get('error', body)}", file=sys.stderr)
        return 2
    print(f"message {body['message_id']} delivered to context {args.context}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
