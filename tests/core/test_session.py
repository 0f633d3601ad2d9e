"""Session rules (protocol reference §3), bytes in / bytes out against a scripted server."""

from __future__ import annotations

import logging

import pytest

from relay_proto import (
    AuthenticationFatal,
    AuthenticationRejected,
    AuthorizationStateUpdated,
    ConnectionClosed,
    ConnectionDead,
    LocalProtocolError,
    ProtocolErrorReceived,
    QueueFullError,
    ReconnectScheduled,
    RelayConnection,
    RequestCancelled,
    RequestFailed,
    RequestTimedOut,
    ResponseReceived,
    ServerDisconnectRequested,
    SessionAuthenticated,
    SessionState,
)

from .helpers import (
    AUTH_STATE,
    PROJECT,
    TOKEN,
    Pair,
    connect_result,
    error_frame,
    event_frame,
    request_frame,
    result_frame,
)

pytestmark = pytest.mark.timeout(10)


def test_connect_params_exact() -> None:
    pair = Pair(contexts=["office", "sales"])
    connect = pair.open()
    assert connect == {
        "jsonrpc": "2.0",
        "id": "r-1",
        "method": "signalwire.connect",
        "params": {
            "version": {"major": 2, "minor": 0, "revision": 0},
            "agent": "relaykit/0.1.0",
            "event_acks": True,
            "authentication": {"project": PROJECT, "token": TOKEN},
            "contexts": ["office", "sales"],
        },
    }
    assert pair.conn.state is SessionState.AUTHENTICATING
    assert pair.server.request is not None
    assert pair.server.request.host == "relay.test"
    assert pair.server.request.target == "/"


def test_jwt_and_no_contexts() -> None:
    pair = Pair(contexts=[], agent="my-agent/2")
    connect = pair.open(project=None, token=None, jwt_token="JWT")
    assert connect["params"]["authentication"] == {"jwt_token": "JWT"}
    assert "contexts" not in connect["params"]
    assert connect["params"]["agent"] == "my-agent/2"


def test_authenticated_captures_protocol_identity() -> None:
    pair = Pair()
    auth = pair.authenticate()
    assert auth.protocol == "signalwire_abc_1"
    assert auth.identity == f"{PROJECT}@relay"
    assert auth.session_restored is False
    assert pair.conn.state is SessionState.READY
    assert pair.conn.is_ready
    assert pair.conn.protocol == "signalwire_abc_1"
    assert pair.conn.identity == f"{PROJECT}@relay"


def test_connect_result_not_code_checked() -> None:
    pair = Pair()
    connect = pair.open()
    result = {"code": "500", "message": "weird", "protocol": "signalwire_x"}
    auth = pair.answer_connect(connect, result)
    assert auth.protocol == "signalwire_x"
    assert pair.conn.is_ready


def test_event_ack_exact_id_before_processing() -> None:
    pair = Pair()
    pair.authenticate()
    events = pair.send(
        event_frame("e-77", "calling.conference", {"conference_id": "cf"}),
        event_frame(42, "calling.conference", {"conference_id": "cf2"}),
        event_frame(None, "calling.conference", {"conference_id": "cf3"}),
    )
    assert len(events) == 3
    assert pair.flush() == [
        {"jsonrpc": "2.0", "id": "e-77", "result": {}},
        {"jsonrpc": "2.0", "id": 42, "result": {}},
    ]


def test_ack_even_for_bad_envelope() -> None:
    pair = Pair()
    pair.authenticate()
    events = pair.send(request_frame("e-1", "signalwire.event", {"params": {}}))
    assert isinstance(events[0], ProtocolErrorReceived)
    events = pair.send(request_frame("e-2", "signalwire.event", {"event_type": "x", "params": 3}))
    assert isinstance(events[0], ProtocolErrorReceived)
    assert [m["id"] for m in pair.flush()] == ["e-1", "e-2"]


def test_authorization_state_stored_and_resumed_never_emitted() -> None:
    pair = Pair()
    pair.authenticate()
    events = pair.send(
        event_frame("e-1", "signalwire.authorization.state", {"authorization_state": AUTH_STATE})
    )
    assert isinstance(events[0], AuthorizationStateUpdated)
    assert events[0].params == {}
    assert AUTH_STATE not in repr(pair.events)
    # An empty state does not overwrite the stored one.
    pair.send(event_frame("e-2", "signalwire.authorization.state", {"authorization_state": ""}))
    pair.flush()
    sched = pair.drop()
    pair.now = sched.at
    connect = pair.reconnect_socket()
    assert connect["params"]["protocol"] == "signalwire_abc_1"
    assert connect["params"]["authorization_state"] == AUTH_STATE
    auth = pair.answer_connect(connect, connect_result(restored=True))
    assert auth.session_restored is True


