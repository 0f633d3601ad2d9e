"""The ``relaykit`` command line: ``emulator``, ``call``, ``message`` and ``demo``.

``relaykit emulator`` runs the local RELAY emulator until interrupted, with its
HTTP control endpoint on the WebSocket port + 1 (or ``--control-port``).
``relaykit call`` places a scripted inbound call through that endpoint and
prints what happened.  ``relaykit message`` injects an inbound SMS.
``relaykit demo`` is ``make demo``: the seed IVR against an embedded emulator.

Mistakes get one line on stderr saying what is wrong and what to change, and exit
status 2 (1 when a call did not end in time): a port in use, a certificate that
cannot be read, a URL that is not the control endpoint, a context no client
receives, a missing extra.  ``relaykit call`` and ``relaykit message`` need only
the standard library; ``relaykit emulator`` and ``relaykit demo`` need anyio.
"""

from __future__ import annotations

import argparse
import difflib
import errno
import http.client
import importlib.util
import ipaddress
import json
import logging
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from . import _trace

__all__ = ["main"]

#: The extra each command needs beyond the base install (module, extra).
_NEEDS = {"emulator": ("anyio", "anyio"), "demo": ("anyio", "anyio")}


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show every default: argparse's own "(default: X)", except where the help says
    it in words (``None`` defaults) or there is nothing to show (flags)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        if "default" in help_text or action.default in (None, False, [], argparse.SUPPRESS):
            return help_text
        return super()._get_help_string(action)


class _StepAction(argparse.Action):
    """``--press`` / ``--say`` / ``--silence``: one script step each, in command-line order."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        steps = list(getattr(namespace, self.dest, None) or [])
        steps.append({"silence": True} if self.const == "silence" else {self.const: values})
        setattr(namespace, self.dest, steps)


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (0 to 65535)")
    return value


def _control_port(text: str) -> int:
    value = int(text)
    if not -1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (0 to 65535, or -1)")
    return value


def _extras_note() -> str:
    missing = [
        f"`relaykit {command}` needs {module}, which is not installed: "
        f"pip install 'relaykit[{extra}]'"
        for command, (module, extra) in _NEEDS.items()
        if importlib.util.find_spec(module) is None
    ]
    return "\n".join(missing) or "all commands are available (anyio is installed)"


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="relaykit",
        description="relaykit tools: a local RELAY emulator and scripted callers for it",
        epilog=_extras_note(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"relaykit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    emu = sub.add_parser(
        "emulator",
        help="run a local RELAY emulator (needs anyio: pip install 'relaykit[anyio]')",
        formatter_class=_Formatter,
    )
    emu.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; anything but loopback lets other machines in",
    )
    emu.add_argument("--port", type=_port, default=8765, help="WebSocket port (0: any free port)")
    emu.add_argument(
        "--control-port",
        type=_control_port,
        default=None,
        help="HTTP control port (default: --port + 1, or any free port with --port 0; "
        "-1 disables it)",
    )
    emu.add_argument(
        "--project", default=None, help="accepted project id (default: any non-empty one)"
    )
    emu.add_argument(
        "--token", default=None, help="accepted API token (default: any non-empty one)"
    )
    emu.add_argument(
        "--jwt", action="append", default=[], help="accepted JWT (repeatable; default: none)"
    )
    emu.add_argument(
        "--tls-cert",
        default=None,
        help="PEM certificate chain: serve wss:// (with --tls-key; default: plain ws://)",
    )
    emu.add_argument(
        "--tls-key", default=None, help="PEM private key of --tls-cert (default: none)"
    )
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

    call = sub.add_parser(
        "call",
        help="place a scripted inbound call on a running emulator",
        formatter_class=_Formatter,
        description="Place an inbound call through the emulator's control endpoint; the "
        "caller follows the --press/--say/--silence steps in the order given, one step "
        "per collect (a recording takes a --say as the caller's message).",
    )
    _add_endpoint_arguments(call)
    call.add_argument(
        "--press",
        dest="steps",
        action=_StepAction,
        const="press",
        default=[],
        metavar="DIGITS",
        help="press DIGITS at the next collect (repeatable)",
    )
    call.add_argument(
        "--say",
        dest="steps",
        action=_StepAction,
        const="say",
        default=[],
        metavar="TEXT",
        help="say TEXT to whichever comes next: a collect (a speech collect hears TEXT, a "
        "digits-only one hears no match) or a recording (TEXT is the caller's message, "
        "and the step is used up); repeatable",
    )
    call.add_argument(
        "--silence",
        dest="steps",
        action=_StepAction,
        const="silence",
        nargs=0,
        default=[],
        help="stay silent at the next collect: it ends with no_input (repeatable)",
    )
    call.add_argument(
        "--hangup-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="hang up SECONDS (simulated) after the answer (default: never; the program hangs up)",
    )
    kind = call.add_mutually_exclusive_group()
    kind.add_argument("--voicemail", action="store_true", help="be an answering machine")
    kind.add_argument("--fax", action="store_true", help="be a fax machine")
    kind.add_argument("--human", action="store_true", help="be a human (the default)")
    call.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the call to end"
    )
    call.add_argument("--json", action="store_true", help="print the record as JSON")

    msg = sub.add_parser(
        "message", help="inject an inbound SMS into a running emulator", formatter_class=_Formatter
    )
    _add_endpoint_arguments(msg)
    msg.add_argument("--body", required=True, help="the message text")

    demo = sub.add_parser(
        "demo",
        help="the seed IVR against an embedded emulator, three scripted calls, traced "
        "(make demo; needs anyio)",
        formatter_class=_Formatter,
    )
    add_demo_arguments(demo)
    _trace.add_parser(sub)  # relaykit trace JOURNAL.jsonl -o call.html (standard library only)
    return parser


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options (``relaykit demo`` and ``python -m relaykit.demo``)."""
    parser.add_argument(
        "--time-scale", type=float, default=0.02, help="simulated time factor (1: real time)"
    )
    parser.add_argument("--wire", action="store_true", help="also print each call's frames")
    parser.add_argument(
        "--backend", default="asyncio", choices=("asyncio", "trio"), help="the event loop"
    )
    parser.add_argument(
        "--journal",
        metavar="FILE",
        default=None,
        help="save the session's frames as JSONL for relaykit trace FILE (default: not saved)",
    )


