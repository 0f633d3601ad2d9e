"""The WebSocket layer: handshake, text frames, ping/pong, close, binary, size cap."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wsproto.events import BytesMessage, CloseConnection, Message, Ping, RejectConnection

from relay_proto import (
    ConnectionClosed,
    ConnectionDead,
    ProtocolErrorReceived,
    RelayConnection,
    ResponseReceived,
    SessionState,
)
from relay_proto._ws import WebSocketClient, WsDead, WsOpened

from .helpers import FakeServer, Pair, event_frame, result_frame

pytestmark = pytest.mark.timeout(10)


def test_handshake_request_host_and_target() -> None:
    pair = Pair(host="example.signalwire.com:8443", target="/api/relay/ws")
    pair.open()
    assert pair.server.request is not None
    assert pair.server.request.host == "example.signalwire.com:8443"
    assert pair.server.request.target == "/api/relay/ws"


def test_handshake_rejected_is_clean_failure() -> None:
    pair = Pair()
    pair.conn.open_session(project="p", token="t")
    pair.server = FakeServer(accept=False)
    pair.conn.connection_made(pair.now)
    pair.flush()
    reject = pair.server.ws.send(RejectConnection(status_code=403, has_body=False))
    events = pair.feed(reject)
    assert events == [ConnectionDead(reason="WebSocket handshake rejected with HTTP 403")]
    assert pair.conn.state is SessionState.CONNECTING
    assert pair.feed(b"more garbage") == []
    sched = pair.drop()
    assert sched.delay == 1.0


@pytest.mark.parametrize(
    "response",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: wrong\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi",
        b"",
    ],
)
def test_bad_handshake_responses_never_raise(response: bytes) -> None:
    pair = Pair()
    pair.conn.open_session(project="p", token="t")
    pair.conn.connection_made(pair.now)
    pair.conn.data_to_send()
    events = pair.feed(response)
    if response:
        assert len(events) == 1
        assert isinstance(events[0], ConnectionDead)
    else:
        assert events == [ConnectionDead(reason="connection closed during the WebSocket handshake")]


def test_handshake_timeout() -> None:
    pair = Pair(request_timeout=5.0)
    pair.conn.open_session(project="p", token="t")
    pair.conn.connection_made(pair.now)
    assert pair.conn.get_timer() == pair.now + 5.0
    assert pair.tick() == [ConnectionDead(reason="WebSocket handshake timed out")]


def test_frames_after_handshake_in_same_chunk() -> None:
    pair = Pair()
    pair.conn.open_session(project="p", token="t")
    pair.conn.connection_made(pair.now)
    pair.flush()
    accept = pair.server.take()
    events = pair.feed(accept + pair.server.frame(event_frame("e-1", "calling.error", {})))
    # The event before the connect result is still processed and ACKed.
    assert [e.event_type for e in events] == ["calling.error"]  # type: ignore[attr-defined]
    msgs = pair.flush()
    assert [m.get("method") for m in msgs] == ["signalwire.connect", None]


def test_websocket_ping_gets_pong() -> None:
    pair = Pair()
    pair.authenticate()
    pair.feed(pair.server.ws.send(Ping(payload=b"hello")))
    pair.flush()
    assert ("pong", b"hello") in pair.server.log


def test_binary_message_is_protocol_error_and_skipped() -> None:
    pair = Pair()
    pair.authenticate()
    events = pair.feed(pair.server.ws.send(BytesMessage(data=b"\x00\x01")))
    assert [type(e) for e in events] == [ProtocolErrorReceived]
    # The socket still works.
    rid = pair.conn.send_request("calling.answer", {}, pair.now)
    pair.flush()
    assert isinstance(pair.send(result_frame(rid, {}))[0], ResponseReceived)


def test_fragmented_text_message_reassembled() -> None:
    pair = Pair()
    pair.authenticate()
    text = '{"jsonrpc":"2.0","id":"e-1","method":"signalwire.event","params":{"event_type":"x"}}'
    parts = [text[:10], text[10:40], text[40:]]
    data = b"".join(
        pair.server.ws.send(Message(data=p, message_finished=i == 2)) for i, p in enumerate(parts)
    )
    events = pair.feed(data)
    assert len(events) == 1
    assert pair.flush() == [{"jsonrpc": "2.0", "id": "e-1", "result": {}}]


@pytest.mark.parametrize("fragmented", [False, True])
def test_oversized_message_closes_1009(fragmented: bool) -> None:
    pair = Pair(max_message_size=1000)
    pair.authenticate()
    rid = pair.conn.send_request("calling.answer", {}, pair.now)
    pair.flush()
    if fragmented:
        data = b"".join(
            pair.server.ws.send(Message(data="x" * 400, message_finished=False)) for _ in range(3)
        )
    else:
        data = pair.server.text_bytes("x" * 1001)
    events = pair.feed(data)
    assert events == [ConnectionDead(reason="inbound message larger than 1000 bytes")]
    pair.flush()
    assert pair.server.closed_code == 1009
    pair.drop()
    assert any(getattr(e, "request_id", None) == rid for e in pair.events)


def test_size_cap_counts_utf8_bytes() -> None:
    pair = Pair(max_message_size=1000)
    pair.authenticate()
    # 300 characters, 1200 bytes.
    events = pair.feed(pair.server.text_bytes("é" * 600))
    assert isinstance(events[0], ConnectionDead)
    pair2 = Pair(max_message_size=1000)
    pair2.authenticate()
    events = pair2.feed(pair2.server.text_bytes('"' + "é" * 400 + '"'))
    assert [type(e) for e in events] == [ProtocolErrorReceived]


def test_oversized_binary_message_closes() -> None:
    pair = Pair(max_message_size=200)
    pair.authenticate()
    events = pair.feed(pair.server.ws.send(BytesMessage(data=b"x" * 300)))
    assert isinstance(events[0], ConnectionDead)


def test_server_close_is_answered_then_dead() -> None:
    pair = Pair()
    pair.authenticate()
    events = pair.feed(pair.server.ws.send(CloseConnection(code=1001, reason="bye")))
    assert events == [ConnectionDead(reason="server closed the WebSocket (code 1001: bye)")]
    pair.flush()
    assert pair.server.closed_code == 1000 or pair.server.ws.state.name == "CLOSED"


def test_bad_frame_closes_with_protocol_error_code() -> None:
    pair = Pair()
    pair.authenticate()
    # Reserved bits set: not allowed without an extension.
    events = pair.feed(b"\xf1\x02hi")
    assert len(events) == 1
    assert isinstance(events[0], ConnectionDead)
    pair.flush()
    assert pair.server.closed_code == 1002


def test_invalid_utf8_text_frame() -> None:
    pair = Pair()
    pair.authenticate()
    events = pair.feed(b"\x81\x02\xff\xfe")
    assert len(events) == 1
    assert isinstance(events[0], ConnectionDead)


def test_eof_is_connection_dead() -> None:
    pair = Pair()
    pair.authenticate()
    assert pair.feed(b"") == [ConnectionDead(reason="connection closed without a WebSocket close")]


def test_user_close_completes_on_eof_too() -> None:
    pair = Pair()
    pair.authenticate()
    pair.conn.close(pair.now)
    assert pair.feed(b"") == [
        ConnectionClosed(reason="connection closed without a WebSocket close", will_reconnect=False)
    ]


def test_send_text_roundtrip_all_length_encodings() -> None:
    server = FakeServer()
    client = WebSocketClient("h", "/", 1 << 20)
    client.start()
    server.receive(bytes(client.out))
    client.out.clear()
    client.receive_data(server.take())
    for size in (0, 5, 125, 126, 1000, 65535, 65536, 70000):
        text = ("ä" if size % 2 else "a") * size
        assert client.send_text(f'"{text}"')
        assert server.receive(bytes(client.out)) == [text]
        client.out.clear()


def test_ws_client_send_before_open_refused() -> None:
    client = WebSocketClient("h", "/", 100)
    assert client.send_text("x") is False
    assert client.close() is False
    assert isinstance(client.receive_data(b"")[0], WsDead)
    assert client.receive_data(b"more") == []


def test_websocket_mode_rejects_text_input() -> None:
    conn = RelayConnection()
    with pytest.raises(Exception, match="receive_data"):
        conn.receive_text("{}", 0.0)


def _open_pair() -> Pair:
    pair = Pair()
    pair.authenticate()
    return pair


@pytest.mark.parametrize(
    ("frame", "code", "reason"),
    [
        (b"\x81\x82abcdhi", 1002, "masked frame from the server"),
        (b"\x81\x7e\x00\x05hello", 1002, "non-minimal payload length"),
        (b"\x81\x7f" + (5).to_bytes(8, "big") + b"hello", 1002, "bad 64-bit payload length"),
        (b"\x81\x7f" + (1 << 63).to_bytes(8, "big"), 1002, "bad 64-bit payload length"),
        (b"\x83\x00", 1002, "reserved opcode 3"),
        (b"\x8b\x00", 1002, "bad control frame"),
        (b"\x09\x00", 1002, "bad control frame"),
        (b"\x89\x7e\x00\x7e" + b"x" * 126, 1002, "bad control frame"),
        (b"\x80\x02hi", 1002, "continuation frame without a message"),
        (b"\x01\x01a\x81\x01b", 1002, "new message inside a fragmented one"),
        (b"\x88\x01\x03", 1002, "close frame with a 1-byte payload"),
        (b"\x88\x02\x03\xed", 1002, "close frame with invalid code 1005"),
        (b"\x88\x02\x0b\xb7", 1002, "close frame with invalid code 2999"),
        (b"\x88\x04\x03\xe8\xff\xfe", 1007, "invalid UTF-8 in close reason"),
        (b"\x01\x01\xc3\x80\x01A", 1007, "invalid UTF-8 in text"),
        (b"\x81\x02\xc3A", 1007, "invalid UTF-8 in text"),
    ],
)
def test_frame_violations(frame: bytes, code: int, reason: str) -> None:
    pair = _open_pair()
    # wsproto detects every violation; *reason* documents the rule being broken.
    (event,) = pair.feed(frame)
    assert isinstance(event, ConnectionDead), reason
    assert event.reason.startswith("bad WebSocket frame: "), reason
    pair.flush()
    assert pair.server.closed_code == code
    # Nothing more is read from this socket.
    assert pair.feed(b"\x81\x02{}") == []


def test_utf8_character_split_across_fragments() -> None:
    pair = _open_pair()
    text = '{"jsonrpc":"2.0","id":"e-1","method":"signalwire.event","params":{"event_type":"é"}}'
    raw = text.encode()
    cut = raw.index("é".encode()) + 1
    frames = b"\x01" + bytes([cut]) + raw[:cut] + b"\x80" + bytes([len(raw) - cut]) + raw[cut:]
    (event,) = pair.feed(frames)
    assert event.event_type == "é"  # type: ignore[attr-defined]


def test_close_without_code_is_answered() -> None:
    pair = _open_pair()
    events = pair.feed(b"\x88\x00")
    assert events == [ConnectionDead(reason="server closed the WebSocket (code 1005)")]
    pair.flush()
    # The close is echoed; 1005 ("no status") is never put on the wire, so the
    # server sees an empty close payload, which it reports as 1005 too.
    assert pair.server.closed_code == 1005


def test_oversize_detected_while_streaming_without_buffering_it() -> None:
    pair = Pair(max_message_size=1 << 20)
    pair.authenticate()
    header = b"\x81\x7f" + (1 << 30).to_bytes(8, "big")
    # wsproto hands over partial payloads as they arrive, so the cap is checked
    # incrementally: memory stays bounded by the cap, never by the announced size.
    assert pair.feed(header) == []
    assert pair.feed(b"x" * (1 << 19)) == []
    assert pair.feed(b"x" * (1 << 19) + b"y") == [
        ConnectionDead(reason=f"inbound message larger than {1 << 20} bytes")
    ]
    pair.flush()
    assert pair.server.closed_code == 1009


def test_large_frame_64bit_length_and_byte_at_a_time() -> None:
    pair = _open_pair()
    body = (
        '{"jsonrpc":"2.0","method":"signalwire.event","params":{"event_type":"x","params":{"p":"'
        + "y" * 70000
        + '"}}}'
    )
    data = pair.server.text_bytes(body)
    assert data[1] == 127
    events = []
    for i in range(0, len(data), 4099):
        events += pair.feed(data[i : i + 4099])
    assert len(events) == 1


def test_handshake_head_split_and_too_large() -> None:
    pair = Pair()
    pair.conn.open_session(project="p", token="t")
    pair.conn.connection_made(pair.now)
    pair.flush()
    accept = pair.server.take()
    for i in range(len(accept)):
        pair.feed(accept[i : i + 1])
    assert pair.flush()[0]["method"] == "signalwire.connect"
    big = Pair()
    big.conn.open_session(project="p", token="t")
    big.conn.connection_made(big.now)
    big.conn.data_to_send()
    events = big.feed(b"HTTP/1.1 101 Switching Protocols\r\n" + b"X-Pad: " + b"a" * 20000)
    (event,) = events
    assert isinstance(event, ConnectionDead)
    assert event.reason.startswith("WebSocket protocol error")


@pytest.mark.timeout(60)
@given(
    st.lists(
        st.tuples(st.text(max_size=300), st.lists(st.integers(0, 300), max_size=3), st.booleans()),
        max_size=6,
    ),
    st.integers(1, 50),
)
def test_fragmented_messages_reassemble(
    messages: list[tuple[str, list[int], bool]], chunk: int
) -> None:
    """Any fragmentation of any texts, with pings in between, yields exactly the texts."""
    client = WebSocketClient("h", "/", 1 << 20)
    server = FakeServer()
    client.start()
    server.receive(bytes(client.out))
    client.out.clear()
    data = server.take()
    for text, cuts, ping in messages:
        points = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
        parts = [text[a:b] for a, b in itertools.pairwise(points)] or [""]
        for i, part in enumerate(parts):
            data += server.ws.send(Message(data=part, message_finished=i == len(parts) - 1))
            if ping:
                data += server.ws.send(Ping(payload=b"p"))
    got: list[object] = []
    for start in range(0, len(data), chunk):
        got += client.receive_data(data[start : start + chunk])
    assert got[0] == WsOpened()
    assert got[1:] == [text for text, _, _ in messages]