def test_server_ping_answered_and_resets_failures() -> None:
    pair = Pair()
    pair.authenticate()
    assert pair.send(request_frame("pg-9", "signalwire.ping", {"timestamp": 1.0})) == []
    assert pair.flush() == [{"jsonrpc": "2.0", "id": "pg-9", "result": {}}]


def test_client_ping_interval_and_three_failures() -> None:
    pair = Pair(ping_interval=30.0)
    pair.authenticate()
    start = pair.now
    assert pair.conn.get_timer() == start + 30.0
    pair.tick()
    (ping,) = pair.flush()
    assert ping["method"] == "signalwire.ping"
    assert ping["params"] == {}
    pair.send(result_frame(ping["id"], {"timestamp": 5.0}))
    assert pair.conn.get_timer() == pair.now + 30.0
    # Three consecutive failures -> dead.  Waits 2 s then 4 s between them.
    pair.tick()
    waits = []
    for _ in range(3):
        (ping,) = pair.flush()
        pair.send(error_frame(ping["id"], -32000, "busy"))
        timer = pair.conn.get_timer()
        if timer is not None and not pair.dead_events():
            waits.append(timer - pair.now)
            pair.tick()
    assert waits == [2.0, 4.0]
    assert [e.reason for e in pair.dead_events()] == ["3 consecutive signalwire.ping failures"]


def test_server_ping_resets_ping_failure_counter() -> None:
    pair = Pair()
    pair.authenticate()
    for _ in range(4):
        pair.tick()
        (ping,) = pair.flush()
        pair.send(error_frame(ping["id"]))
        pair.send(request_frame("sp", "signalwire.ping", {}))
        pair.flush()
    assert pair.dead_events() == []


def test_ping_timeout_declares_dead() -> None:
    pair = Pair(request_timeout=10.0)
    pair.authenticate()
    pair.tick()
    pair.flush()
    pair.tick()
    assert [e.reason for e in pair.dead_events()] == [
        "signalwire.ping timed out (half-open connection suspected)"
    ]


def test_response_success_codes() -> None:
    pair = Pair()
    pair.authenticate()
    ids = [pair.conn.send_request("calling.answer", {"call_id": "c"}, pair.now) for _ in range(4)]
    pair.flush()
    pair.send(
        result_frame(ids[0], {"code": "200", "message": "ok"}),
        result_frame(ids[1], {"code": 204}),
        result_frame(ids[2], {}),
        result_frame(ids[3], [1, 2]),
    )
    got = [e for e in pair.events if isinstance(e, ResponseReceived)]
    assert [e.request_id for e in got] == ids
    assert got[3].result == {"raw": [1, 2]}
    assert got[0].method == "calling.answer"


@pytest.mark.parametrize(
    ("method", "code", "gone"),
    [
        ("calling.answer", "404", True),
        ("calling.play", "410", True),
        ("calling.answer", "409", False),
        ("calling.dial", "404", False),
        ("messaging.send", "404", False),
        ("calling.end", "abc", False),
    ],
)
def test_result_failures_and_call_gone(method: str, code: str, gone: bool) -> None:
    pair = Pair()
    pair.authenticate()
    rid = pair.conn.send_request(method, {"call_id": "c", "control_id": "x", "tag": "t"}, pair.now)
    pair.flush()
    pair.send(result_frame(rid, {"code": code, "message": "Call not found"}))
    (failed,) = [e for e in pair.events if isinstance(e, RequestFailed)]
    assert failed.request_id == rid
    assert failed.code == (int(code) if code.isdigit() else -1)
    assert failed.message == "Call not found"
    assert failed.call_gone is gone
    assert failed.result is not None


def test_jsonrpc_error_and_404_from_either_layer() -> None:
    pair = Pair()
    pair.authenticate()
    rid = pair.conn.send_request("calling.end", {"call_id": "c"}, pair.now)
    rid2 = pair.conn.send_request("calling.end", {"call_id": "c"}, pair.now)
    pair.flush()
    pair.send(error_frame(rid, -32602, "Invalid params"), error_frame(rid2, 404, "gone"))
    failed = [e for e in pair.events if isinstance(e, RequestFailed)]
    assert (failed[0].code, failed[0].message, failed[0].call_gone) == (
        -32602,
        "Invalid params",
        False,
    )
    assert failed[1].call_gone is True


