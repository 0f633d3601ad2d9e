"""The session as the platform speaks it: envelopes, odd error responses, rejections.

Frames are the corpus's, exactly (``FRAMES[i]["frame"]``), with only the
request id swapped for the one the client chose.
"""

from __future__ import annotations

from typing import Any

import pytest

from relay_proto import (
    AuthenticationFatal,
    AuthenticationRejected,
    CallReceived,
    ConnectionDead,
    PlayStateChanged,
    ProtocolErrorReceived,
    RequestFailed,
    RequestTimedOut,
    ResponseReceived,
    ServerDisconnectRequested,
    SessionState,
)
from relay_proto.rpc import Invalid, ResponseError, decode

from .corpus import FRAMES, ready
from .helpers import AUTH_STATE, Pair, event_frame, result_frame

pytestmark = pytest.mark.timeout(10)

AUTH_REJECTION = FRAMES[211]["frame"]
# The JS SDK's code for a stale or corrupt authorization_state on resume (the
# README names it; no public frame has its message, so the message is ours).
STALE_STATE = {"code": -32003, "message": "Invalid authorization_state"}


def test_the_rejection_frame_is_the_platforms() -> None:
    assert AUTH_REJECTION["error"] == {
        "code": -32002,
        "message": "Authentication service failed with status ProtocolError, 401 Unauthorized: {}",
    }


# -- envelopes -----------------------------------------------------------------


def test_envelope_extras_are_ignored_and_region_node_ids_kept() -> None:
    # Frame 20: a 2019 receive; the 2025 capture (frame 21) adds node_id/is_author.
    inner = FRAMES[20]["frame"]["params"]["params"]
    envelope = {
        **inner,
        "event_channel": "signalwire_abc",
        "node_id": "8b08c8b9-4552-4e11-abd1-0078db49c848@us-east",
        "is_author": False,
        "context": "test-golang",
        "timestamp": "1763689665.934609",
    }
    envelope["params"] = {**inner["params"], "node_id": "61b04307@west-us"}
    pair, _ = ready()
    events = pair.send({"jsonrpc": "2.0", "id": "e-1", "method": "signalwire.event",
                        "params": envelope})  # fmt: skip
    (event,) = events
    assert isinstance(event, CallReceived)
    assert event.timestamp == 1763689665.934609  # a string timestamp, read right
    assert event.node_id == "61b04307@west-us"
    assert pair.conn.calls[event.call_id].node_id == "61b04307@west-us"


def test_negative_string_result_code_fails_the_request() -> None:
    pair, _ = ready()
    rid = pair.conn.send_request("calling.answer", {"call_id": "c1"}, pair.now)
    pair.flush()
    (failed,) = pair.send({**FRAMES[213]["frame"], "id": rid})
    assert isinstance(failed, RequestFailed)
    assert (failed.code, failed.message) == (-32001, "Permission Denied.")
    assert not failed.call_gone


def test_disconnect_with_empty_params() -> None:
    pair, _ = ready()
    assert pair.send(FRAMES[215]["frame"]) == [ServerDisconnectRequested(restart=False)]
    assert pair.flush() == [{"jsonrpc": "2.0", "id": "uuid", "result": {}}]
    assert not pair.conn.is_ready  # requests queue until the next socket


# -- responses whose error is not an object --------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        ("Permission denied", -1, "Permission denied"),
        (404, 404, "error 404"),
        (None, -1, "malformed error response: error is null"),
        ([1, 2], -1, "malformed error response: error is [1,2]"),
    ],
)
def test_non_object_error_fails_the_request_at_once(error: Any, code: int, message: str) -> None:
    pair, _ = ready()
    rid = pair.conn.send_request("calling.answer", {"call_id": "c1"}, pair.now)
    pair.flush()
    events = pair.send({"jsonrpc": "2.0", "id": rid, "error": error})
    assert events == [
        RequestFailed(
            request_id=rid, method="calling.answer", code=code, message=message,
            call_gone=code == 404, result=None,
        )
    ]  # fmt: skip
    # Failed now: nothing is left to time out.
    pair.tick(pair.now + 60)
    assert not any(isinstance(e, RequestTimedOut) for e in pair.events)


def test_null_error_beside_a_result_is_a_result() -> None:
    pair, _ = ready()
    rid = pair.conn.send_request("calling.answer", {"call_id": "c1"}, pair.now)
    pair.flush()
    (event,) = pair.send({"jsonrpc": "2.0", "id": rid, "error": None, "result": {"code": "200"}})
    assert isinstance(event, ResponseReceived)


