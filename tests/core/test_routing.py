"""Call, action and dial bookkeeping (protocol reference §3.3, §5.3, §6, §9)."""

from __future__ import annotations

from typing import Any

import pytest

from relay_proto import (
    ActionCompleted,
    CallDropped,
    CallReceived,
    CallStateChanged,
    CollectResultReceived,
    DetectResultReceived,
    DialCompleted,
    DialStateChanged,
    FaxStateChanged,
    MessageStateChanged,
    PlayStateChanged,
    RelayConnection,
    RequestFailed,
    UnknownEventReceived,
)
from relay_proto._routing import Router

from .helpers import Ids, Pair, connect_result, event_frame, result_frame

pytestmark = pytest.mark.timeout(10)


def ready(**kwargs: Any) -> tuple[Pair, Ids]:
    pair = Pair(**kwargs)
    pair.authenticate()
    pair.events.clear()
    return pair, Ids()


def receive_call(pair: Pair, ids: Ids, call_id: str = "c1") -> None:
    pair.send(
        event_frame(
            ids(),
            "calling.call.receive",
            {"call_id": call_id, "node_id": "n1", "call_state": "created", "context": "office"},
        )
    )


def state(pair: Pair, ids: Ids, call_id: str, call_state: str, **extra: Any) -> list[Any]:
    params = {"call_id": call_id, "node_id": "n1", "call_state": call_state, **extra}
    return pair.send(event_frame(ids(), "calling.call.state", params))


def test_call_registry_lifecycle() -> None:
    pair, ids = ready()
    receive_call(pair, ids)
    info = pair.conn.calls["c1"]
    assert (info.call_id, info.node_id, info.state, info.context) == (
        "c1",
        "n1",
        "created",
        "office",
    )
    state(pair, ids, "c1", "answered")
    assert pair.conn.calls["c1"].state == "answered"
    # States are monotonic: a late "ringing" does not move the call back.
    state(pair, ids, "c1", "ringing")
    assert pair.conn.calls["c1"].state == "answered"
    events = state(pair, ids, "c1", "ended", end_reason="hangup")
    assert isinstance(events[0], CallStateChanged)
    assert events[0].end_reason == "hangup"
    assert "c1" not in pair.conn.calls
    with pytest.raises(TypeError):
        pair.conn.calls["x"] = info  # type: ignore[index]


def test_events_for_unknown_calls_dropped_but_acked() -> None:
    pair, ids = ready()
    assert state(pair, ids, "ghost", "ringing") == []
    params = {"call_id": "ghost", "control_id": "x", "state": "playing"}
    assert pair.send(event_frame(ids(), "calling.call.play", params)) == []
    assert len(pair.flush()) == 2


def test_max_active_calls_drops_with_ack() -> None:
    pair, ids = ready(max_active_calls=2)
    receive_call(pair, ids, "c1")
    receive_call(pair, ids, "c2")
    receive_call(pair, ids, "c3")
    assert [type(e) for e in pair.events] == [CallReceived, CallReceived, CallDropped]
    assert pair.events[-1] == CallDropped(call_id="c3", reason="max_active_calls")
    assert [m["id"] for m in pair.flush()] == ["e-1", "e-2", "e-3"]
    # Nothing else (no calling.pass, no hangup) is sent.
    assert all("method" not in m for m in pair.sent[1:])
    state(pair, ids, "c1", "ended")
    receive_call(pair, ids, "c4")
    assert "c4" in pair.conn.calls


def dial(pair: Pair, tag: str = "tag-42") -> str:
    rid = pair.conn.send_request("calling.dial", {"tag": tag, "devices": [[]]}, pair.now)
    pair.flush()
    pair.send(result_frame(rid, {"code": "200", "message": "Dialing"}))
    return rid


