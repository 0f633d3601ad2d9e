"""Properties: chunking invariance and stateful interleavings (hypothesis)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from relay_proto import (
    AuthenticationFatal,
    AuthenticationRejected,
    ConnectionDead,
    Event,
    LocalProtocolError,
    QueueFullError,
    ReconnectScheduled,
    RequestCancelled,
    RequestFailed,
    RequestTimedOut,
    ResponseReceived,
    SessionAuthenticated,
    SessionState,
)

from .helpers import FakeServer, Pair, connect_result, error_frame, event_frame, request_frame

OUTCOMES = (ResponseReceived, RequestFailed, RequestTimedOut, RequestCancelled)


def _script(server: FakeServer) -> bytes:
    frames: list[Any] = [
        event_frame(
            "e-1",
            "calling.call.receive",
            {"call_id": "c1", "node_id": "n", "call_state": "created"},
        ),
        request_frame("pg", "signalwire.ping", {}),
        event_frame(
            "e-2", "calling.call.play", {"call_id": "c1", "control_id": "k", "state": "finished"}
        ),
        event_frame(
            "e-3",
            "calling.call.collect",
            {"call_id": "c1", "result": {"type": "digit", "params": {"digits": "5"}}},
        ),
        event_frame("e-4", "messaging.receive", {"message_id": "m", "body": "é" * 300}),
        event_frame("e-5", "calling.call.state", {"call_id": "c1", "call_state": "ended"}),
    ]
    data = b"".join(server.frame(f) for f in frames)
    return (
        data
        + server.text_bytes("garbage")
        + server.frame({"jsonrpc": "2.0", "id": "r-1", "result": connect_result()})
    )


def _run(splits: list[int]) -> tuple[list[Event], list[Any]]:
    pair = Pair()
    pair.conn.open_session(project="p", token="t")
    pair.conn.connection_made(pair.now)
    pair.flush()
    data = pair.server.take() + _script(pair.server)
    cuts = sorted({0, len(data), *(s % (len(data) + 1) for s in splits)})
    for start, end in itertools.pairwise(cuts):
        pair.conn.receive_data(data[start:end], pair.now)
    pair.drain()
    pair.flush()
    return pair.events, pair.sent


@pytest.mark.timeout(60)
@given(st.lists(st.integers(min_value=0, max_value=100_000), max_size=40))
def test_chunking_gives_same_events_and_output(splits: list[int]) -> None:
    assert _run(splits) == _run([])


def test_chunking_reference_run_is_meaningful() -> None:
    events, sent = _run([])
    assert any(isinstance(e, SessionAuthenticated) for e in events)
    assert len(events) >= 7
    assert [m.get("id") for m in sent if "result" in m] == ["e-1", "pg", "e-2", "e-3", "e-4", "e-5"]


class RelayMachine(RuleBasedStateMachine):
    """Random interleavings of server frames, drops, timer ticks and user requests."""

    def __init__(self) -> None:
        super().__init__()
        self.pair = Pair(max_queue=5, request_timeout=10.0, ping_interval=30.0)
        self.pair.conn.open_session(project="p", token="t", contexts=["office"])
        self.conn = self.pair.conn
        self.server: FakeServer | None = None
        self.socket_dead = False
        self.connect_id: str | None = None
        self.requests: set[str] = set()
        self.outcomes: dict[str, int] = {}
        self.on_wire: dict[str, str] = {}  # id -> method, answerable by this server
        self.ever_sent: set[str] = set()
        self.event_seq = 0
        self.authenticated_once = False
        self.rejections_before_success = 0
        self.rejections_total = 0
        self.reconnect_at: float | None = None

    # -- plumbing -----------------------------------------------------------

    def _events(self) -> None:
        for ev in self.pair.drain():
            if isinstance(ev, OUTCOMES):
                assert ev.request_id in self.requests, ev
                self.outcomes[ev.request_id] = self.outcomes.get(ev.request_id, 0) + 1
                self.on_wire.pop(ev.request_id, None)
            elif isinstance(ev, ConnectionDead):
                self.socket_dead = True
            elif isinstance(ev, ReconnectScheduled):
                assert 1.0 <= ev.delay <= 30.0
                self.reconnect_at = ev.at
            elif isinstance(ev, SessionAuthenticated):
                self.authenticated_once = True
            elif isinstance(ev, AuthenticationRejected):
                self.rejections_total += 1
                if not self.authenticated_once:
                    self.rejections_before_success += 1

    def _flush(self) -> list[dict[str, Any]]:
        if self.server is None:
            assert self.conn.data_to_send() == b""
            return []
        msgs = self.server.receive(self.conn.data_to_send())
        for m in msgs:
            method = m.get("method")
            if method == "signalwire.connect":
                self.connect_id = m["id"]
            elif method is not None:
                # No request id ever goes out twice, across all sockets.
                assert m["id"] not in self.ever_sent, m
                self.ever_sent.add(m["id"])
                self.on_wire[m["id"]] = method
        return msgs

    def _feed(self, data: bytes) -> None:
        self.conn.receive_data(data, self.pair.now)
        self._events()

    @property
    def live(self) -> bool:
        return self.server is not None and self.conn.state in (
            SessionState.AUTHENTICATING,
            SessionState.READY,
        )

    # -- rules --------------------------------------------------------------

    @precondition(lambda self: self.conn.state in (SessionState.IDLE, SessionState.BACKOFF))
    @rule(early=st.booleans())
    def open_socket(self, early: bool) -> None:
        if self.reconnect_at is not None and not early:
            self.pair.now = max(self.pair.now, self.reconnect_at)
        self.server = FakeServer()
        self.socket_dead = False
        self.on_wire.clear()
        self.connect_id = None
        self.conn.connection_made(self.pair.now)
        self._flush()
        self._feed(self.server.take())
        self._flush()

    @precondition(lambda self: self.conn.state in (SessionState.IDLE, SessionState.BACKOFF))
    @rule()
    def socket_open_fails(self) -> None:
        if self.reconnect_at is not None:
            self.pair.now = max(self.pair.now, self.reconnect_at)
        self.conn.connection_lost(self.pair.now, "refused")
        self._events()

    @precondition(lambda self: self.live and self.connect_id is not None and not self.socket_dead)
    @rule(accept=st.booleans())
    def answer_connect(self, accept: bool) -> None:
        assert self.server is not None
        assert self.connect_id is not None
        frame = (
            {"jsonrpc": "2.0", "id": self.connect_id, "result": connect_result()}
            if accept
            else error_frame(self.connect_id)
        )
        self.connect_id = None
        self._feed(self.server.frame(frame))
        self._flush()

    @rule(timeout=st.sampled_from([None, 1.0, 5.0, 40.0]))
    def user_request(self, timeout: float | None) -> None:
        try:
            rid = self.conn.send_request(
                "calling.answer", {"call_id": "c"}, self.pair.now, timeout=timeout
            )
        except QueueFullError:
            return
        except LocalProtocolError:
            assert self.conn.state in (
                SessionState.CLOSING,
                SessionState.CLOSED,
                SessionState.FAILED,
            )
            return
        assert rid not in self.requests
        self.requests.add(rid)
        self._flush()

    @precondition(lambda self: bool(self.on_wire) and not self.socket_dead and self.live)
    @rule(data=st.data(), kind=st.sampled_from(["ok", "fail", "error", "gone"]))
    def answer_request(self, data: st.DataObject, kind: str) -> None:
        assert self.server is not None
        rid = data.draw(st.sampled_from(sorted(self.on_wire)))
        method = self.on_wire.pop(rid)
        if kind == "ok":
            frame: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "result": {"code": "200"}}
        elif kind == "fail":
            frame = {"jsonrpc": "2.0", "id": rid, "result": {"code": "500"}}
        elif kind == "gone":
            frame = {"jsonrpc": "2.0", "id": rid, "result": {"code": "404"}}
        else:
            frame = error_frame(rid)
        del method
        self._feed(self.server.frame(frame))
        self._flush()

    @precondition(lambda self: self.server is not None)
    @rule(
        kind=st.sampled_from(
            ["event", "noid", "ping", "disconnect", "restart", "garbage", "unknown"]
        )
    )
    def server_frame(self, kind: str) -> None:
        assert self.server is not None
        if self.server.ws.state.name != "OPEN":
            return
        expect_ack: str | None = None
        self.event_seq += 1
        eid = f"ev-{self.event_seq}"
        if kind == "event":
            frame: Any = event_frame(eid, "calling.conference", {"conference_id": "x"})
            expect_ack = eid
        elif kind == "noid":
            frame = event_frame(None, "calling.conference", {})
        elif kind == "ping":
            frame = request_frame(eid, "signalwire.ping", {})
            expect_ack = eid
        elif kind in ("disconnect", "restart"):
            frame = request_frame(eid, "signalwire.disconnect", {"restart": kind == "restart"})
            expect_ack = eid
        elif kind == "unknown":
            frame = {"jsonrpc": "2.0", "id": "nobody", "result": {}}
        else:
            frame = "{not json"
        alive = self.live and not self.socket_dead
        before = len(self.server.texts)
        self._feed(
            self.server.text_bytes(frame) if isinstance(frame, str) else self.server.frame(frame)
        )
        self._flush()
        replies = [json.loads(t).get("id") for t in self.server.texts[before:] if '"result"' in t]
        if alive and expect_ack is not None:
            # ACKed (or answered) exactly once, with exactly the id.
            assert replies.count(expect_ack) == 1, (replies, expect_ack)
        else:
            assert expect_ack not in replies

    @precondition(lambda self: self.server is not None)
    @rule()
    def drop(self) -> None:
        self.server = None
        self.on_wire.clear()
        self.conn.connection_lost(self.pair.now, "dropped")
        self._events()

    @precondition(lambda self: self.server is not None and not self.socket_dead)
    @rule()
    def server_closes_socket(self) -> None:
        self._feed(b"")
        assert self.socket_dead or self.conn.state in (SessionState.CLOSED, SessionState.FAILED)

    @rule(step=st.sampled_from([0.5, 3.0, 11.0, 31.0, None]))
    def tick(self, step: float | None) -> None:
        timer = self.conn.get_timer()
        if step is None:
            if timer is None:
                return
            self.pair.now = max(self.pair.now, timer)
        else:
            self.pair.now += step
        self.conn.handle_timer(self.pair.now)
        after = self.conn.get_timer()
        assert after is None or after > self.pair.now
        self._events()
        self._flush()

    @rule()
    def user_close(self) -> None:
        if self.conn.state is SessionState.FAILED:
            return
        self.conn.close(self.pair.now)
        self._events()
        self._flush()
        if self.server is not None:
            self._feed(self.server.take())

    # -- invariants ---------------------------------------------------------

    @invariant()
    def at_most_one_outcome(self) -> None:
        assert all(n == 1 for n in self.outcomes.values()), self.outcomes

    @invariant()
    def queue_flushed_when_ready(self) -> None:
        # Once authenticated, every request still waiting for an outcome has gone out.
        if self.conn.is_ready:
            waiting = self.requests - set(self.outcomes)
            assert waiting <= self.ever_sent, waiting - self.ever_sent

    @invariant()
    def auth_rejection_bounded(self) -> None:
        assert self.rejections_before_success <= 3
        if self.rejections_before_success == 3 and not self.authenticated_once:
            assert self.conn.state is SessionState.FAILED
            assert any(isinstance(e, AuthenticationFatal) for e in self.pair.events)

    @invariant()
    def timer_not_before_now_when_idle_states(self) -> None:
        if self.conn.state in (SessionState.CLOSED, SessionState.FAILED):
            assert self.conn.get_timer() is None

    def teardown(self) -> None:
        # Closing gives every remaining request its single outcome: none lost.
        self.conn.close(self.pair.now)
        self._events()
        missing = self.requests - set(self.outcomes)
        assert not missing, missing
        assert all(n == 1 for n in self.outcomes.values())


TestRelayMachine = RelayMachine.TestCase
TestRelayMachine.settings = settings(stateful_step_count=40)
TestRelayMachine = pytest.mark.timeout(120)(TestRelayMachine)
