"""Stateful routing property: actions and dials complete exactly once, whatever the order."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from relay_proto import ACTION_KINDS, ActionCompleted, CallDropped, DialCompleted

from .helpers import Pair, event_frame, result_frame

CALLS = ["c1", "c2", "c3"]
METHODS = sorted(ACTION_KINDS)
# Event shapes that may (or may not) be terminal for some kind.
EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("calling.call.play", {"state": "playing"}),
    ("calling.call.play", {"state": "finished"}),
    ("calling.call.record", {"state": "no_input"}),
    ("calling.call.collect", {"final": False, "result": {"type": "speech"}}),
    ("calling.call.collect", {"result": {"type": "digit", "params": {"digits": "1"}}}),
    ("calling.call.detect", {"detect": {"type": "machine", "params": {"event": "READY"}}}),
    ("calling.call.detect", {"detect": {"type": "machine", "params": {"event": "HUMAN"}}}),
    ("calling.call.fax", {"fax": {"type": "finished"}}),
    ("calling.call.tap", {"state": "finished"}),
    ("calling.call.stream", {"state": "finished"}),
    ("calling.call.pay", {"state": "error"}),
    ("calling.call.ai", {"state": "finished"}),
    ("calling.call.send_digits", {"state": "finished"}),
    ("calling.call.transcribe", {"state": "finished"}),
    ("calling.call.queue", {"status": "leave"}),
]


class RoutingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.pair = Pair(max_active_calls=2)
        self.pair.authenticate()
        self.seq = 0
        self.live_calls: set[str] = set()
        self.actions: dict[str, str] = {}  # control_id -> call_id
        self.start_requests: dict[str, str] = {}  # request id -> control_id
        self.dials: dict[str, str] = {}  # tag -> request id
        self.completed: dict[str, int] = {}
        self.dials_completed: dict[str, int] = {}

    def _id(self) -> str:
        self.seq += 1
        return f"e-{self.seq}"

    def _send(self, event_type: str, params: dict[str, Any]) -> None:
        for ev in self.pair.send(event_frame(self._id(), event_type, params)):
            self._record(ev)
        self.pair.flush()

    def _record(self, ev: object) -> None:
        if isinstance(ev, ActionCompleted):
            self.completed[ev.control_id] = self.completed.get(ev.control_id, 0) + 1
            assert self.actions.get(ev.control_id) == ev.call_id
        elif isinstance(ev, DialCompleted):
            self.dials_completed[ev.tag] = self.dials_completed.get(ev.tag, 0) + 1
        elif isinstance(ev, CallDropped):
            self.live_calls.discard(ev.call_id)

    @rule(call_id=st.sampled_from(CALLS))
    def receive_call(self, call_id: str) -> None:
        self.live_calls.add(call_id)
        self._send(
            "calling.call.receive", {"call_id": call_id, "node_id": "n", "call_state": "created"}
        )
        if call_id not in self.pair.conn.calls:
            self.live_calls.discard(call_id)

    @rule(call_id=st.sampled_from(CALLS), method=st.sampled_from(METHODS))
    def start_action(self, call_id: str, method: str) -> None:
        control_id = f"k{self.seq}-{method}"
        self.seq += 1
        rid = self.pair.conn.send_request(
            method, {"call_id": call_id, "node_id": "n", "control_id": control_id}, self.pair.now
        )
        self.actions[control_id] = call_id
        self.start_requests[rid] = control_id
        self.pair.flush()

    @precondition(lambda self: bool(self.start_requests))
    @rule(data=st.data(), code=st.sampled_from(["200", "200", "404", "410", "500"]))
    def answer_start(self, data: st.DataObject, code: str) -> None:
        rid = data.draw(st.sampled_from(sorted(self.start_requests)))
        del self.start_requests[rid]
        for ev in self.pair.send(result_frame(rid, {"code": code})):
            self._record(ev)

    @precondition(lambda self: bool(self.actions))
    @rule(data=st.data(), shape=st.sampled_from(EVENTS))
    def action_event(self, data: st.DataObject, shape: tuple[str, dict[str, Any]]) -> None:
        control_id = data.draw(st.sampled_from(sorted(self.actions)))
        event_type, params = shape
        self._send(
            event_type, {"call_id": self.actions[control_id], "control_id": control_id, **params}
        )

    @rule(call_id=st.sampled_from(CALLS))
    def end_call(self, call_id: str) -> None:
        known = call_id in self.pair.conn.calls
        pending = [
            k for k, c in self.actions.items() if c == call_id and self.completed.get(k, 0) == 0
        ]
        self._send("calling.call.state", {"call_id": call_id, "call_state": "ended"})
        if known:
            # Every action still pending on the call completes when it ends.
            assert all(self.completed.get(k, 0) == 1 for k in pending), pending
            self.live_calls.discard(call_id)
        assert call_id not in self.pair.conn.calls

    @rule(tag=st.sampled_from(["t1", "t2"]))
    def dial(self, tag: str) -> None:
        if tag in self.dials and self.dials_completed.get(tag, 0) == 0:
            return  # one dial per tag at a time, like the object model
        self.dials_completed.pop(tag, None)
        self.dials[tag] = self.pair.conn.send_request("calling.dial", {"tag": tag}, self.pair.now)
        self.pair.flush()

    @rule(
        tag=st.sampled_from(["t1", "t2"]), state=st.sampled_from(["dialing", "answered", "failed"])
    )
    def dial_event(self, tag: str, state: str) -> None:
        self._send(
            "calling.call.dial", {"tag": tag, "dial_state": state, "call": {"call_id": f"w-{tag}"}}
        )

    @invariant()
    def exactly_once(self) -> None:
        assert all(n == 1 for n in self.completed.values()), self.completed
        assert all(n == 1 for n in self.dials_completed.values()), self.dials_completed

    @invariant()
    def registry_is_consistent(self) -> None:
        registry = self.pair.conn.calls
        # The cap (2) holds for inbound calls; ended calls never linger.
        assert len([c for c in registry if c in CALLS]) <= 2
        assert "ended" not in {c.state for c in registry.values()}
        assert set(registry) & set(CALLS) == self.live_calls


TestRoutingMachine = RoutingMachine.TestCase
TestRoutingMachine.settings = settings(stateful_step_count=40)
TestRoutingMachine = pytest.mark.timeout(120)(TestRoutingMachine)
