"""The sans-IO core on one blocking socket: answer a call, say hello, hang up, exit."""

import random
import socket
import sys
import time
import uuid
from contextlib import suppress

from relay_proto import ActionCompleted, CallReceived, CallStateChanged, RelayConnection

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8765"  # `make emulator`
conn = RelayConnection(host, make_id=lambda: str(uuid.uuid4()), jitter=random.random)
conn.open_session(project="demo", token="demo", contexts=["office"])
name, _, port = host.rpartition(":")
sock = socket.create_connection((name, int(port)))
conn.connection_made(time.monotonic())
while True:
    sock.sendall(conn.data_to_send())  # 1. write what the core queued
    timer = conn.get_timer() or time.monotonic() + 1.0
    sock.settimeout(max(0.001, timer - time.monotonic()))
    with suppress(TimeoutError):  # 2. read until data arrives or the core's next deadline
        conn.receive_data(sock.recv(65536), time.monotonic())
    if (due := conn.get_timer()) is not None and time.monotonic() >= due:
        conn.handle_timer(time.monotonic())  # 3. timeouts, pings, reconnect
    while (event := conn.next_event()) is not None:  # 4. react to what happened
        now = time.monotonic()
        if isinstance(event, CallReceived):
            ids = {"node_id": event.node_id, "call_id": event.call_id}
            conn.send_request("calling.answer", ids, now)
            hello = [{"type": "tts", "params": {"text": "Hello!"}}]
            conn.send_request("calling.play", {**ids, "control_id": "p1", "play": hello}, now)
        elif isinstance(event, ActionCompleted) and (call := conn.calls.get(event.call_id)):
            conn.send_request(
                "calling.end", {"node_id": call.node_id, "call_id": call.call_id}, now
            )
        elif isinstance(event, CallStateChanged) and event.call_state == "ended":
            print("call ended:", event.end_reason)
            sys.exit(0)