def _add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default="http://127.0.0.1:8766",
        help="the emulator's control endpoint (relaykit emulator prints it)",
    )
    parser.add_argument(
        "--context", required=True, help="context to deliver on (a client must receive it)"
    )
    parser.add_argument(
        "--from", dest="from_number", default="+15550000001", help="the caller's number"
    )
    parser.add_argument("--to", dest="to_number", default="+15550000002", help="the number called")
    parser.add_argument(
        "--wait-subscriber",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="seconds to wait for a client that receives --context",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``relaykit`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    needs = _NEEDS.get(args.command)
    if needs is not None and importlib.util.find_spec(needs[0]) is None:
        _fail(
            args.command,
            f"needs {needs[0]}, which is not installed: pip install 'relaykit[{needs[1]}]'",
        )
        return 2
    try:
        if args.command == "emulator":
            if (args.tls_cert is None) != (args.tls_key is None):
                _subparser(parser, "emulator").error(
                    "--tls-cert and --tls-key go together: give both, or neither"
                )
            return _run_emulator(args)
        if args.command == "call":
            return _place_call(args)
        if args.command == "message":
            return _send_message(args)
        if args.command == "trace":
            return _trace.run(args)
        from .demo import run

        return run(args)
    except BrokenPipeError:
        # Output piped into `head` & co.: stop quietly, as Unix tools do.  Point
        # stdout at devnull so the interpreter's final flush can't fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[name]
            return found
    raise LookupError(name)  # pragma: no cover - every command has a subparser


def _fail(command: str, message: str) -> None:
    print(f"relaykit {command}: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# relaykit emulator
# --------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def _banner(
    host: str, port: int, control_port: int | None, tls: bool
) -> tuple[list[str], list[str]]:
    """(stdout lines, stderr warnings) announcing a listening emulator.

    The URLs shown are ones a client can connect to: for a wildcard address
    (``0.0.0.0``, ``::``) the loopback address, with a note that every interface
    listens.
    """
    warnings: list[str] = []
    shown = host
    if host in ("0.0.0.0", "", "::"):
        shown = "[::1]" if host == "::" else "127.0.0.1"
        warnings.append(
            f"relaykit emulator: listening on all interfaces ({host or '0.0.0.0'}), not "
            "only on loopback: other machines can connect"
        )
    elif not _is_loopback(host):
        warnings.append(
            f"relaykit emulator: listening on {host}, beyond loopback: other machines can connect"
        )
    else:
        shown = f"[{host}]" if ":" in host else host
    if warnings:
        warnings[0] += " (use --project/--token to choose the credentials it accepts)"
    url = f"{'wss' if tls else 'ws'}://{shown}:{port}"
    lines = [f"relaykit emulator: RELAY on {url}  (client host: {shown}:{port})"]
    if control_port is not None:
        control = f"http://{shown}:{control_port}"
        lines.append(
            f"relaykit emulator: control on {control}  "
            f"(relaykit call --url {control} --context <ctx> --press 1)"
        )
    return lines, warnings


def _check_tls(cert: str, key: str) -> str | None:
    """Why the certificate and key cannot serve ``wss://``, or ``None``."""
    for flag, path in (("--tls-cert", cert), ("--tls-key", key)):
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            return f"cannot read {flag} {path}: {exc.strerror or exc}"
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as exc:
        return f"cannot use --tls-cert {cert} with --tls-key {key}: {exc}"
    return None


def _listen_error(args: argparse.Namespace, exc: OSError, ws_bound: bool, control: int) -> str:
    """One line for a socket that could not listen: which port, and which flag moves it."""
    if ws_bound:
        port, flag = control, "--control-port"
        hint = "choose another with --control-port (0: any free port; -1: no control endpoint)"
    else:
        port, flag = args.port, "--port"
        hint = "choose another with --port (0: any free port)"
        if args.control_port is None:
            hint += "; the control endpoint follows on --port + 1"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} ({flag}) is already in use on {args.host}: {hint}"
    reason = exc.strerror or str(exc)
    return f"cannot listen on {args.host} port {port} ({flag}): {reason}"


def _run_emulator(args: argparse.Namespace) -> int:
    import anyio

    from .emulator import Emulator

    if args.tls_cert is not None:
        problem = _check_tls(args.tls_cert, args.tls_key)
        if problem:
            _fail("emulator", problem)
            return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    control = args.control_port
    if control is None:
        control = args.port + 1 if args.port else 0
    if control > 65535:
        _fail(
            "emulator",
            f"--port {args.port} leaves no room for the control port: give --control-port",
        )
        return 2
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

    async def serve() -> int:
        try:
            await emulator.__aenter__()
        except OSError as exc:
            # emulator.port is set once the WebSocket socket listens: then it was the
            # control port that failed.
            _fail("emulator", _listen_error(args, exc, emulator.port != 0, control))
            return 2
        try:
            lines, warnings = _banner(
                args.host, emulator.port, emulator.control_port, args.tls_cert is not None
            )
            for warning in warnings:
                print(warning, file=sys.stderr, flush=True)
            for line in lines:
                print(line, flush=True)
            await anyio.sleep_forever()
        finally:
            await emulator.__aexit__(None, None, None)
        return 0  # pragma: no cover - sleep_forever ends only by an exception

    try:
        status: int = anyio.run(serve)
    except KeyboardInterrupt:
        print("relaykit emulator: stopped", flush=True)
        return 0
    return status


# --------------------------------------------------------------------------
# relaykit call / relaykit message: the control endpoint over HTTP
# --------------------------------------------------------------------------


class _WrongEndpoint(Exception):
    """What answered is not the emulator's control endpoint (the message says what it was)."""


def _describe(raw: bytes, content_type: str | None) -> str:
    if not raw:
        return "an empty body"
    text = raw[:60].decode("utf-8", "replace").strip().replace("\n", " ")
    kind = f"{content_type} " if content_type else ""
    return f"a {kind}body starting {text!r}"


def _control_hint(url: str) -> str:
    """The usual mistake: the WebSocket port instead of the control port (port + 1)."""
    parts = urllib.parse.urlsplit(url)
    expected = "the JSON of the relaykit emulator's control endpoint"
    if parts.port:
        fixed = parts._replace(netloc=f"{parts.hostname}:{parts.port + 1}", path="", query="")
        return (
            f"expected {expected}; if this is the emulator's WebSocket port, the control "
            f"endpoint is usually the next one: --url {urllib.parse.urlunsplit(fixed)}"
        )
    return f"expected {expected} (relaykit emulator prints its URL)"


def _http(url: str, method: str, body: dict[str, Any] | None, timeout: float) -> tuple[int, Any]:
    """One JSON request; returns (HTTP status, decoded JSON answer).

    Raises:
        _WrongEndpoint: the answer is not HTTP, or not JSON.
        OSError: no connection, or no answer within *timeout* seconds.
    """
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, ctype, raw = resp.status, resp.headers.get("Content-Type"), resp.read()
        except urllib.error.HTTPError as exc:
            status, ctype, raw = exc.code, exc.headers.get("Content-Type"), exc.read()
    except http.client.HTTPException as exc:
        raise _WrongEndpoint(
            f"{url} answered something that is not HTTP ({type(exc).__name__}): "
            f"{_control_hint(url)}"
        ) from exc
    try:
        return status, json.loads(raw)
    except ValueError:
        raise _WrongEndpoint(
            f"{url} answered HTTP {status} with {_describe(raw, ctype)}: {_control_hint(url)}"
        ) from None


def _unreachable(base: str, exc: OSError, timeout: float) -> str:
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return (
            f"no answer from {base} within {timeout:g} s (is it the emulator's control endpoint?)"
        )
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return (
        f"cannot reach the emulator at {base}: {reason} (start one with "
        "`relaykit emulator`, or give its control URL with --url)"
    )


def _error_text(body: Any, context: str) -> str:
    """The endpoint's error, with the subscribed contexts when nobody received *context*."""
    if not isinstance(body, dict):
        return f"unexpected answer {body!r}"
    if "subscribed" not in body:
        return str(body.get("error", body))
    subscribed = [str(c) for c in body.get("subscribed") or []]
    text = str(body.get("error", f"no client subscribed to context {context!r}"))
    if not subscribed:
        return f"{text}; no client is subscribed to any context (is your program running?)"
    text += f"; the contexts clients are subscribed to: {', '.join(subscribed)}"
    close = difflib.get_close_matches(context, subscribed, n=1)
    if close:
        text += f" (did you mean --context {close[0]}?)"
    return text


def _post(
    command: str, base: str, route: str, body: dict[str, Any], key: str, timeout: float
) -> tuple[int, Any]:
    """POST *body*; (0, the created id) or (exit status, None) after printing the error."""
    try:
        status, answer = _http(f"{base}{route}", "POST", body, timeout)
    except _WrongEndpoint as exc:
        _fail(command, str(exc))
        return 2, None
    except OSError as exc:
        _fail(command, _unreachable(base, exc, timeout))
        return 2, None
    if status != 201:
        _fail(command, _error_text(answer, str(body.get("context"))))
        return 2, None
    if not isinstance(answer, dict) or not isinstance(answer.get(key), str):
        _fail(command, f"{base}{route} answered {answer!r}, without a {key}: {_control_hint(base)}")
        return 2, None
    return 0, answer[key]


def _script_text(steps: list[dict[str, Any]]) -> str:
    words = []
    for step in steps:
        ((action, value),) = step.items()
        words.append("silence" if action == "silence" else f"{action} {value!r}")
    return ", then ".join(words) or "no input"


def _place_call(args: argparse.Namespace) -> int:
    kind = "voicemail" if args.voicemail else "fax" if args.fax else "human"
    script = {"steps": list(args.steps), "kind": kind, "hangup_after": args.hangup_after}
    base = args.url.rstrip("/")
    status, call_id = _post(
        "call",
        base,
        "/calls",
        {
            "context": args.context,
            "from_number": args.from_number,
            "to_number": args.to_number,
            "script": script,
            "wait_subscriber": args.wait_subscriber,
        },
        "call_id",
        args.wait_subscriber + 30.0,
    )
    if status:
        return status
    url = f"{base}/calls/{call_id}?wait={args.timeout}"
    try:
        status, record = _http(url, "GET", None, args.timeout + 5)
    except _WrongEndpoint as exc:
        _fail("call", str(exc))
        return 2
    except OSError as exc:
        _fail("call", _unreachable(base, exc, args.timeout + 5))
        return 2
    timed_out = status == 504
    if timed_out and isinstance(record, dict) and isinstance(record.get("record"), dict):
        error = str(record.get("error", "timed out"))
        record = record["record"]
        _fail(
            "call",
            f"timed out: call {call_id} had not ended after {args.timeout:g} s (--timeout); "
            f"it is still {record.get('state')}.  Give the caller --hangup-after, or wait "
            f"longer.  ({error})",
        )
    elif status != 200 or not isinstance(record, dict) or "state" not in record:
        _fail("call", f"{url} answered HTTP {status}: {_error_text(record, args.context)}")
        return 2
    record["script"] = script
    if args.json:
        record["timed_out"] = timed_out
        print(json.dumps(record, indent=2))
    else:
        _print_record(record, args.timeout if timed_out else None)
    return 1 if timed_out else 0


def _print_record(record: dict[str, Any], timed_out_after: float | None = None) -> None:
    head = f"call {record['call_id']} on context {record['context']}: "
    if timed_out_after is not None or record.get("end_reason") is None:
        wait = f" after {timed_out_after:g} s" if timed_out_after is not None else ""
        print(f"{head}still {record['state']}{wait} (timed out: the call had not ended)")
    else:
        print(
            f"{head}{record['state']}"
            f" (end_reason={record['end_reason']}, hung up by {record['hung_up_by']})"
        )
    script = record.get("script") or {}
    print(f"  script: {_script_text(script.get('steps', []))} ({script.get('kind', 'human')})")
    for label, key in (
        ("prompts", "prompts"),
        ("inputs", "inputs"),
        ("digits sent", "digits_sent"),
        ("recordings", "recordings"),
        ("detections", "detections"),
    ):
        if record.get(key):
            print(f"  {label}: {record[key]}")
    heard = {i.get("text") for i in record.get("inputs", []) if i.get("type") == "speech"}
    for step in script.get("steps", []):
        if "say" in step:
            where = (
                "heard by a speech collect"
                if step["say"] in heard
                else "not heard by a speech collect: a recording takes it as the caller's "
                "message, a digits-only collect hears no match, or no step used it"
            )
            print(f"  said: {step['say']!r} ({where})")
    if record.get("connected_to"):
        print(f"  connected to: {record['connected_to']}")
    if record.get("transferred_to"):
        print(f"  transferred to: {record['transferred_to']}")
    for line in record.get("transcript", []):
        print(f"    {line}")


def _send_message(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/")
    status, message_id = _post(
        "message",
        base,
        "/messages",
        {
            "context": args.context,
            "from_number": args.from_number,
            "to_number": args.to_number,
            "body": args.body,
            "wait_subscriber": args.wait_subscriber,
        },
        "message_id",
        args.wait_subscriber + 30.0,
    )
    if status:
        return status
    print(f"message {message_id} delivered to context {args.context}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
