"""Messages that arrive ahead of the client's close frame are handled (issue 11 §5:
never a silent loss of a request).

A client that sends ``calling.end`` and then closes puts both frames on the
wire back to back, so the emulator often reads them in one chunk.  A server
runs what it received before the close; the emulator once dropped every text
of a read that also held the close frame, and so lost the hang-up.
"""

from __future__ import annotations

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import CloseConnection, Message, Request
from wsproto.frame_protocol import FrameProtocol

import relay_proto
from relaykit.emulator import Caller, ServerWebSocket

from .test_sansio import Wire

pytestmark = pytest.mark.timeout(30)


def _open(fast: bool) -> tuple[ServerWebSocket, WSConnection]:
    client = WSConnection(ConnectionType.CLIENT)
    server = ServerWebSocket(fast_path=fast)
    server.receive_data(client.send(Request(host="emulator.test", target="/")))
    client.receive_data(server.data_to_send())
    list(client.events())
    return server, client


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "wsproto"])
def test_texts_ahead_of_the_close_frame_in_one_read_are_delivered(fast: bool) -> None:
    server, client = _open(fast)
    chunk = (
        client.send(Message(data='{"a":1}'))
        + client.send(Message(data='{"b":2}'))
        + client.send(CloseConnection(code=1000))
    )
    assert server.receive_data(chunk) == ['{"a":1}', '{"b":2}']
    assert server.is_closed
    # The close is answered, and nothing after it is taken any more.
    client.receive_data(server.data_to_send())
    assert any(isinstance(e, CloseConnection) for e in client.events())
    assert server.receive_data(b"") == []


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "wsproto"])
def test_texts_after_the_close_frame_are_not_delivered(fast: bool) -> None:
    server, client = _open(fast)
    close = client.send(CloseConnection(code=1000))
    # A (misbehaving) text after the close frame, in the same read: not taken.
    # (wsproto refuses to send one after closing: framed by hand.)
    text_after = bytes(FrameProtocol(client=True, extensions=[]).send_data('{"c":3}', fin=True))
    assert server.receive_data(close + text_after) == []


def test_a_request_read_with_the_close_frame_is_executed() -> None:
    """Our client core sends calling.end and closes at once: one chunk, the call ends."""
    wire = Wire()
    call = wire.server.place_call("ivr", Caller(), wire.now)
    wire.pump()
    (offer,) = wire.of(relay_proto.CallReceived)
    ids = {"node_id": offer.params["node_id"], "call_id": offer.params["call_id"]}
    wire.request("calling.answer", ids)
    wire.client.send_request("calling.end", {**ids, "reason": "hangup"}, wire.now)
    wire.client.close(wire.now)
    chunk = wire.client.data_to_send()  # the request and the close frame, back to back
    wire.server.receive_data(wire.cid, chunk, wire.now)
    assert [e.method for e in wire.server.journal.query("calling.end", "in")] == ["calling.end"]
    wire.pump()
    wire.advance(5.0)
    assert call.record.state == "ended"
    assert call.record.hung_up_by == "app"