def test_dial_legs_and_winner() -> None:
    pair, ids = ready()
    dial(pair)
    state(pair, ids, "c-0101", "created", tag="tag-42", direction="outbound")
    state(pair, ids, "c-0102", "created", tag="tag-42", direction="outbound")
    assert set(pair.conn.calls) == {"c-0101", "c-0102"}
    state(pair, ids, "c-0102", "answered", tag="tag-42")
    state(pair, ids, "c-0101", "ended", tag="tag-42", end_reason="cancel")
    assert set(pair.conn.calls) == {"c-0102"}
    dial_params = {
        "node_id": "n1",
        "tag": "tag-42",
        "dial_state": "answered",
        "call": {"call_id": "c-0102", "node_id": "n1", "tag": "tag-42", "dial_winner": True},
    }
    events = pair.send(event_frame(ids(), "calling.call.dial", dial_params))
    assert isinstance(events[0], DialStateChanged)
    assert events[1] == DialCompleted(
        tag="tag-42", call_id="c-0102", event=events[0], reason="answered"
    )
    # The dial is over: later tagged legs are not registered.
    assert state(pair, ids, "c-0199", "created", tag="tag-42") == []


def test_dial_winner_registered_from_dial_event() -> None:
    pair, ids = ready()
    dial(pair)
    params = {"tag": "tag-42", "dial_state": "answered", "call": {"call_id": "cw", "node_id": "n9"}}
    pair.send(event_frame(ids(), "calling.call.dial", params))
    assert pair.conn.calls["cw"].node_id == "n9"
    assert pair.conn.calls["cw"].state == "answered"


def test_dial_failed_and_dialing_progress() -> None:
    pair, ids = ready()
    dial(pair)
    events = pair.send(
        event_frame(ids(), "calling.call.dial", {"tag": "tag-42", "dial_state": "dialing"})
    )
    assert [type(e) for e in events] == [DialStateChanged]
    events = pair.send(
        event_frame(ids(), "calling.call.dial", {"tag": "tag-42", "dial_state": "failed"})
    )
    assert events[1] == DialCompleted(tag="tag-42", call_id="", event=events[0], reason="failed")
    # Unknown tags are dropped.
    assert (
        pair.send(event_frame(ids(), "calling.call.dial", {"tag": "zz", "dial_state": "failed"}))
        == []
    )


def test_dial_request_failure_and_connection_loss() -> None:
    pair, _ = ready()
    rid = pair.conn.send_request("calling.dial", {"tag": "t1"}, pair.now)
    pair.flush()
    pair.send(result_frame(rid, {"code": "500", "message": "no"}))
    assert pair.events[-1] == DialCompleted(
        tag="t1", call_id="", event=None, reason="request_failed"
    )
    dial(pair, "t2")
    pair.drop()
    # The dial may be going on at the server: it stays pending until the next
    # session says whether it was resumed.
    assert not [e for e in pair.events if isinstance(e, DialCompleted) and e.tag == "t2"]
    pair.now += 1
    pair.answer_connect(pair.reconnect_socket(), connect_result(restored=False))
    assert DialCompleted(tag="t2", call_id="", event=None, reason="connection_lost") in pair.events


def test_queued_dial_survives_connection_loss() -> None:
    pair, _ = ready()
    pair.drop()
    pair.conn.send_request("calling.dial", {"tag": "tq"}, pair.now)
    pair.now += 1
    pair.conn.connection_lost(pair.now)  # reconnect attempt failed
    pair.drain()
    assert not any(isinstance(e, DialCompleted) for e in pair.events)


def start_action(pair: Pair, method: str, control_id: str = "ctl", call_id: str = "c1") -> str:
    rid = pair.conn.send_request(
        method, {"call_id": call_id, "node_id": "n1", "control_id": control_id}, pair.now
    )
    pair.flush()
    return rid


def completions(pair: Pair) -> list[ActionCompleted]:
    return [e for e in pair.events if isinstance(e, ActionCompleted)]


def action_event(pair: Pair, ids: Ids, event_type: str, **params: Any) -> None:
    pair.send(
        event_frame(
            ids(), event_type, {"call_id": "c1", "node_id": "n1", "control_id": "ctl", **params}
        )
    )


