"""Drive the sans-IO core with a plain blocking socket: no event loop at all.

Answers inbound calls on a context, says hello, hangs up when the prompt has
played, and exits after ``RELAY_CALLS`` calls (or ``RELAY_SECONDS`` seconds).

    python examples/core_blocking.py [HOST:PORT]

Settings come from the environment (defaults suit ``make emulator``):
``RELAY_HOST`` (``127.0.0.1:8765``), ``RELAY_PROJECT`` / ``RELAY_TOKEN``
(``demo``), ``RELAY_CONTEXT`` (``office``), ``RELAY_TLS`` (``1`` for wss),
``RELAY_CALLS`` (1), ``RELAY_SECONDS`` (30).  Exit status 0 when all calls were
handled, 1 on fatal authentication failure, 2 on timeout.
"""

from __future__ import annotations

import os
import random
import socket
import ssl
import sys
import time
import uuid

from relay_proto import (
    ActionCompleted,
    AuthenticationFatal,
    CallReceived,
    CallStateChanged,
    ConnectionDead,
    ReconnectScheduled,
    RelayConnection,
    SessionAuthenticated,
)


def open_socket(host: str, tls: bool) -> socket.socket:
    name, _, port = host.rpartition(":") if ":" in host else (host, "", "443" if tls else "80")
    sock = socket.create_connection((name, int(port)), timeout=10)
    if tls:
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=name)
    return sock


def main(argv: list[str]) -> int:
    host = argv[1] if len(argv) > 1 else os.environ.get("RELAY_HOST", "127.0.0.1:8765")
    tls = os.environ.get("RELAY_TLS", "") == "1"
    context = os.environ.get("RELAY_CONTEXT", "office")
    wanted = int(os.environ.get("RELAY_CALLS", "1"))
    deadline = time.monotonic() + float(os.environ.get("RELAY_SECONDS", "30"))

    conn = RelayConnection(host, make_id=lambda: str(uuid.uuid4()), jitter=random.random)
    conn.open_session(
        project=os.environ.get("RELAY_PROJECT", "demo"),
        token=os.environ.get("RELAY_TOKEN", "demo"),
        contexts=[context],
    )
    sock: socket.socket | None = None
    reconnect_at = 0.0
    handled = 0
    while handled < wanted and time.monotonic() < deadline:
        now = time.monotonic()
        if sock is None and now >= reconnect_at:
            try:
                sock = open_socket(host, tls)
                conn.connection_made(now)
            except OSError as exc:
                conn.connection_lost(now, f"connect failed: {exc}")
        # 1. Write what the core wants written.
        if sock is not None and (out := conn.data_to_send()):
            sock.sendall(out)
        # 2. Read until data arrives or the core's next deadline.
        timer = conn.get_timer()
        wait = max(0.0, min(timer if timer is not None else now + 1.0, deadline) - now)
        if sock is not None:
            sock.settimeout(max(wait, 0.001))
            try:
                data = sock.recv(65536)
                conn.receive_data(data, time.monotonic())
            except TimeoutError:
                pass
            except OSError as exc:
                conn.connection_lost(time.monotonic(), str(exc))
                sock = None
        else:
            time.sleep(min(wait, max(0.0, reconnect_at - now)))
        # 3. Run timers that are due.
        if (timer := conn.get_timer()) is not None and time.monotonic() >= timer:
            conn.handle_timer(time.monotonic())
        # 4. React to events.
        while (event := conn.next_event()) is not None:
            now = time.monotonic()
            if isinstance(event, SessionAuthenticated):
                print(f"authenticated as {event.identity} (protocol {event.protocol})")
            elif isinstance(event, CallReceived):
                print(
                    f"call {event.call_id} from {event.device.get('params', {}).get('from_number')}"
                )
                ids = {"node_id": event.node_id, "call_id": event.call_id}
                conn.send_request("calling.answer", ids, now)
                play = [{"type": "tts", "params": {"text": "Hello from a blocking socket."}}]
                conn.send_request(
                    "calling.play", {**ids, "control_id": str(uuid.uuid4()), "play": play}, now
                )
            elif isinstance(event, ActionCompleted) and event.call_id in conn.calls:
                info = conn.calls[event.call_id]
                conn.send_request(
                    "calling.end",
                    {"node_id": info.node_id, "call_id": info.call_id, "reason": "hangup"},
                    now,
                )
            elif isinstance(event, CallStateChanged) and event.call_state == "ended":
                print(f"call {event.call_id} ended ({event.end_reason})")
                handled += 1
            elif isinstance(event, ConnectionDead):
                if sock is not None:
                    sock.sendall(conn.data_to_send())
                    sock.close()
                    sock = None
                conn.connection_lost(now, event.reason)
            elif isinstance(event, ReconnectScheduled):
                reconnect_at = event.at
            elif isinstance(event, AuthenticationFatal):
                print(f"authentication failed: {event.message}")
                return 1
    conn.close(time.monotonic())
    if sock is not None:
        sock.sendall(conn.data_to_send())
        sock.close()
    print(f"handled {handled} call(s)")
    return 0 if handled >= wanted else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