def test_response_to_unknown_id_is_protocol_error() -> None:
    pair = Pair()
    pair.authenticate()
    events = pair.send(result_frame("nobody", {}), error_frame(None, -32700, "Parse error"))
    assert [type(e) for e in events] == [ProtocolErrorReceived, ProtocolErrorReceived]


def test_request_timeout_declares_half_open() -> None:
    pair = Pair()
    pair.authenticate()
    rid = pair.conn.send_request("calling.answer", {}, pair.now, timeout=2.0)
    pair.flush()
    assert pair.conn.get_timer() == pair.now + 2.0
    events = pair.tick()
    assert events[0] == RequestTimedOut(request_id=rid, method="calling.answer", timeout=2.0)
    assert isinstance(events[1], ConnectionDead)
    assert not pair.conn.is_ready
    # A late response is only a protocol error; the request already had its outcome.
    assert pair.send(result_frame(rid, {})) == []  # dead socket: input ignored


def test_get_timer_never_in_past_after_handle() -> None:
    pair = Pair()
    pair.authenticate()
    for i in range(5):
        pair.conn.send_request("calling.answer", {}, pair.now + i, timeout=1.0 + i)
    pair.flush()
    while (t := pair.conn.get_timer()) is not None and not pair.dead_events():
        pair.tick(t)
        after = pair.conn.get_timer()
        assert after is None or after > pair.now


def test_offline_queue_fifo_same_ids_sent_once() -> None:
    pair = Pair(max_queue=3)
    pair.conn.open_session(project=PROJECT, token=TOKEN)
    ids = [pair.conn.send_request("calling.answer", {"n": i}, pair.now) for i in range(3)]
    with pytest.raises(QueueFullError) as info:
        pair.conn.send_request("calling.answer", {}, pair.now)
    assert info.value.code == -1
    connect = pair.reconnect_socket()
    # Nothing but connect goes out before authentication.
    assert [m["method"] for m in pair.sent] == ["signalwire.connect"]
    pair.answer_connect(connect)
    flushed = pair.flush()
    assert [m["id"] for m in flushed] == ids
    assert [m["params"]["n"] for m in flushed] == [0, 1, 2]
    # After a drop, answered ones are not re-sent.
    pair.send(result_frame(ids[0], {}))
    pair.drop()
    assert [e.request_id for e in pair.events if isinstance(e, RequestCancelled)] == ids[1:]


def test_queued_timeout_keeps_running_and_frees_slot() -> None:
    pair = Pair(max_queue=1)
    pair.conn.open_session(project=PROJECT, token=TOKEN)
    rid = pair.conn.send_request("calling.answer", {}, pair.now, timeout=3.0)
    events = pair.tick()
    # It timed out in the offline queue: it never left, so it is safe to retry.
    assert events == [
        RequestTimedOut(request_id=rid, method="calling.answer", timeout=3.0, sent=False)
    ]
    rid2 = pair.conn.send_request("calling.answer", {}, pair.now)
    connect = pair.reconnect_socket()
    pair.answer_connect(connect)
    assert [m["id"] for m in pair.flush()] == [rid2]


def test_requests_during_authenticating_are_queued() -> None:
    pair = Pair()
    connect = pair.open()
    rid = pair.conn.send_request("calling.answer", {}, pair.now)
    assert pair.flush() == []
    pair.answer_connect(connect)
    assert [m["id"] for m in pair.flush()] == [rid]


def test_drop_cancels_in_flight_and_schedules_backoff() -> None:
    pair = Pair()
    pair.authenticate()
    rid = pair.conn.send_request("calling.answer", {}, pair.now)
    pair.flush()
    sched = pair.drop("socket reset")
    # It was on the wire: the server may have run it.
    assert RequestCancelled(
        request_id=rid, method="calling.answer", reason="socket reset", sent=True
    ) in (pair.events)
    closed = [e for e in pair.events if isinstance(e, ConnectionClosed)]
    assert closed == [ConnectionClosed(reason="socket reset", will_reconnect=True)]
    assert sched == ReconnectScheduled(at=pair.now + 1.0, delay=1.0, attempt=1)
    assert pair.conn.state is SessionState.BACKOFF
    # A duplicate connection_lost for the same socket does nothing.
    pair.conn.connection_lost(pair.now)
    assert pair.drain() == []


