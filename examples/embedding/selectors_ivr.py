"""A RELAY IVR on a plain ``selectors`` loop: no asyncio, no trio, no threads.

It drives the sans-IO core (:class:`relay_proto.RelayConnection`) by hand, the
way you would from Qt, gevent, a game loop or any event loop we don't ship:
it answers every inbound call on a context, plays a prompt, and hangs up when
the prompt has finished.  See docs/embedding.md for the contract it follows.

Usage::

    export SIGNALWIRE_PROJECT_ID=... SIGNALWIRE_API_TOKEN=...
    python examples/embedding/selectors_ivr.py --url ws://127.0.0.1:8765 --context ivr
    # or SIGNALWIRE_RELAY_URL=wss://example.signalwire.com (SIGNALWIRE_RELAY_CA_FILE
    # for a private CA); --calls N exits after N calls, Ctrl+C closes cleanly.
"""

from __future__ import annotations

import argparse
import os
import random
import selectors
import signal
import socket
import ssl
import sys
import time
import uuid
from urllib.parse import urlsplit

from relay_proto import (
    ActionCompleted,
    AuthenticationFatal,
    CallReceived,
    CallStateChanged,
    ConnectionClosed,
    ConnectionDead,
    Event,
    ReconnectScheduled,
    RelayConnection,
    RequestCancelled,
    RequestFailed,
    RequestTimedOut,
    SessionAuthenticated,
)


def now() -> float:
    # The core never reads a clock: every input carries "now" from ours.
    return time.monotonic()


