"""The emulator's fast paths against their references.

* WebSocket framing (``relaykit.emulator._wsserver``): frames built by hand must be
  byte-identical to ``wsproto``'s, and a ``ServerWebSocket`` reading with the fast
  path must behave exactly like one that sends every byte through ``wsproto``.
* The flood (``_pump.FloodPump`` and ``_flood.take_ack``): with the journal off,
  event texts come from templates and ACKs skip the message objects; the bytes on
  the wire and the counters must be those of the journal-on (reference) path.
"""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wsproto import ConnectionType, WSConnection
from wsproto.events import Message, Request
from wsproto.frame_protocol import FrameProtocol, Opcode

from relay_proto import rpc as _rpc
from relaykit.emulator import Caller, EmulatorServer, Flood, ServerWebSocket
from relaykit.emulator._wsserver import CLOSE_MESSAGE_TOO_BIG, text_frame

from .test_sansio import Wire

pytestmark = pytest.mark.timeout(30)


# ------------------------------------------------------------------ outbound frames
def _wsproto_server_frame(text: str) -> bytes:
    proto = FrameProtocol(client=False, extensions=[])
    return bytes(proto.send_data(text, fin=True))


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 1000, 65535, 65536, 70_000])
def test_text_frame_matches_wsproto(size: int) -> None:
    text = "x" * size
    assert text_frame(text.encode()) == _wsproto_server_frame(text)


@given(st.text(max_size=300))
def test_text_frame_matches_wsproto_for_any_text(text: str) -> None:
    assert text_frame(text.encode()) == _wsproto_server_frame(text)


def _open_pair(fast: bool) -> tuple[ServerWebSocket, WSConnection]:
    client = WSConnection(ConnectionType.CLIENT)
    server = ServerWebSocket(fast_path=fast)
    server.receive_data(client.send(Request(host="emulator.test", target="/")))
    client.receive_data(server.data_to_send())
    list(client.events())
    return server, client


def test_send_text_matches_wsproto() -> None:
    fast, _ = _open_pair(True)
    slow, _ = _open_pair(False)
    for text in ["", "{}", "é" * 200, "y" * 70_000]:
        fast.send_text(text)
        expected = _wsproto_server_frame(text)
        assert fast.data_to_send() == expected
        slow._out += slow._ws.send(Message(data=text))  # the reference: wsproto itself
        assert slow.data_to_send() == expected


# ------------------------------------------------------------------ inbound frames
def _client_frame(kind: str, payload: str) -> bytes:
    """One client (masked) frame of *kind*, built by wsproto's client framing."""
    proto = FrameProtocol(client=True, extensions=[])
    if kind == "text":
        return bytes(proto.send_data(payload, fin=True))
    if kind == "fragmented":
        half = len(payload) // 2
        first = bytes(proto.send_data(payload[:half], fin=False))
        return first + bytes(proto.send_data(payload[half:], fin=True))
    if kind == "ping":
        return bytes(proto.ping(payload.encode()[:100]))
    if kind == "pong":
        return bytes(proto.pong(payload.encode()[:100]))
    if kind == "binary":
        return bytes(proto.send_data(payload.encode(), fin=True))
    if kind == "close":
        return bytes(proto.close(1000, payload[:20]))
    if kind == "unmasked":
        return text_frame(payload.encode())
    if kind == "bad-utf8":
        return bytes(proto._serialize_frame(Opcode.TEXT, b"ok\xff\xfe" + payload.encode()))
    if kind == "rsv":
        frame = bytearray(proto.send_data(payload, fin=True))
        frame[0] |= 0x40
        return bytes(frame)
    raise AssertionError(kind)


_VALID = ["text", "text", "text", "ping", "pong", "fragmented"]
_ANY = [*_VALID, "binary", "close", "unmasked", "bad-utf8", "rsv"]
_payloads = st.text(max_size=40) | st.text(min_size=100, max_size=300)


def _run(frames: bytes, cuts: list[int], fast: bool) -> tuple[list[list[str]], bytes, bool, bool]:
    """Open a connection, then feed *frames* cut at *cuts*; what came out, and the end state."""
    server = ServerWebSocket(fast_path=fast)
    assert server.receive_data(_HANDSHAKE) == []
    per_chunk: list[list[str]] = []
    out = server.data_to_send()
    edges = sorted({c % (len(frames) + 1) for c in cuts} | {0, len(frames)})
    for start, end in itertools.pairwise(edges):
        if end > start:
            per_chunk.append(server.receive_data(frames[start:end]))
            out += server.data_to_send()
    return per_chunk, out, server.is_closed, server.is_finished


_HANDSHAKE = WSConnection(ConnectionType.CLIENT).send(
    Request(host="emulator.test", target="/api/relay/ws")
)


def _stream(frames: list[tuple[str, str]]) -> bytes:
    return b"".join(_client_frame(kind, text) for kind, text in frames)