# (method, kind, [(event_type, params, completes?)...]) in order.
ACTION_CASES: list[tuple[str, str, list[tuple[str, dict[str, Any], bool]]]] = [
    (
        "calling.play",
        "play",
        [
            ("calling.call.play", {"state": "playing"}, False),
            ("calling.call.play", {"state": "finished"}, True),
        ],
    ),
    ("calling.play", "play", [("calling.call.play", {"state": "error"}, True)]),
    (
        "calling.record",
        "record",
        [
            ("calling.call.record", {"state": "recording"}, False),
            ("calling.call.record", {"state": "no_input"}, True),
        ],
    ),
    (
        "calling.record",
        "record",
        [("calling.call.record", {"state": "finished", "url": "u"}, True)],
    ),
    (
        "calling.collect",
        "collect",
        [
            ("calling.call.collect", {"result": {"type": "start_of_input"}}, False),
            (
                "calling.call.collect",
                {"final": False, "result": {"type": "speech", "params": {"text": "he"}}},
                False,
            ),
            (
                "calling.call.collect",
                {
                    "state": "collecting",
                    "final": True,
                    "result": {"type": "digit", "params": {"digits": "1"}},
                },
                False,
            ),
            (
                "calling.call.collect",
                {"final": True, "result": {"type": "digit", "params": {"digits": "12"}}},
                True,
            ),
        ],
    ),
    (
        "calling.play_and_collect",
        "play_and_collect",
        [
            ("calling.call.play", {"state": "finished"}, False),
            ("calling.call.play", {"state": "error"}, False),
            ("calling.call.collect", {"result": {"type": "no_input"}}, True),
        ],
    ),
    (
        "calling.detect",
        "detect",
        [
            (
                "calling.call.detect",
                {"detect": {"type": "machine", "params": {"event": "READY"}}},
                False,
            ),
            (
                "calling.call.detect",
                {"detect": {"type": "machine", "params": {"event": "UNKNOWN"}}},
                False,
            ),
            (
                "calling.call.detect",
                {"detect": {"type": "machine", "params": {"event": "HUMAN"}}},
                True,
            ),
        ],
    ),
    (
        "calling.detect",
        "detect",
        [("calling.call.detect", {"detect": {"type": "digit", "params": {"event": "1#"}}}, True)],
    ),
    (
        "calling.detect",
        "detect",
        [("calling.call.detect", {"detect": {"type": "fax", "params": {"event": "CED"}}}, True)],
    ),
    (
        "calling.detect",
        "detect",
        [
            (
                "calling.call.detect",
                {"detect": {"type": "machine", "params": {"event": "finished"}}},
                True,
            )
        ],
    ),
    (
        "calling.send_fax",
        "fax",
        [
            ("calling.call.fax", {"fax": {"type": "page", "params": {}}}, False),
            ("calling.call.fax", {"state": "finished", "fax": {"type": "page"}}, False),
            ("calling.call.fax", {"fax": {"type": "finished", "params": {"success": True}}}, True),
        ],
    ),
    ("calling.receive_fax", "fax", [("calling.call.fax", {"fax": {"type": "error"}}, True)]),
    (
        "calling.tap",
        "tap",
        [
            ("calling.call.tap", {"state": "tapping"}, False),
            ("calling.call.tap", {"state": "finished"}, True),
        ],
    ),
    (
        "calling.stream",
        "stream",
        [
            ("calling.call.stream", {"state": "streaming"}, False),
            ("calling.call.stream", {"state": "finished"}, True),
        ],
    ),
    (
        "calling.transcribe",
        "transcribe",
        [("calling.call.transcribe", {"state": "finished"}, True)],
    ),
    (
        "calling.send_digits",
        "send_digits",
        [("calling.call.send_digits", {"state": "finished"}, True)],
    ),
    ("calling.pay", "pay", [("calling.call.pay", {"state": "error"}, True)]),
    (
        "calling.ai",
        "ai",
        [
            ("calling.call.ai", {"state": "running"}, False),
            ("calling.call.ai", {"state": "finished"}, True),
        ],
    ),
    # Events of another kind never complete an action.
    ("calling.play", "play", [("calling.call.record", {"state": "finished"}, False)]),
]