class Endpoint:
    """Where to connect, from a ws:// or wss:// URL."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise SystemExit(f"not a ws:// or wss:// URL: {url!r}")
        self.tls = parts.scheme == "wss"
        self.hostname = parts.hostname
        self.port = parts.port or (443 if self.tls else 80)
        self.netloc = parts.netloc  # the Host header: host[:port]
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def open_socket(self, ca_file: str | None) -> socket.socket:
        """A connected, non-blocking socket (TLS-wrapped for wss://)."""
        sock = socket.create_connection((self.hostname, self.port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls:
            context = ssl.create_default_context(cafile=ca_file)
            sock = context.wrap_socket(sock, server_hostname=self.hostname)
        sock.setblocking(False)
        return sock


class SelectorsIvr:
    """One RelayConnection, one socket at a time, one selector."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.endpoint = Endpoint(args.url)
        self.ca_file = os.environ.get("SIGNALWIRE_RELAY_CA_FILE") or None
        self.context = args.context
        self.prompt = args.prompt
        self.calls_wanted = args.calls
        self.calls_done = 0
        self.conn = RelayConnection(
            self.endpoint.netloc,
            self.endpoint.target,
            make_id=lambda: str(uuid.uuid4()),  # ids and jitter are injected too
            jitter=random.random,
        )
        self.conn.open_session(project=args.project, token=args.token, contexts=[args.context])
        self.selector = selectors.DefaultSelector()
        self.sock: socket.socket | None = None
        self.outgoing = b""  # bytes the socket did not take yet
        self.reconnect_at: float | None = now()  # connect right away
        self.finished = False
        self.exit_code = 0
        self.playing: dict[str, str] = {}  # control_id of a prompt -> its call_id
        # Ctrl+C must not raise in the middle of a write or of receive_data: the
        # signal handler only sets a flag, and a self-pipe wakes select() up.
        self.interrupted = False
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        self.selector.register(self.wake_r, selectors.EVENT_READ)

    # -- the loop -----------------------------------------------------------

    def run(self) -> int:
        signal.set_wakeup_fd(self.wake_w.fileno())
        previous = signal.signal(signal.SIGINT, self.on_sigint)
        try:
            while not self.finished:
                self.step()
        finally:
            signal.signal(signal.SIGINT, previous)
            signal.set_wakeup_fd(-1)
            self.selector.close()
            self.wake_r.close()
            self.wake_w.close()
        return self.exit_code

    def on_sigint(self, signum: int, frame: object) -> None:
        self.interrupted = True  # acted on by step(), between two inputs

    def step(self) -> None:
        if self.interrupted:
            self.interrupted = False
            print("interrupted: closing the connection")
            self.conn.close(now())  # polite close; ConnectionClosed ends the loop
            self.after_input()
            if self.finished:
                return
        if self.sock is None and self.reconnect_at is not None and now() >= self.reconnect_at:
            self.connect()
        # Sleep until the socket is ready or the next deadline: the core's timer,
        # or the reconnect time it asked for.
        deadlines = [t for t in (self.conn.get_timer(), self.reconnect_at) if t is not None]
        timeout = max(0.0, min(deadlines) - now()) if deadlines else None
        for key, mask in self.selector.select(timeout):
            if key.fileobj is self.wake_r:
                self.wake_r.recv(512)  # a signal arrived; the flag says which
            elif mask & selectors.EVENT_READ:
                self.on_readable()
            if key.fileobj is not self.wake_r and mask & selectors.EVENT_WRITE and self.sock:
                self.write()
        timer = self.conn.get_timer()
        if timer is not None and now() >= timer:
            self.conn.handle_timer(now())  # timeouts, pings, close deadline...
        self.after_input()

    def connect(self) -> None:
        self.reconnect_at = None
        try:
            self.sock = self.endpoint.open_socket(self.ca_file)
        except OSError as exc:
            print(f"connect failed: {exc}")
            # The core schedules the next attempt (ReconnectScheduled) with backoff.
            self.conn.connection_lost(now(), f"connect failed: {exc}")
            self.after_input()
            return
        self.selector.register(self.sock, selectors.EVENT_READ)
        self.conn.connection_made(now())  # queues the WebSocket handshake...
        self.after_input()  # ...which goes out now, like every output

    def on_readable(self) -> None:
        while self.sock is not None:
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, ssl.SSLWantReadError):
                return  # drained (for TLS this also empties decrypted buffers)
            except OSError as exc:
                self.drop_socket(f"read failed: {exc}")
                return
            self.conn.receive_data(data, now())  # b"" tells the core about EOF
            if not data:
                self.drop_socket("server closed the connection")
                return
            self.after_input()

    def after_input(self) -> None:
        """The contract after every input: drain the events, then write what is queued.

        Draining first lets one write carry both the core's own replies (ACKs,
        pongs) and the requests our event handlers just made.
        """
        while (event := self.conn.next_event()) is not None:
            self.on_event(event)
        self.outgoing += self.conn.data_to_send()
        if self.outgoing and self.sock is not None:
            self.write()

    def write(self) -> None:
        if self.sock is None:
            return
        try:
            sent = self.sock.send(self.outgoing)
        except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
            sent = 0
        except OSError as exc:
            self.drop_socket(f"write failed: {exc}")
            return
        self.outgoing = self.outgoing[sent:]
        # Ask for writability only while something is pending (else select spins).
        mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if self.outgoing else 0)
        self.selector.modify(self.sock, mask)

    def drop_socket(self, reason: str) -> None:
        if self.sock is not None:
            self.selector.unregister(self.sock)
            self.sock.close()
            self.sock = None
        self.outgoing = b""
        self.conn.connection_lost(now(), reason)  # harmless if the core already knew

    # -- what the application does with the core's events ----------------------

    def on_event(self, event: Event) -> None:
        conn = self.conn
        if isinstance(event, SessionAuthenticated):
            print(f"connected (protocol {event.protocol}); waiting for calls on {self.context!r}")
        elif isinstance(event, CallReceived) and event.context == self.context:
            print(f"call {event.call_id} from {event.device.get('params', {})}: answering")
            params = {"node_id": event.node_id, "call_id": event.call_id}
            conn.send_request("calling.answer", params, now())
        elif isinstance(event, CallStateChanged):
            self.on_call_state(event)
        elif isinstance(event, ActionCompleted) and event.control_id in self.playing:
            del self.playing[event.control_id]
            call = conn.calls.get(event.call_id)  # the core's registry: node_id, state
            print(f"call {event.call_id}: prompt {event.reason}; hanging up")
            if call is not None:
                params = {"node_id": call.node_id, "call_id": call.call_id, "reason": "hangup"}
                conn.send_request("calling.end", params, now())
        elif isinstance(event, (RequestFailed, RequestTimedOut, RequestCancelled)):
            print(f"{event.method} did not succeed: {event}")
        elif isinstance(event, ConnectionDead):
            self.drop_socket(event.reason)  # abort; the core reconnects
        elif isinstance(event, ReconnectScheduled):
            print(f"reconnecting in {event.delay:.1f} s")
            self.reconnect_at = event.at
        elif isinstance(event, AuthenticationFatal):
            print(f"authentication failed: {event.message}")
            self.exit_code = 1
            self.stop()
        elif isinstance(event, ConnectionClosed) and not event.will_reconnect:
            print(f"connection closed: {event.reason}")
            self.stop()

    def on_call_state(self, event: CallStateChanged) -> None:
        if event.call_state == "answered" and event.call_id not in self.playing.values():
            control_id = str(uuid.uuid4())
            self.playing[control_id] = event.call_id
            print(f"call {event.call_id}: answered, playing the prompt")
            params = {
                "node_id": event.node_id,
                "call_id": event.call_id,
                "control_id": control_id,  # the core reports ActionCompleted for it
                "play": [{"type": "tts", "params": {"text": self.prompt}}],
            }
            self.conn.send_request("calling.play", params, now())
        elif event.call_state == "ended":
            self.calls_done += 1
            print(f"call {event.call_id}: ended ({event.end_reason or 'no reason'})")
            if self.calls_wanted and self.calls_done >= self.calls_wanted:
                self.conn.close(now())

    def stop(self) -> None:
        if self.sock is not None:
            self.selector.unregister(self.sock)
            self.sock.close()
            self.sock = None
        self.finished = True


def parse_args(argv: list[str]) -> argparse.Namespace:
    space = os.environ.get("SIGNALWIRE_SPACE", "relay.signalwire.com")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("SIGNALWIRE_RELAY_URL", f"wss://{space}"))
    parser.add_argument("--project", default=os.environ.get("SIGNALWIRE_PROJECT_ID"))
    parser.add_argument("--token", default=os.environ.get("SIGNALWIRE_API_TOKEN"))
    parser.add_argument("--context", default="ivr", help="context to receive calls on")
    parser.add_argument("--prompt", default="Thank you for calling. Goodbye!")
    parser.add_argument("--calls", type=int, default=0, help="exit after N calls (0: never)")
    args = parser.parse_args(argv)
    for flag, env in (("project", "SIGNALWIRE_PROJECT_ID"), ("token", "SIGNALWIRE_API_TOKEN")):
        if not getattr(args, flag):
            parser.error(f"--{flag} or {env} is required")
    return args


if __name__ == "__main__":
    sys.exit(SelectorsIvr(parse_args(sys.argv[1:])).run())