@given(
    st.lists(st.tuples(st.sampled_from(_VALID), _payloads), max_size=12),
    st.lists(st.integers(min_value=0, max_value=20_000), max_size=8),
)
def test_fast_path_reads_valid_streams_like_wsproto(
    frames: list[tuple[str, str]], cuts: list[int]
) -> None:
    stream = _stream(frames)
    assert _run(stream, cuts, True) == _run(stream, cuts, False)


@given(
    st.lists(st.tuples(st.sampled_from(_ANY), _payloads), max_size=10),
    st.lists(st.integers(min_value=0, max_value=20_000), max_size=8),
)
def test_fast_path_handles_any_stream_like_wsproto(
    frames: list[tuple[str, str]], cuts: list[int]
) -> None:
    stream = _stream(frames)
    fast_chunks, fast_out, fast_closed, fast_finished = _run(stream, cuts, True)
    ref_chunks, ref_out, ref_closed, ref_finished = _run(stream, cuts, False)
    # Same replies (pongs, close frames with their codes) and the same end state.
    assert (fast_out, fast_closed, fast_finished) == (ref_out, ref_closed, ref_finished)
    # wsproto may report a bad frame while it is still arriving and then drops the
    # messages completed in that same read; the fast path reports it once the frame
    # is complete.  Every message wsproto delivers, the fast path delivers too.
    fast_texts = [t for chunk in fast_chunks for t in chunk]
    ref_texts = [t for chunk in ref_chunks for t in chunk]
    assert fast_texts[: len(ref_texts)] == ref_texts
    expected = [text for kind, text in frames if kind in ("text", "fragmented")]
    assert fast_texts == expected[: len(fast_texts)]


def test_partial_frames_wait_for_the_rest() -> None:
    frame = _client_frame("text", "é" * 500)
    server, _ = _open_pair(True)
    for byte in frame[:-1]:
        assert server.receive_data(bytes([byte])) == []
    assert server.receive_data(frame[-1:]) == ["é" * 500]
    assert not server.is_closed


def test_oversized_message_is_refused_on_the_fast_path() -> None:
    server = ServerWebSocket(max_message_size=10)
    client = WSConnection(ConnectionType.CLIENT)
    server.receive_data(client.send(Request(host="emulator.test", target="/")))
    client.receive_data(server.data_to_send())
    list(client.events())
    assert server.receive_data(_client_frame("text", "z" * 11)) == []
    assert server.is_closed
    out = server.data_to_send()
    assert out[0] == 0x88
    assert int.from_bytes(out[2:4], "big") == CLOSE_MESSAGE_TOO_BIG


def test_handshake_with_frames_in_the_same_read() -> None:
    # wsproto leaves frames that arrive with the upgrade request unread until more
    # bytes come; the fast path hands wsproto the request head alone and reads them.
    server = ServerWebSocket()
    frames = _stream([("text", "a"), ("ping", "p"), ("text", "b")])
    assert server.receive_data(_HANDSHAKE + frames) == ["a", "b"]
    assert server.data_to_send().endswith(b"\x8a\x01p")  # the pong


# ------------------------------------------------------------------ the flood
_EPOCH = 1_763_700_000.123_456_789  # wall clock - loop clock: timestamps get rounded


def _flood_run(journal: bool, events: int, window: int) -> tuple[bytes, Flood]:
    server = EmulatorServer(project="p", token="t", time_scale=0.001)
    server.epoch_offset = _EPOCH
    wire = Wire(server)
    for _ in range(3):
        wire.server.place_call("ivr", _caller(), wire.now, "+15550000001", "+15550000002")
    wire.pump()
    wire.server.journal.enabled = journal
    sent: list[bytes] = []
    original = wire.server.data_to_send

    def spy(cid: int) -> bytes:
        data = original(cid)
        sent.append(data)
        return data

    wire.server.data_to_send = spy  # type: ignore[method-assign]
    flood = wire.server.flood(events, wire.now, None, window)
    wire.pump()
    return b"".join(sent), flood


def _caller() -> Caller:
    return Caller()


@pytest.mark.parametrize(("events", "window"), [(0, 5), (1, 1), (50, 7), (200, 1000)])
def test_flood_fast_path_sends_the_reference_bytes(events: int, window: int) -> None:
    fast_bytes, fast = _flood_run(False, events, window)
    ref_bytes, ref = _flood_run(True, events, window)
    assert fast_bytes == ref_bytes
    assert (fast.sent, fast.acked, fast.in_flight, fast.remaining) == (events, events, 0, 0)
    assert (ref.sent, ref.acked, ref.in_flight, ref.remaining) == (events, events, 0, 0)


