"""The fuzz targets and their hypothesis strategies.

A target is ``(strategy, check)``: ``check(value)`` drives a fresh core with
the drawn input and raises only if the core misbehaves.  :func:`run_target`
turns one into a hypothesis test with the given example budget, so the same
code serves the CI smoke run (tests/core/test_fuzz_smoke.py) and long runs.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Message, Request

from relay_proto import ACTION_KINDS, EVENT_CLASSES, Event, RelayConnection, RelayEvent

__all__ = ["TARGETS", "check_events", "ready_pair", "run_target"]

CALL_ID = "c-1"


class _Server:
    """Minimal wsproto server peer for the fuzz targets."""

    def __init__(self) -> None:
        self.ws = WSConnection(ConnectionType.SERVER)

    def accept(self, client_bytes: bytes) -> bytes:
        self.ws.receive_data(client_bytes)
        for ev in self.ws.events():
            if isinstance(ev, Request):
                return self.ws.send(AcceptConnection())
        raise AssertionError("no handshake request from the client")

    def frame(self, text: str) -> bytes:
        return self.ws.send(Message(data=text))


def check_events(conn: RelayConnection) -> int:
    """Drain every event, reading every public property of RELAY events."""
    count = 0
    while (event := conn.next_event()) is not None:
        count += 1
        assert isinstance(event, Event)
        repr(event)
        if isinstance(event, RelayEvent):
            for cls in type(event).__mro__:
                for name, attr in vars(cls).items():
                    if isinstance(attr, property) and not name.startswith("_"):
                        getattr(event, name)
    conn.data_to_send()
    return count


def ready_pair(authenticated: bool = True) -> tuple[RelayConnection, _Server]:
    """A connection past the handshake (and authenticated, with a live call and actions)."""
    counter = itertools.count(1)
    conn = RelayConnection(
        "fuzz.test", make_id=lambda: f"r-{next(counter)}", max_message_size=1 << 16
    )
    server = _Server()
    conn.open_session(project="p", token="t", contexts=["office"])
    conn.connection_made(0.0)
    conn.receive_data(server.accept(conn.data_to_send()), 0.0)
    if authenticated:
        result = {"jsonrpc": "2.0", "id": "r-1", "result": {"protocol": "signalwire_f"}}
        call = {
            "jsonrpc": "2.0",
            "id": "e-0",
            "method": "signalwire.event",
            "params": {
                "event_type": "calling.call.receive",
                "params": {"call_id": CALL_ID, "node_id": "n", "call_state": "created"},
            },
        }
        conn.receive_data(server.frame(json.dumps(result)) + server.frame(json.dumps(call)), 0.0)
        for method in ACTION_KINDS:
            conn.send_request(method, {"call_id": CALL_ID, "control_id": method}, 0.0)
        conn.send_request("calling.dial", {"tag": "t"}, 0.0)
        assert conn.is_ready
    check_events(conn)
    return conn, server


def _finish(conn: RelayConnection, now: float) -> None:
    """After the hostile input: timers, a request and a close must still work."""
    check_events(conn)
    for _ in range(3):
        timer = conn.get_timer()
        if timer is None:
            break
        now = max(now, timer)
        conn.handle_timer(now)
        check_events(conn)
        after = conn.get_timer()
        assert after is None or after > now
    conn.close(now)
    check_events(conn)


# -- targets -------------------------------------------------------------------


def bytes_after_handshake(data: bytes) -> None:
    """Arbitrary bytes where WebSocket frames are expected."""
    conn, _ = ready_pair()
    for start in range(0, len(data), 97):
        conn.receive_data(data[start : start + 97], 1.0)
        check_events(conn)
    _finish(conn, 1.0)


def bytes_as_handshake(data: bytes) -> None:
    """Arbitrary bytes as the server's HTTP upgrade response."""
    conn = RelayConnection("fuzz.test")
    conn.open_session(jwt_token="j")
    conn.connection_made(0.0)
    conn.data_to_send()
    conn.receive_data(data, 0.0)
    check_events(conn)
    conn.receive_data(b"", 0.0)
    _finish(conn, 0.0)


