"""Send one SMS and wait for its delivery report: a synchronous script for cron jobs.

No event loop at all: one blocking socket whose read timeout is the time until
the core's next deadline.  It drives the sans-IO core
(:class:`relay_proto.RelayConnection`) by hand; see docs/embedding.md.

Usage::

    export SIGNALWIRE_PROJECT_ID=... SIGNALWIRE_API_TOKEN=...
    python examples/embedding/send_sms.py --to +15551112222 --from +15553334444 "Backup done"
    # --url / SIGNALWIRE_RELAY_URL (ws://127.0.0.1:8765 for the emulator),
    # SIGNALWIRE_RELAY_CA_FILE for a private CA, --timeout seconds (default 60).

Exit status: 0 delivered, 1 undelivered/failed/rejected, 2 no answer in time or
no connection, 3 authentication failed.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import ssl
import sys
import time
import uuid
from urllib.parse import urlsplit

from relay_proto import (
    AuthenticationFatal,
    ConnectionClosed,
    ConnectionDead,
    Event,
    MessageCompleted,
    MessageStateChanged,
    ReconnectScheduled,
    RelayConnection,
    RequestCancelled,
    RequestFailed,
    RequestTimedOut,
    ResponseReceived,
    SessionAuthenticated,
)

FINAL_STATES = {"delivered": 0, "undelivered": 1, "failed": 1}


class SmsJob:
    """Connect, send, wait for the core's ``MessageCompleted``, close."""

    def __init__(self, args: argparse.Namespace) -> None:
        url = urlsplit(args.url)
        if url.scheme not in ("ws", "wss") or not url.hostname:
            raise SystemExit(f"not a ws:// or wss:// URL: {args.url!r}")
        self.tls = url.scheme == "wss"
        self.hostname = url.hostname
        self.port = url.port or (443 if self.tls else 80)
        self.ca_file = os.environ.get("SIGNALWIRE_RELAY_CA_FILE") or None
        self.args = args
        self.conn = RelayConnection(
            url.netloc,
            (url.path or "/") + (f"?{url.query}" if url.query else ""),
            make_id=lambda: str(uuid.uuid4()),
            jitter=random.random,
        )
        # No contexts: messaging.state goes to the session's own protocol.
        self.conn.open_session(project=args.project, token=args.token)
        self.deadline = time.monotonic() + args.timeout
        self.sock: socket.socket | None = None
        self.reconnect_at: float | None = time.monotonic()
        self.send_id: str | None = None  # request id of messaging.send
        self.message_id: str | None = None
        self.exit_code: int | None = None  # set: we are done (after closing)
        self.closed = False

    def run(self) -> int:
        while not self.closed:
            now = time.monotonic()
            if now >= self.deadline and self.exit_code is None:
                print(f"no final delivery state within {self.args.timeout} s")
                self.finish(2)
                self.pump()
                continue
            if self.sock is None and self.reconnect_at is not None and now >= self.reconnect_at:
                self.connect()
                continue
            self.wait_for_input()
            self.pump()
        return 2 if self.exit_code is None else self.exit_code

    def connect(self) -> None:
        self.reconnect_at = None
        try:
            sock = socket.create_connection((self.hostname, self.port), timeout=10)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls:
                context = ssl.create_default_context(cafile=self.ca_file)
                sock = context.wrap_socket(sock, server_hostname=self.hostname)
        except OSError as exc:
            print(f"connect failed: {exc}")
            self.conn.connection_lost(time.monotonic(), f"connect failed: {exc}")
        else:
            self.sock = sock
            self.conn.connection_made(time.monotonic())
        self.pump()

    def wait_for_input(self) -> None:
        """Block until data arrives or the next deadline (core timer, reconnect, ours)."""
        now = time.monotonic()
        deadlines = [self.conn.get_timer(), self.reconnect_at]
        if self.exit_code is None:
            deadlines.append(self.deadline)  # once closing, the core's close timer rules
        pending = [t for t in deadlines if t is not None]
        timeout = max(0.0, min(pending) - now) if pending else 10.0
        if self.sock is None:
            time.sleep(timeout)
        else:
            self.sock.settimeout(timeout)
            try:
                data = self.sock.recv(65536)
            except (TimeoutError, BlockingIOError, ssl.SSLWantReadError):
                data = None  # a deadline passed: handle_timer below
            except OSError as exc:
                self.drop_socket(f"read failed: {exc}")
                return
            if data is not None:
                self.conn.receive_data(data, time.monotonic())  # b"" = EOF
                if not data:
                    self.drop_socket("server closed the connection")
        timer = self.conn.get_timer()
        if timer is not None and time.monotonic() >= timer:
            self.conn.handle_timer(time.monotonic())

    def pump(self) -> None:
        """After every input: handle the events, then write everything the core queued."""
        while (event := self.conn.next_event()) is not None:
            self.on_event(event)
        data = self.conn.data_to_send()
        if data and self.sock is not None:
            try:
                self.sock.settimeout(10)
                self.sock.sendall(data)
            except OSError as exc:
                self.drop_socket(f"write failed: {exc}")
                self.pump()

    def drop_socket(self, reason: str) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.conn.connection_lost(time.monotonic(), reason)

    def on_event(self, event: Event) -> None:
        now = time.monotonic()
        if isinstance(event, SessionAuthenticated) and self.send_id is None:
            params = {
                "context": event.protocol,  # where the messaging.state events come back
                "to_number": self.args.to_number,
                "from_number": self.args.from_number,
                "body": self.args.body,
            }
            self.send_id = self.conn.send_request("messaging.send", params, now)
        elif isinstance(event, ResponseReceived) and event.request_id == self.send_id:
            # The core tracks the message from here; states that raced this
            # result come right after it.
            self.message_id = str(event.result.get("message_id", ""))
            print(f"accepted: message {self.message_id}")
        elif isinstance(event, RequestFailed) and event.request_id == self.send_id:
            print(f"rejected: {event.code} {event.message}")
            self.finish(1)
        elif (
            isinstance(event, (RequestTimedOut, RequestCancelled))
            and event.request_id == self.send_id
            and self.exit_code is None
        ):
            # Lost with the socket before an answer: it may or may not have been
            # sent, so don't resend blindly (a cron job would double-text).
            print(f"no answer to messaging.send ({type(event).__name__})")
            self.finish(2)
        elif isinstance(event, MessageStateChanged) and event.message_id == self.message_id:
            why = f" ({event.reason})" if event.reason else ""
            print(f"message {event.message_id}: {event.message_state}{why}")
        elif (
            isinstance(event, MessageCompleted)
            and event.message_id == self.message_id
            and self.exit_code is None
        ):
            self.finish(FINAL_STATES[event.reason])
        elif isinstance(event, ConnectionDead):
            self.drop_socket(event.reason)
        elif isinstance(event, ReconnectScheduled):
            self.reconnect_at = event.at
        elif isinstance(event, AuthenticationFatal):
            print(f"authentication failed: {event.message}")
            self.exit_code = 3
            self.closed = True
        elif isinstance(event, ConnectionClosed) and not event.will_reconnect:
            if self.sock is not None:
                self.sock.close()
                self.sock = None
            self.closed = True

    def finish(self, code: int) -> None:
        """Remember the outcome and close politely; ConnectionClosed ends run()."""
        self.exit_code = code
        self.reconnect_at = None
        self.conn.close(time.monotonic())


def parse_args(argv: list[str]) -> argparse.Namespace:
    space = os.environ.get("SIGNALWIRE_SPACE", "relay.signalwire.com")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("body", help="message text")
    parser.add_argument("--to", dest="to_number", required=True, help="E.164 destination")
    parser.add_argument("--from", dest="from_number", required=True, help="E.164 sender")
    parser.add_argument("--url", default=os.environ.get("SIGNALWIRE_RELAY_URL", f"wss://{space}"))
    parser.add_argument("--project", default=os.environ.get("SIGNALWIRE_PROJECT_ID"))
    parser.add_argument("--token", default=os.environ.get("SIGNALWIRE_API_TOKEN"))
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (60)")
    args = parser.parse_args(argv)
    for flag, env in (("project", "SIGNALWIRE_PROJECT_ID"), ("token", "SIGNALWIRE_API_TOKEN")):
        if not getattr(args, flag):
            parser.error(f"--{flag} or {env} is required")
    return args


if __name__ == "__main__":
    sys.exit(SmsJob(parse_args(sys.argv[1:])).run())
