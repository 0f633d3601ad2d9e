"""Core throughput: server event frames parsed, dispatched and ACKed per second.

No sockets and no event loop: a wsproto server peer builds the frames up front,
then the timed loop feeds them to :class:`relay_proto.RelayConnection` in
realistic socket-read-sized chunks, drains every event and collects the ACK
bytes from ``data_to_send()`` after each chunk, exactly as an adapter would.

    python benchmarks/core_throughput.py                # 200k events
    python benchmarks/core_throughput.py --events 2000  # CI smoke size
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Message, Request, TextMessage

from relay_proto import RelayConnection, SessionAuthenticated

CALL_ID = "c-0001"


def _server_frame(server: WSConnection, obj: object) -> bytes:
    return server.send(Message(data=json.dumps(obj, separators=(",", ":"))))


def _event(event_id: str, event_type: str, params: dict[str, object]) -> dict[str, object]:
    return {
        "jsonrpc": "2.0",
        "id": event_id,
        "method": "signalwire.event",
        "params": {
            "event_type": event_type,
            "event_channel": "signalwire_bench",
            "timestamp": 1732190000.123,
            "project_id": "p-1234",
            "space_id": "s-5678",
            "params": params,
        },
    }


def ready_connection() -> tuple[RelayConnection, WSConnection]:
    """An authenticated connection with one live call, and its server peer."""
    counter = itertools.count()
    conn = RelayConnection("bench.local", make_id=lambda: f"r{next(counter)}")
    server = WSConnection(ConnectionType.SERVER)
    conn.open_session(project="p", token="t", contexts=["office"])
    conn.connection_made(0.0)
    server.receive_data(conn.data_to_send())
    for handshake in server.events():
        assert isinstance(handshake, Request)
    conn.receive_data(server.send(AcceptConnection()), 0.0)
    server.receive_data(conn.data_to_send())
    (connect,) = [json.loads(e.data) for e in server.events() if isinstance(e, TextMessage)]
    result = {"protocol": "signalwire_bench", "identity": "p@relay"}
    receive = _event(
        "e-0",
        "calling.call.receive",
        {"call_id": CALL_ID, "node_id": "n-01", "call_state": "created", "context": "office"},
    )
    conn.receive_data(
        _server_frame(server, {"jsonrpc": "2.0", "id": connect["id"], "result": result})
        + _server_frame(server, receive),
        0.0,
    )
    events = []
    while (event := conn.next_event()) is not None:
        events.append(event)
    assert isinstance(events[0], SessionAuthenticated), events
    server.receive_data(conn.data_to_send())
    list(server.events())
    return conn, server


def build_frames(server: WSConnection, count: int) -> bytes:
    """*count* server event frames: play progress for the live call, realistic sizes."""
    frames = []
    for i in range(count):
        state = "playing" if i % 2 == 0 else "finished"
        params: dict[str, object] = {
            "call_id": CALL_ID,
            "node_id": "n-01",
            "control_id": f"ctl-{i // 2}",
            "state": state,
        }
        frames.append(_server_frame(server, _event(f"e-{i + 1}", "calling.call.play", params)))
    return b"".join(frames)


def run(count: int, chunk_size: int) -> tuple[float, int]:
    """Returns (seconds, ACK frames produced); checks every frame got its event and ACK."""
    conn, server = ready_connection()
    blob = build_frames(server, count)
    chunks = [blob[i : i + chunk_size] for i in range(0, len(blob), chunk_size)]
    seen = 0
    out: list[bytes] = []
    receive_data = conn.receive_data
    next_event = conn.next_event
    data_to_send = conn.data_to_send
    start = time.perf_counter()
    for chunk in chunks:
        receive_data(chunk, 1.0)
        while next_event() is not None:
            seen += 1
        out.append(data_to_send())
    elapsed = time.perf_counter() - start
    # Outside the timed loop: prove the work was done (one typed event and one
    # ACK with the right id per frame, in order).
    if seen != count:
        raise SystemExit(f"expected {count} events, saw {seen}")
    server.receive_data(b"".join(out))
    acks = [json.loads(e.data)["id"] for e in server.events() if isinstance(e, TextMessage)]
    if acks != [f"e-{i + 1}" for i in range(count)]:
        raise SystemExit("ACKs missing, duplicated or out of order")
    return elapsed, len(acks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="server event frames")
    parser.add_argument("--chunk", type=int, default=65_536, help="bytes per receive_data call")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args(argv)
    best = None
    for _ in range(max(1, args.repeat)):
        elapsed, acked = run(args.events, args.chunk)
        best = elapsed if best is None else min(best, elapsed)
    assert best is not None
    rate = args.events / best if best > 0 else float("inf")
    print(
        f"relay_proto core: {args.events} event frames in {best:.3f} s "
        f"= {rate:,.0f} frames/s parsed+dispatched+ACKed "
        f"({args.chunk}-byte chunks, {acked} ACKs verified, python {sys.version.split()[0]})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
