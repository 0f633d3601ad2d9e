"""The ``on_frame`` option: every JSON-RPC text in and out, in order, and nothing when off."""

from __future__ import annotations

import json

import pytest

from relay_proto import RelayConnection

from .helpers import TOKEN, Pair, event_frame, result_frame

pytestmark = pytest.mark.timeout(10)


def _shape(frames: list[tuple[bool, str]]) -> list[tuple[bool, object, object, bool]]:
    shapes = []
    for sent, text in frames:
        msg = json.loads(text)
        shapes.append((sent, msg.get("method"), msg.get("id"), "result" in msg))
    return shapes


def test_frames_in_and_out_are_shown_in_order() -> None:
    frames: list[tuple[bool, str]] = []
    pair = Pair(on_frame=lambda sent, text: frames.append((sent, text)))
    pair.authenticate()
    pair.send(event_frame("e-1", "calling.call.state", {"call_id": "c", "call_state": "ringing"}))
    pair.flush()
    assert _shape(frames) == [
        (True, "signalwire.connect", "r-1", False),  # the program's connect request
        (False, None, "r-1", True),  # RELAY's answer
        (False, "signalwire.event", "e-1", False),  # an event
        (True, None, "e-1", True),  # ...and the core's ACK of it
    ]
    # The hook sees the frames as they are, credentials included (the recorder scrubs).
    assert TOKEN in frames[0][1]


def test_an_answer_to_a_request_of_ours_is_seen_after_it() -> None:
    frames: list[tuple[bool, str]] = []
    pair = Pair(on_frame=lambda sent, text: frames.append((sent, text)))
    pair.authenticate()
    request_id = pair.conn.send_request(
        "calling.answer", {"call_id": "c", "node_id": "n"}, pair.now
    )
    pair.flush()
    pair.send(result_frame(request_id, {"code": "200", "message": "OK"}))
    ids = [(sent, json.loads(text).get("id")) for sent, text in frames]
    assert ids.index((True, request_id)) < ids.index((False, request_id))


def test_text_transports_are_observed_too() -> None:
    frames: list[tuple[bool, str]] = []
    conn = RelayConnection(websocket=False, on_frame=lambda sent, text: frames.append((sent, text)))
    conn.open_session(project="p", token="t", contexts=["office"])
    conn.connection_made(0.0)
    (connect,) = conn.texts_to_send()
    conn.receive_text(json.dumps({"jsonrpc": "2.0", "id": "x", "result": {}}), 0.1)
    assert frames[0] == (True, connect)
    assert frames[1][0] is False


def test_the_hook_changes_nothing_on_the_wire() -> None:
    def run(**kw: object) -> list[dict[str, object]]:
        pair = Pair(**kw)
        pair.authenticate()
        pair.send(
            event_frame("e-1", "calling.call.state", {"call_id": "c", "call_state": "ringing"})
        )
        pair.conn.send_request("calling.answer", {"call_id": "c", "node_id": "n"}, pair.now)
        pair.flush()
        return pair.sent  # what the server decoded, in order

    seen: list[tuple[bool, str]] = []
    assert run(on_frame=lambda sent, text: seen.append((sent, text))) == run()
    assert [json.loads(text) for sent, text in seen if sent] == run()