def test_non_object_error_without_id_is_a_protocol_error() -> None:
    assert isinstance(decode('{"jsonrpc":"2.0","error":"boom"}'), Invalid)
    assert decode('{"jsonrpc":"2.0","id":7,"error":"boom"}') == ResponseError(7, -1, "boom", "boom")
    pair, _ = ready()
    (event,) = pair.send('{"jsonrpc":"2.0","error":"boom"}')
    assert isinstance(event, ProtocolErrorReceived)


# -- authentication rejections as the platform sends them ---------------------------


def _reject(pair: Pair, connect: dict[str, Any], error: dict[str, Any]) -> list[Any]:
    return pair.send({"jsonrpc": "2.0", "id": connect["id"], "error": error})


def test_platform_rejection_three_times_is_fatal() -> None:
    pair = Pair()
    connect = pair.open()
    for attempt in (1, 2, 3):
        events = _reject(pair, connect, AUTH_REJECTION["error"])
        assert events[0] == AuthenticationRejected(
            code=-32002, message=AUTH_REJECTION["error"]["message"], attempt=attempt
        )
        if attempt < 3:
            assert isinstance(events[1], ConnectionDead)
            pair.now = pair.drop().at
            connect = pair.reconnect_socket()
    assert isinstance(events[-1], AuthenticationFatal)
    assert pair.conn.state is SessionState.FAILED


def test_stale_resume_state_before_any_success_retries_fresh_and_stays_bounded() -> None:
    pair = Pair()
    connect = pair.open(protocol="signalwire_old", authorization_state=AUTH_STATE)
    assert connect["params"]["authorization_state"] == AUTH_STATE
    _reject(pair, connect, STALE_STATE)
    pair.now = pair.drop().at
    connect = pair.reconnect_socket()
    # Forgotten: a fresh session, never the stale state again.
    assert "protocol" not in connect["params"]
    assert "authorization_state" not in connect["params"]
    _reject(pair, connect, AUTH_REJECTION["error"])
    pair.now = pair.drop().at
    connect = pair.reconnect_socket()
    events = _reject(pair, connect, AUTH_REJECTION["error"])
    # The -32003 counted: three rejections in all, then the client gives up.
    assert [e.attempt for e in events if isinstance(e, AuthenticationRejected)] == [3]
    assert isinstance(events[-1], AuthenticationFatal)


def test_stale_resume_state_after_success_authenticates_fresh() -> None:
    pair = Pair()
    pair.authenticate()
    pair.send({"jsonrpc": "2.0", "id": "a-1", "method": "signalwire.event",
               "params": {"event_type": "signalwire.authorization.state",
                          "params": {"authorization_state": AUTH_STATE}}})  # fmt: skip
    pair.now = pair.drop().at
    connect = pair.reconnect_socket()
    assert connect["params"]["authorization_state"] == AUTH_STATE
    (rejected, dead) = _reject(pair, connect, STALE_STATE)
    assert rejected == AuthenticationRejected(
        code=-32003, message="Invalid authorization_state", attempt=1
    )
    assert isinstance(dead, ConnectionDead)
    pair.now = pair.drop().at
    connect = pair.reconnect_socket()
    assert "authorization_state" not in connect["params"]
    assert "protocol" not in connect["params"]
    pair.answer_connect(connect)
    assert pair.conn.is_ready


def test_event_for_an_action_without_call_id_reaches_it() -> None:
    # Frame 18: the docs' stream body names only the control_id.
    pair, _ = ready()
    receive = {"call_id": "c1", "call_state": "created"}
    pair.send(event_frame("e-0", "calling.call.receive", receive))
    start = {"call_id": "c1", "control_id": "k1", "play": []}
    rid = pair.conn.send_request("calling.play", start, pair.now)
    pair.flush()
    pair.send(result_frame(rid, {"code": "200"}))
    finished = {"control_id": "k1", "state": "finished"}
    events = pair.send(event_frame("e-1", "calling.call.play", finished))
    assert [type(e).__name__ for e in events] == ["PlayStateChanged", "ActionCompleted"]
    assert isinstance(events[0], PlayStateChanged)
    # An unknown control_id without a call_id is still dropped.
    stray = {"control_id": "zz", "state": "finished"}
    assert pair.send(event_frame("e-2", "calling.call.play", stray)) == []