def test_flood_event_text_is_the_encoded_envelope() -> None:
    server = EmulatorServer(project="p", token="t", time_scale=0.001)
    server.epoch_offset = _EPOCH
    wire = Wire(server)
    server.place_call("ivr", _caller(), wire.now, "+15550000001", "+15550000002")
    wire.pump()
    server.journal.enabled = False
    cid = wire.cid
    flood = server.flood(4, wire.now, None, 10)
    texts = _texts(server.data_to_send(cid))
    assert len(texts) == 4
    assert flood.in_flight == 4
    call_id = next(iter(server.records))
    for n, text in enumerate(texts, start=1):
        msg = json.loads(text)
        assert msg["method"] == "signalwire.event"
        assert text == _rpc.encode_request(msg["id"], "signalwire.event", msg["params"])
        params = msg["params"]
        assert params["event_type"] == "calling.call.play"
        assert params["params"]["call_id"] == call_id
        assert params["params"]["control_id"] == f"flood-{call_id}"
        assert params["params"]["state"] == ("playing" if n % 2 else "finished")
        assert params["timestamp"] == round(wire.now + server.epoch_offset, 6)
    assert len({json.loads(t)["id"] for t in texts}) == 4


def _texts(data: bytes) -> list[str]:
    """Split unmasked server text frames."""
    texts = []
    pos = 0
    while pos < len(data):
        n = data[pos + 1] & 0x7F
        start = pos + 2
        if n == 126:
            n, start = int.from_bytes(data[pos + 2 : pos + 4], "big"), pos + 4
        elif n == 127:
            n, start = int.from_bytes(data[pos + 2 : pos + 10], "big"), pos + 10
        assert data[pos] == 0x81
        texts.append(data[start : start + n].decode())
        pos = start + n
    return texts


def _ack(server: EmulatorServer, cid: int, msg_id: str, now: float) -> None:
    proto = FrameProtocol(client=True, extensions=[])
    text = _rpc.encode_result(msg_id, {})
    server.receive_data(cid, bytes(proto.send_data(text, fin=True)), now)


def test_flood_window_and_acks_with_the_journal_off() -> None:
    server = EmulatorServer(project="p", token="t", time_scale=0.001)
    server.epoch_offset = _EPOCH
    wire = Wire(server)
    server.place_call("ivr", _caller(), wire.now, "+15550000001", "+15550000002")
    wire.pump()
    server.journal.enabled = False
    flood = server.flood(10, wire.now, None, 3)
    ids = [json.loads(t)["id"] for t in _texts(server.data_to_send(wire.cid))]
    assert len(ids) == 3
    assert flood.in_flight == 3
    _ack(server, wire.cid, "not-a-pending-id", wire.now)  # ignored, as by the full path
    assert (flood.acked, flood.in_flight) == (0, 3)
    _ack(server, wire.cid, ids[0], wire.now)
    _ack(server, wire.cid, ids[0], wire.now)  # a duplicate ACK counts once
    assert (flood.acked, flood.in_flight, flood.sent) == (1, 3, 4)
    # An error reply to a flood event also frees its slot (the full path handles it).
    proto = FrameProtocol(client=True, extensions=[])
    err = _rpc.encode_error(ids[1], -32000, "nope")
    server.receive_data(wire.cid, bytes(proto.send_data(err, fin=True)), wire.now)
    assert (flood.acked, flood.in_flight, flood.sent) == (2, 3, 5)


def test_flood_connection_lost_mid_flood_releases_its_window() -> None:
    server = EmulatorServer(project="p", token="t", time_scale=0.001)
    server.epoch_offset = _EPOCH
    wire = Wire(server)
    server.place_call("ivr", _caller(), wire.now, "+15550000001", "+15550000002")
    wire.pump()
    server.journal.enabled = False
    flood = server.flood(10, wire.now, None, 4)
    assert flood.in_flight == 4
    server.connection_lost(wire.cid, wire.now)
    assert (flood.in_flight, flood.sent, flood.acked) == (0, 4, 0)


def test_a_read_that_needs_no_reply_wakes_no_writer() -> None:
    server = EmulatorServer(project="p", token="t", time_scale=0.001)
    wire = Wire(server)
    server.place_call("ivr", _caller(), wire.now, "+15550000001", "+15550000002")
    wire.pump()
    server.journal.enabled = False
    flood = server.flood(2, wire.now, None, 1)
    (first,) = [json.loads(t)["id"] for t in _texts(server.data_to_send(wire.cid))]
    server.pending_output()
    _ack(server, wire.cid, first, wire.now)  # frees the window: the second event goes out
    assert server.pending_output() == [wire.cid]
    (second,) = [json.loads(t)["id"] for t in _texts(server.data_to_send(wire.cid))]
    _ack(server, wire.cid, second, wire.now)  # the last ACK: nothing to send back
    assert flood.done
    assert server.pending_output() == []
    assert server.data_to_send(wire.cid) == b""