def test_backoff_doubles_to_30_and_an_open_socket_does_not_reset_it() -> None:
    pair = Pair()
    pair.authenticate()
    sched = pair.drop()
    delays = [sched.delay]
    for _ in range(7):
        pair.now = sched.at
        pair.tick(sched.at)
        # The attempt to open a socket fails.
        sched = pair.drop("refused")
        delays.append(sched.delay)
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    pair.now = sched.at
    # A WebSocket that opens and dies before authenticating is one more failure
    # (the official client would reset to 1 s here).
    pair.reconnect_socket()
    pair.conn.connection_lost(pair.now)
    (resched,) = [e for e in pair.drain() if isinstance(e, ReconnectScheduled)]
    assert resched.delay == 30.0


def test_backoff_jitter_documented_and_capped() -> None:
    pair = Pair(jitter=lambda: 0.999)
    pair.authenticate()
    sched = pair.drop()
    assert sched.delay == pytest.approx(1.0999)
    for _ in range(6):
        pair.now = sched.at
        sched = pair.drop()
        assert 1.0 <= sched.delay <= 30.0
    assert sched.delay == 30.0


def test_backoff_bounds_are_configurable() -> None:
    pair = Pair(reconnect_min_delay=0.25, reconnect_max_delay=1.5)
    pair.authenticate()
    sched = pair.drop()
    delays = [sched.delay]
    for _ in range(4):
        pair.now = sched.at
        sched = pair.drop("refused")
        delays.append(sched.delay)
    assert delays == [0.25, 0.5, 1.0, 1.5, 1.5]
    # A tiny minimum still reaches the cap (no doubling limit below it).
    pair = Pair(reconnect_min_delay=1e-9, reconnect_max_delay=30.0)
    pair.authenticate()
    sched = pair.drop()
    for _ in range(40):
        pair.now = sched.at
        sched = pair.drop("refused")
    assert sched.delay == 30.0


@pytest.mark.parametrize(
    "delays",
    [
        {"reconnect_min_delay": 0},
        {"reconnect_min_delay": -1.0},
        {"reconnect_max_delay": float("nan")},
        {"reconnect_max_delay": "30"},
        {"reconnect_min_delay": 2.0, "reconnect_max_delay": 1.0},
    ],
)
def test_backoff_bounds_are_validated(delays: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError, match="reconnect_m"):
        RelayConnection(**delays)  # type: ignore[arg-type]


def test_bad_jitter_values_are_ignored() -> None:
    pair = Pair(jitter=lambda: float("nan"))
    pair.authenticate()
    assert pair.drop().delay == 1.0


def test_auth_rejected_three_times_is_fatal() -> None:
    pair = Pair()
    rid = pair.conn.send_request("calling.answer", {}, pair.now)
    connect = pair.open()
    for attempt in (1, 2):
        events = pair.send(error_frame(connect["id"], -32000, "Authentication failed"))
        assert events[0] == AuthenticationRejected(
            code=-32000, message="Authentication failed", attempt=attempt
        )
        assert isinstance(events[1], ConnectionDead)
        sched = pair.drop()
        # A rejected session is a failed attempt: the delays keep growing.
        assert sched.delay == float(attempt)
        pair.now = sched.at
        connect = pair.reconnect_socket()
    events = pair.send(error_frame(connect["id"], -32000, "Authentication failed"))
    assert [type(e) for e in events] == [
        AuthenticationRejected,
        RequestCancelled,
        AuthenticationFatal,
    ]
    assert events[1] == RequestCancelled(
        request_id=rid, method="calling.answer", reason="authentication failed", sent=False
    )
    assert pair.conn.state is SessionState.FAILED
    assert pair.server.receive(pair.conn.data_to_send()) == []
    assert pair.server.closed_code == 1000
    pair.conn.connection_lost(pair.now)
    assert pair.drain() == []
    with pytest.raises(LocalProtocolError):
        pair.conn.connection_made(pair.now)
    with pytest.raises(LocalProtocolError):
        pair.conn.send_request("calling.answer", {}, pair.now)


def test_connect_timeout_counts_as_rejection() -> None:
    pair = Pair()
    pair.open()
    events = pair.tick()
    assert events[0] == AuthenticationRejected(
        code=-1, message="signalwire.connect timed out", attempt=1
    )
    assert isinstance(events[1], ConnectionDead)