def _raw_frame(
    opcode: int, fin: bool, rsv: int, masked: bool, payload: bytes, length: int
) -> bytes:
    """Build one frame by hand, possibly lying about its length or flags."""
    b0 = (0x80 if fin else 0) | (rsv & 0x7) << 4 | (opcode & 0xF)
    mask = 0x80 if masked else 0
    if length < 126:
        header = bytes((b0, mask | length))
    elif length < 65536:
        header = bytes((b0, mask | 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((b0, mask | 127)) + length.to_bytes(8, "big")
    return header + (b"\x00\x00\x00\x00" if masked else b"") + payload


_FRAME = st.tuples(
    st.sampled_from([0, 1, 2, 8, 9, 10, 1, 1, 0, 3, 11]),
    st.booleans(),
    st.sampled_from([0, 0, 0, 0, 1, 4]),
    st.sampled_from([False, False, False, True]),
    st.binary(max_size=300) | st.text(max_size=100).map(str.encode),
    st.sampled_from([None, None, None, 0, 1, 125, 126, 65536]),
)


def raw_frames(frames: list[tuple[int, bool, int, bool, bytes, int | None]]) -> None:
    """Hand-built frames: every opcode, fragmentation order, flag and length lie."""
    conn, _ = ready_pair()
    data = b"".join(
        _raw_frame(op, fin, rsv, masked, payload, len(payload) if length is None else length)
        for op, fin, rsv, masked, payload, length in frames
    )
    for start in range(0, len(data), 61):
        conn.receive_data(data[start : start + 61], 1.0)
        check_events(conn)
    _finish(conn, 1.0)


def text_frames(texts: list[str]) -> None:
    """Arbitrary text messages, properly framed."""
    conn, server = ready_pair()
    conn.receive_data(b"".join(server.frame(t) for t in texts), 1.0)
    _finish(conn, 1.0)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["finished", "error", "ended", "answered", "MACHINE", "digit", CALL_ID]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "call_id",
                    "control_id",
                    "state",
                    "call_state",
                    "tag",
                    "dial_state",
                    "call",
                    "result",
                    "type",
                    "params",
                    "detect",
                    "event",
                    "fax",
                    "final",
                    "record",
                    "url",
                    "code",
                    "message",
                    "id",
                    "method",
                    "event_type",
                    "timestamp",
                    "media",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=6,
        )
    ),
    max_leaves=25,
)


def _json_text(value: Any) -> str:
    return json.dumps(value, allow_nan=False)


def json_messages(values: list[Any]) -> None:
    """Arbitrary JSON values as whole messages, as event envelopes, and as event params."""
    conn, server = ready_pair()
    event_types = sorted(EVENT_CLASSES)
    frames = []
    for i, value in enumerate(values):
        event_type = event_types[i % len(event_types)]
        inner = value
        if isinstance(value, dict) and i % 2 == 0:
            inner = {
                "call_id": CALL_ID,
                "control_id": ACTION_KINDS and list(ACTION_KINDS)[i % 14],
                **value,
            }
        frames += [
            _json_text(value),
            _json_text(
                {"jsonrpc": "2.0", "id": f"e{i}", "method": "signalwire.event", "params": value}
            ),
            _json_text(
                {
                    "jsonrpc": "2.0",
                    "id": f"f{i}",
                    "method": "signalwire.event",
                    "params": {"event_type": event_type, "timestamp": value, "params": inner},
                }
            ),
            _json_text({"jsonrpc": "2.0", "id": f"r-{2 + i % 16}", "result": value}),
            _json_text({"jsonrpc": "2.0", "id": f"r-{3 + i % 16}", "error": value}),
            _json_text(
                {"jsonrpc": "2.0", "id": value, "method": "signalwire.ping", "params": value}
            ),
        ]
    conn.receive_data(b"".join(server.frame(f) for f in frames), 1.0)
    _finish(conn, 1.0)


def json_as_connect_result(value: Any) -> None:
    """Arbitrary JSON as the answer to signalwire.connect."""
    conn, server = ready_pair(authenticated=False)
    for frame in (
        {"jsonrpc": "2.0", "id": "r-1", "result": value},
        {"jsonrpc": "2.0", "id": "r-1", "error": value},
    ):
        conn.receive_data(server.frame(_json_text(frame)), 1.0)
        check_events(conn)
    _finish(conn, 1.0)


#: name -> (strategy of one input, check)
TARGETS: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], None]]] = {
    "bytes_after_handshake": (st.binary(max_size=2000), bytes_after_handshake),
    "bytes_as_handshake": (
        st.binary(max_size=600)
        | st.sampled_from(
            [b"HTTP/1.1 101 Switching Protocols\r\n", b"HTTP/1.1 200 OK\r\n\r\n"]
        ).flatmap(lambda head: st.binary(max_size=300).map(lambda tail: head + tail)),
        bytes_as_handshake,
    ),
    "text_frames": (st.lists(st.text(max_size=200), max_size=8), text_frames),
    "raw_frames": (st.lists(_FRAME, max_size=12), raw_frames),
    "json_messages": (st.lists(_JSON, min_size=1, max_size=6), json_messages),
    "json_as_connect_result": (_JSON, json_as_connect_result),
}


def run_target(name: str, max_examples: int, *, derandomize: bool = False) -> None:
    """Run one target for *max_examples* hypothesis examples (raises on a finding)."""
    strategy, check = TARGETS[name]

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(strategy)
    def target(value: Any) -> None:
        check(value)

    target()