@pytest.mark.parametrize(("method", "kind", "script"), ACTION_CASES)
def test_action_terminal_signals(
    method: str, kind: str, script: list[tuple[str, dict[str, Any], bool]]
) -> None:
    pair, ids = ready()
    receive_call(pair, ids)
    rid = start_action(pair, method)
    pair.send(result_frame(rid, {"code": "200"}))
    for event_type, params, completes in script:
        before = len(completions(pair))
        action_event(pair, ids, event_type, **params)
        done = completions(pair)[before:]
        if completes:
            assert len(done) == 1
            assert (done[0].kind, done[0].control_id, done[0].call_id, done[0].reason) == (
                kind,
                "ctl",
                "c1",
                "finished",
            )
            assert done[0].event is not None
            assert done[0].event.event_type == event_type
        else:
            assert done == []
    # Exactly once: a repeat of the last event does not complete it again.
    total = len(completions(pair))
    last_type, last_params, _ = script[-1]
    action_event(pair, ids, last_type, **last_params)
    assert len(completions(pair)) == total


def test_collect_final_via_is_final_types() -> None:
    pair, ids = ready()
    receive_call(pair, ids)
    start_action(pair, "calling.collect")
    action_event(pair, ids, "calling.call.collect", state="finished")
    (done,) = completions(pair)
    assert isinstance(done.event, CollectResultReceived)


def test_pending_actions_complete_on_call_end() -> None:
    pair, ids = ready()
    receive_call(pair, ids)
    start_action(pair, "calling.play", "p1")
    start_action(pair, "calling.record", "r1")
    events = state(pair, ids, "c1", "ended")
    assert isinstance(events[0], CallStateChanged)
    assert sorted((e.control_id, e.reason, e.event) for e in events[1:]) == [
        ("p1", "call_ended", None),
        ("r1", "call_ended", None),
    ]


@pytest.mark.parametrize(
    ("code", "reason"), [("404", "call_gone"), ("410", "call_gone"), ("500", "failed")]
)
def test_action_start_failure(code: str, reason: str) -> None:
    pair, ids = ready()
    receive_call(pair, ids)
    rid = start_action(pair, "calling.play")
    events = pair.send(result_frame(rid, {"code": code}))
    assert isinstance(events[0], RequestFailed)
    assert events[0].call_gone is (reason == "call_gone")
    assert events[1] == ActionCompleted(
        call_id="c1", control_id="ctl", kind="play", event=None, reason=reason
    )
    # Nothing more when the call ends later.
    state(pair, ids, "c1", "ended")
    assert len(completions(pair)) == 1


def test_play_events_routed_and_typed() -> None:
    pair, ids = ready()
    receive_call(pair, ids)
    action_event(pair, ids, "calling.call.play", state="playing")
    assert isinstance(pair.events[-1], PlayStateChanged)
    action_event(
        pair, ids, "calling.call.detect", detect={"type": "machine", "params": {"event": "MACHINE"}}
    )
    assert isinstance(pair.events[-1], DetectResultReceived)
    action_event(pair, ids, "calling.call.fax", fax={"type": "page"})
    assert isinstance(pair.events[-1], FaxStateChanged)


def test_non_call_events_pass_through() -> None:
    pair, ids = ready()
    events = pair.send(
        event_frame(ids(), "messaging.state", {"message_id": "m1", "message_state": "sent"}),
        event_frame(ids(), "brand.new.event", {"x": 1}),
        event_frame(ids(), "calling.error", {"code": "500"}),
    )
    assert isinstance(events[0], MessageStateChanged)
    assert events[0].message_state == "sent"
    assert isinstance(events[1], UnknownEventReceived)
    assert len(events) == 3


def test_router_unit_without_connection() -> None:
    out: list[Any] = []
    router = Router(out.append, max_active_calls=1)
    router.request_started("r1", "calling.play", {"call_id": "c", "control_id": "k"})
    router.request_started("r2", "calling.play", {"call_id": "c"})  # no control_id: not tracked
    router.request_failed("r1", call_gone=True)
    assert out == [
        ActionCompleted(call_id="c", control_id="k", kind="play", event=None, reason="call_gone")
    ]
    router.request_failed("r1", call_gone=True)
    assert len(out) == 1


def test_connection_calls_view_is_live() -> None:
    conn = RelayConnection()
    assert dict(conn.calls) == {}