def test_rejections_after_success_are_never_fatal() -> None:
    pair = Pair()
    pair.authenticate()
    for _ in range(5):
        sched = pair.drop()
        pair.now = sched.at
        connect = pair.reconnect_socket()
        assert "protocol" not in connect["params"] or connect["params"]["protocol"]
        pair.send(error_frame(connect["id"]))
    assert not any(isinstance(e, AuthenticationFatal) for e in pair.events)
    assert pair.conn.state is SessionState.AUTHENTICATING


def test_rejected_resume_retries_fresh() -> None:
    pair = Pair()
    pair.authenticate()
    pair.now = pair.drop().at
    connect = pair.reconnect_socket()
    assert connect["params"]["protocol"] == "signalwire_abc_1"
    pair.send(error_frame(connect["id"]))
    pair.now = pair.drop().at
    connect = pair.reconnect_socket()
    assert "protocol" not in connect["params"]


@pytest.mark.parametrize("restart", [False, True])
def test_server_disconnect(restart: bool) -> None:
    pair = Pair()
    pair.authenticate()
    pair.send(
        event_frame("e-1", "signalwire.authorization.state", {"authorization_state": AUTH_STATE})
    )
    events = pair.send(request_frame("d-1", "signalwire.disconnect", {"restart": restart}))
    assert events == [ServerDisconnectRequested(restart=restart)]
    assert pair.flush()[-1] == {"jsonrpc": "2.0", "id": "d-1", "result": {}}
    # Not a user close: requests queue, and the client reconnects with backoff.
    assert pair.conn.state is SessionState.READY
    assert not pair.conn.is_ready
    rid = pair.conn.send_request("calling.answer", {}, pair.now)
    assert pair.flush() == []
    sched = pair.drop()
    assert sched.delay == 1.0
    pair.now = sched.at
    connect = pair.reconnect_socket()
    if restart:
        assert "protocol" not in connect["params"]
        assert "authorization_state" not in connect["params"]
    else:
        assert connect["params"]["protocol"] == "signalwire_abc_1"
        assert connect["params"]["authorization_state"] == AUTH_STATE
    pair.answer_connect(connect)
    assert [m["id"] for m in pair.flush()] == [rid]


def test_unknown_server_method_answered_and_reported() -> None:
    pair = Pair()
    pair.authenticate()
    events = pair.send(request_frame("x-1", "signalwire.mystery", {}))
    assert isinstance(events[0], ProtocolErrorReceived)
    assert pair.flush() == [{"jsonrpc": "2.0", "id": "x-1", "result": {}}]


def test_subscribe_unsubscribe_remembered_for_reconnect() -> None:
    pair = Pair(contexts=["office"])
    pair.authenticate()
    rid = pair.conn.subscribe(["sales", "office"], pair.now)
    (msg,) = pair.flush()
    assert msg == {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "signalwire.receive",
        "params": {"contexts": ["sales", "office"]},
    }
    pair.conn.unsubscribe(["office"], pair.now)
    (msg,) = pair.flush()
    assert msg["method"] == "signalwire.unreceive"
    assert pair.conn.contexts == ["sales"]
    pair.now = pair.drop().at
    assert pair.reconnect_socket()["params"]["contexts"] == ["sales"]
    with pytest.raises(LocalProtocolError):
        pair.conn.subscribe([], pair.now)
    with pytest.raises(LocalProtocolError):
        pair.conn.subscribe("sales", pair.now)


def test_user_close_cancels_all_and_closes_websocket() -> None:
    pair = Pair()
    pair.authenticate()
    sent = pair.conn.send_request("calling.answer", {}, pair.now)
    pair.flush()
    pair.conn.close(pair.now)
    assert pair.conn.state is SessionState.CLOSING
    assert pair.drain() == [
        RequestCancelled(
            request_id=sent, method="calling.answer", reason="connection closed by the client"
        )
    ]
    pair.flush()
    assert pair.server.closed_code == 1000
    events = pair.feed(pair.server.take())
    assert events == [ConnectionClosed(reason="closed by the client", will_reconnect=False)]
    assert pair.conn.state is SessionState.CLOSED
    assert pair.conn.get_timer() is None
    pair.conn.close(pair.now)
    pair.conn.connection_lost(pair.now)
    assert pair.drain() == []
    with pytest.raises(LocalProtocolError):
        pair.conn.send_request("calling.answer", {}, pair.now)


def test_close_times_out_without_server_reply() -> None:
    pair = Pair()
    pair.authenticate()
    pair.conn.close(pair.now)
    events = pair.tick()
    assert events == [ConnectionClosed(reason="close handshake timed out", will_reconnect=False)]


def test_close_while_offline_is_immediate() -> None:
    pair = Pair()
    pair.conn.open_session(project=PROJECT, token=TOKEN)
    rid = pair.conn.send_request("calling.answer", {}, pair.now)
    pair.conn.close(pair.now)
    assert pair.drain() == [
        RequestCancelled(
            request_id=rid,
            method="calling.answer",
            reason="connection closed by the client",
            sent=False,
        ),
        ConnectionClosed(reason="closed by the client", will_reconnect=False),
    ]


def test_local_protocol_errors() -> None:
    pair = Pair()
    with pytest.raises(LocalProtocolError, match="open_session"):
        pair.conn.connection_made(pair.now)
    with pytest.raises(LocalProtocolError, match="connection_made"):
        pair.conn.receive_data(b"x", pair.now)
    with pytest.raises(LocalProtocolError, match="project and token"):
        pair.conn.open_session(project="p")
    pair.conn.open_session(project="p", token="t")
    with pytest.raises(LocalProtocolError, match="once"):
        pair.conn.open_session(project="p", token="t")
    with pytest.raises(LocalProtocolError, match=r"signalwire\.connect"):
        pair.conn.send_request("signalwire.connect", {}, pair.now)
    with pytest.raises(LocalProtocolError, match="non-empty"):
        pair.conn.send_request("", {}, pair.now)
    with pytest.raises(LocalProtocolError, match="mapping"):
        pair.conn.send_request("calling.answer", [], pair.now)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="JSON"):
        pair.conn.send_request("calling.answer", {"x": object()}, pair.now)
    with pytest.raises(LocalProtocolError, match="timeout"):
        pair.conn.send_request("calling.answer", {}, pair.now, timeout=0)
    with pytest.raises(LocalProtocolError, match="receive_data"):
        pair.conn.receive_text("{}", pair.now)
    pair.conn.connection_made(pair.now)
    with pytest.raises(LocalProtocolError, match="CONNECTING"):
        pair.conn.connection_made(pair.now)
    with pytest.raises(LocalProtocolError):
        Pair(host="a/b")
    with pytest.raises(LocalProtocolError):
        Pair(max_queue=0)


def test_duplicate_make_id_is_a_clear_error() -> None:
    pair = Pair(make_id=lambda: "same")
    pair.conn.open_session(project="p", token="t")
    pair.conn.send_request("calling.answer", {}, pair.now)
    with pytest.raises(LocalProtocolError, match="still pending"):
        pair.conn.send_request("calling.answer", {}, pair.now)


def test_websocket_false_mode_texts() -> None:
    from relay_proto import RelayConnection

    conn = RelayConnection(websocket=False, make_id=iter(["a", "b", "c"]).__next__)
    conn.open_session(project="p", token="t")
    conn.connection_made(0.0)
    (text,) = conn.texts_to_send()
    assert '"method":"signalwire.connect"' in text
    conn.receive_text('{"jsonrpc":"2.0","id":"a","result":{"protocol":"signalwire_q"}}', 0.0)
    assert isinstance(conn.next_event(), SessionAuthenticated)
    conn.receive_text(
        '{"jsonrpc":"2.0","id":"e","method":"signalwire.event","params":'
        '{"event_type":"calling.conference","params":{}}}',
        0.0,
    )
    assert conn.texts_to_send() == ['{"jsonrpc":"2.0","id":"e","result":{}}']
    assert conn.data_to_send() == b""
    with pytest.raises(LocalProtocolError):
        conn.receive_data(b"", 0.0)
    conn.close(0.0)
    assert conn.state is SessionState.CLOSED


def test_credentials_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="relaykit")
    pair = Pair()
    connect = pair.open()
    pair.send(error_frame(connect["id"], -32000, "Authentication failed"))
    pair.now = pair.drop().at
    connect = pair.reconnect_socket()
    pair.answer_connect(connect)
    pair.send(
        event_frame("e-1", "signalwire.authorization.state", {"authorization_state": AUTH_STATE}),
        '{"jsonrpc":"2.0","method":"signalwire.event","params":{"authorization_state":"'
        + AUTH_STATE
        + '"}',
    )
    pair.tick()
    text = caplog.text + repr(pair.events)
    assert TOKEN not in text
    assert AUTH_STATE not in text
    assert "QUJDRA" not in text
