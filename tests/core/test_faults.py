"""Connection faults (issue 11 §5, core side): backoff against a flapping server,
silent-server detection and the server-ping watchdog, the ``sent`` flag of
request outcomes, redelivered events, dial ownership and the over-capacity policy.

Everything runs on the synthetic clock of :class:`~tests.core.helpers.Pair`;
"detection time" below is a difference of synthetic timestamps, not a wall-clock
measurement.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from relay_proto import (
    MAX_RECENT_CALLS,
    MAX_RECENT_EVENT_IDS,
    MAX_RECENT_MESSAGES,
    CallDropped,
    CallHungUpByCore,
    CallReceived,
    CallStateChanged,
    ConnectionDead,
    DialCompleted,
    DialStateChanged,
    LocalProtocolError,
    MessageReceived,
    PlayStateChanged,
    ReconnectScheduled,
    RelayConnection,
    RequestCancelled,
    RequestTimedOut,
)
from relay_proto._routing import MAX_HANGUP_ATTEMPTS

from .helpers import Ids, Pair, connect_result, event_frame, request_frame, result_frame

pytestmark = pytest.mark.timeout(20)


def ready(**kwargs: Any) -> tuple[Pair, Ids]:
    pair = Pair(**kwargs)
    pair.authenticate()
    pair.flush()
    pair.events.clear()
    return pair, Ids()


def requests(msgs: list[dict[str, Any]], method: str) -> list[dict[str, Any]]:
    return [m for m in msgs if m.get("method") == method]


def of(pair: Pair, cls: type) -> list[Any]:
    return [e for e in pair.events if isinstance(e, cls)]


def resume(pair: Pair, restored: bool) -> None:
    """Open the next socket at the scheduled time and authenticate it."""
    (sched,) = of(pair, ReconnectScheduled)[-1:]
    pair.now = max(pair.now, sched.at)
    pair.tick(pair.now)
    pair.answer_connect(pair.reconnect_socket(), connect_result(restored=restored))


# ---------------------------------------------------------------------------
# 1. Backoff against a server that accepts and then drops sessions.
# ---------------------------------------------------------------------------


def flap(pair: Pair, sessions: int, lifetime: float) -> tuple[list[float], list[float]]:
    """Each session is dropped *lifetime* s after authenticating; returns (delays, gaps).

    A gap is the time between two consecutive socket openings.
    """
    delays: list[float] = []
    opened: list[float] = []
    connect = pair.open()
    for index in range(sessions):
        opened.append(pair.now)
        pair.answer_connect(connect)
        pair.now += lifetime
        sched = pair.drop("server dropped the session")
        delays.append(sched.delay)
        if index < sessions - 1:
            pair.now = sched.at
            pair.tick(pair.now)
            connect = pair.reconnect_socket()
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(opened)]
    return delays, gaps


def test_backoff_keeps_growing_while_sessions_drop_right_after_authentication() -> None:
    delays, gaps = flap(Pair(), sessions=7, lifetime=0.1)
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    # The server sees: 1.1, 2.1, 4.1, 8.1, 16.1, 30.1 s between sessions.
    assert gaps == [1.1, 2.1, 4.1, 8.1, 16.1, 30.1]


def test_flapping_backoff_with_jitter_stays_in_bounds() -> None:
    delays, _ = flap(Pair(jitter=lambda: 0.5), sessions=7, lifetime=0.1)
    # Each base plus 5 % of it, capped at 30 s.
    assert delays == pytest.approx([1.05, 2.1, 4.2, 8.4, 16.8, 30.0, 30.0])


def test_a_rejecting_server_also_grows_the_backoff() -> None:
    # After a first success rejections are retried for ever; they must back off.
    pair, _ = ready()
    sched = pair.drop()
    delays = [sched.delay]
    for _ in range(5):
        pair.now = sched.at
        pair.tick(pair.now)
        connect = pair.reconnect_socket()
        pair.send(
            {"jsonrpc": "2.0", "id": connect["id"], "error": {"code": -32002, "message": "no"}}
        )
        sched = pair.drop()
        delays.append(sched.delay)
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0]


def test_a_stable_session_resets_the_backoff() -> None:
    pair = Pair()
    flap(pair, sessions=4, lifetime=0.1)  # delays reached 8 s
    pair.now = of(pair, ReconnectScheduled)[-1].at
    pair.tick(pair.now)
    pair.answer_connect(pair.reconnect_socket())
    pair.now += 9.9  # not yet stable (default reconnect_reset_after: 10 s)
    assert pair.drop().delay == 16.0
    pair.now = of(pair, ReconnectScheduled)[-1].at
    pair.tick(pair.now)
    pair.answer_connect(pair.reconnect_socket())
    pair.now += 10.0
    assert pair.drop().delay == 1.0


def test_reconnect_reset_after_is_an_option() -> None:
    pair = Pair(reconnect_reset_after=0.05)
    delays, _ = flap(pair, sessions=3, lifetime=0.1)
    assert delays == [1.0, 1.0, 1.0]
    for bad in (-1.0, float("nan"), float("inf"), "10", True):
        with pytest.raises(LocalProtocolError, match="reconnect_reset_after"):
            RelayConnection(reconnect_reset_after=bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# 2. Silent server detection and the server-ping watchdog.
# ---------------------------------------------------------------------------


def run_until_dead(pair: Pair, limit: float = 120.0) -> ConnectionDead:
    """Advance the synthetic clock timer by timer, the server answering nothing."""
    start = pair.now
    while not pair.dead_events():
        assert pair.now - start < limit, "never noticed the silent server"
        pair.tick()
        pair.flush()  # whatever the client sends goes into the void
    return pair.dead_events()[0]


def test_silent_server_noticed_within_10_s_while_a_request_is_in_flight() -> None:
    pair, _ = ready()
    pair.now += 3.0
    sent_at = pair.now
    rid = pair.conn.send_request("calling.play", {"call_id": "c1", "node_id": "n"}, pair.now)
    pair.flush()
    dead = run_until_dead(pair)
    assert pair.now - sent_at == 10.0
    assert "half-open" in dead.reason
    (timed_out,) = of(pair, RequestTimedOut)
    assert timed_out.request_id == rid
    assert timed_out.sent is True


def test_silent_server_noticed_within_25_s_when_idle() -> None:
    pair, _ = ready()
    # A healthy round of pings first: silence then starts right after an answer.
    for _ in range(2):
        pair.tick()
        (ping,) = requests(pair.flush(), "signalwire.ping")
        pair.send(result_frame(ping["id"], {}))
    last_heard = pair.now
    dead = run_until_dead(pair)
    assert pair.now - last_heard == 25.0
    assert dead.reason == "signalwire.ping timed out (half-open connection suspected)"


def test_server_ping_watchdog_closes_a_server_that_pinged_then_went_silent() -> None:
    pair, _ = ready()
    pair.now += 2.0
    pair.send(request_frame("sp-1", "signalwire.ping", {}))
    last_heard = pair.now
    dead = run_until_dead(pair)
    assert pair.now - last_heard == 15.0
    assert "server-ping watchdog" in dead.reason
    # Then the normal reconnect.
    sched = pair.drop(dead.reason)
    assert sched.delay == 1.0


def test_watchdog_restarts_on_every_message_and_is_an_option() -> None:
    pair, ids = ready(server_ping_watchdog=5.0, ping_interval=1000.0)
    pair.send(request_frame("sp-1", "signalwire.ping", {}))
    # Any message, not only a ping, shows the server is alive.
    for _ in range(10):
        pair.now += 4.0
        pair.tick(pair.now)
        pair.send(event_frame(ids(), "calling.conference", {"conference_id": "x"}))
    assert pair.dead_events() == []
    pair.tick()
    assert pair.dead_events()[0].reason.startswith("server-ping watchdog: nothing received for 5 s")
    with pytest.raises(LocalProtocolError, match="server_ping_watchdog"):
        RelayConnection(server_ping_watchdog=0)


def test_watchdog_is_not_armed_before_the_server_pings() -> None:
    pair, _ = ready(ping_interval=1000.0)
    pair.tick(pair.now + 500.0)
    assert pair.dead_events() == []
    # And it disarms on a new socket until that socket's server pings.
    pair.send(request_frame("sp-1", "signalwire.ping", {}))
    pair.drop()
    resume(pair, restored=True)
    pair.tick(pair.now + 500.0)
    assert pair.dead_events() == []


# ---------------------------------------------------------------------------
# 3. Was the request sent?  (unknown outcome vs safe to retry)
# ---------------------------------------------------------------------------


def test_cancelled_requests_say_whether_they_were_sent() -> None:
    pair, _ = ready()
    on_wire = pair.conn.send_request("calling.play", {"call_id": "c1"}, pair.now)
    pair.flush()
    pair.drop("reset")
    queued = pair.conn.send_request("calling.play", {"call_id": "c1"}, pair.now)
    pair.conn.close(pair.now)
    pair.drain()
    outcomes = {e.request_id: e.sent for e in of(pair, RequestCancelled)}
    assert outcomes == {on_wire: True, queued: False}


# ---------------------------------------------------------------------------
# 4. Redelivered events: ACKed every time, delivered once, bounded memory.
# ---------------------------------------------------------------------------


def test_redelivered_event_is_acked_again_but_delivered_once() -> None:
    pair, _ = ready()
    pair.send(
        event_frame(
            "e-1", "calling.call.receive", {"call_id": "c1", "node_id": "n", "context": "x"}
        )
    )
    play = {"call_id": "c1", "node_id": "n", "control_id": "p", "state": "playing"}
    first = pair.send(event_frame("e-2", "calling.call.play", play))
    again = pair.send(event_frame("e-2", "calling.call.play", play))
    assert [type(e) for e in first] == [PlayStateChanged]
    assert again == []
    assert [m["id"] for m in pair.flush()] == ["e-1", "e-2", "e-2"]


def test_redelivery_after_a_resumed_session_is_dropped_but_not_after_a_fresh_one() -> None:
    pair, _ = ready()
    conference = {"conference_id": "k"}
    pair.send(event_frame("e-1", "calling.conference", conference))
    pair.drop()
    resume(pair, restored=True)
    assert pair.send(event_frame("e-1", "calling.conference", conference)) == []
    pair.drop()
    # A brand-new session (or a restarted server numbering from 1 again).
    resume(pair, restored=False)
    assert len(pair.send(event_frame("e-1", "calling.conference", conference))) == 1


def test_same_message_or_call_offered_twice_is_delivered_once() -> None:
    pair, ids = ready()
    message = {"message_id": "m-1", "body": "hi", "context": "office"}
    offer = {"call_id": "c1", "node_id": "n", "context": "office", "call_state": "created"}
    for _ in range(3):
        pair.send(event_frame(ids(), "messaging.receive", message))
        pair.send(event_frame(ids(), "calling.call.receive", offer))
    assert len(of(pair, MessageReceived)) == 1
    assert len(of(pair, CallReceived)) == 1
    # Even after the call ended, a late offer of it never starts a second handler.
    pair.send(event_frame(ids(), "calling.call.state", {"call_id": "c1", "call_state": "ended"}))
    pair.send(event_frame(ids(), "calling.call.receive", offer))
    assert len(of(pair, CallReceived)) == 1
    assert len([m for m in pair.flush() if "result" in m]) == 8  # every copy ACKed


def test_offer_and_message_redeliveries_are_dropped_by_their_own_ids_alone() -> None:
    # One window per fact: an offer is known by its call_id, a message by its
    # message_id, so their request ids are not remembered a second time.
    pair, _ = ready()
    offer = {"call_id": "c1", "node_id": "n", "context": "office", "call_state": "created"}
    message = {"message_id": "m-1", "body": "hi", "context": "office"}
    for _ in range(2):  # the second round is a redelivery: same request ids
        pair.send(event_frame("e-1", "calling.call.receive", offer))
        pair.send(event_frame("e-2", "messaging.receive", message))
    assert len(of(pair, CallReceived)) == 1
    assert len(of(pair, MessageReceived)) == 1
    assert pair.conn._session._recent_events.footprint == (0, 0)
    # A live call's record says its offer was delivered; the call window
    # only takes the call once it has ended.
    assert pair.conn._session.router._received_calls.footprint == (0, 0)
    # Any other event's request id is remembered.
    state = {"call_id": "c1", "node_id": "n", "call_state": "answered"}
    assert len(pair.send(event_frame("e-3", "calling.call.state", state))) == 1
    assert pair.send(event_frame("e-3", "calling.call.state", state)) == []
    assert pair.conn._session._recent_events.footprint == (1, 1)
    ended = {"call_id": "c1", "node_id": "n", "call_state": "ended"}
    assert len(pair.send(event_frame("e-4", "calling.call.state", ended))) == 1
    assert pair.conn._session.router._received_calls.footprint == (1, 1)
    assert pair.send(event_frame("e-1", "calling.call.receive", offer)) == []
    acks = [m["id"] for m in pair.flush() if "result" in m]
    assert acks == ["e-1", "e-2"] * 2 + ["e-3"] * 2 + ["e-4", "e-1"]


def test_dedup_memory_stays_bounded_under_100k_distinct_events() -> None:
    # Text mode (no WebSocket framing) keeps 100k events fast.
    conn = RelayConnection(websocket=False, make_id=iter(["connect"]).__next__)
    conn.open_session(project="p", token="t", contexts=["office"])
    conn.connection_made(0.0)
    conn.receive_text('{"jsonrpc":"2.0","id":"connect","result":{"protocol":"signalwire_q"}}', 0.0)
    assert conn.next_event() is not None  # SessionAuthenticated
    head = '{"jsonrpc":"2.0","id":"e-%d","method":"signalwire.event","params":{"event_type":'
    bodies = (
        '"messaging.receive","params":{"message_id":"m-%d","context":"office"}}}',
        '"calling.call.receive","params":{"call_id":"c-%d","node_id":"n","context":"office"}}}',
        '"calling.call.state","params":{"call_id":"c-%d","call_state":"ended"}}}',
    )
    delivered = 0
    for index in range(100_000):
        kind = index % 3
        # A call's ended state follows its offer (same number, so it names the call).
        number = index - 1 if kind == 2 else index
        conn.receive_text(head % index + bodies[kind] % number, 1.0)
        while conn.next_event() is not None:
            delivered += 1
        conn.texts_to_send()
    assert delivered == 100_000
    session = conn._session
    router = session.router
    assert session._recent_events.footprint == (MAX_RECENT_EVENT_IDS, MAX_RECENT_EVENT_IDS)
    assert router._received_calls.footprint == (MAX_RECENT_CALLS, MAX_RECENT_CALLS)
    assert router._received_messages.footprint == (MAX_RECENT_MESSAGES, MAX_RECENT_MESSAGES)
    assert conn.calls == {}
    # The newest ids are the ones remembered: a redelivery of the last state
    # event (by its request id) and of the last message (by its message id) is
    # dropped, and ACKed again.
    conn.receive_text(head % 99_998 + bodies[2] % 99_997, 2.0)
    conn.receive_text(head % 99_999 + bodies[0] % 99_999, 2.0)
    assert conn.next_event() is None
    assert conn.texts_to_send() == [
        '{"jsonrpc":"2.0","id":"e-99998","result":{}}',
        '{"jsonrpc":"2.0","id":"e-99999","result":{}}',
    ]


# ---------------------------------------------------------------------------
# 5. Dial ownership: nothing of an abandoned dial is left ringing or unowned.
# ---------------------------------------------------------------------------


def dial(pair: Pair, tag: str = "d1") -> str:
    rid = pair.conn.send_request("calling.dial", {"tag": tag, "devices": [[]]}, pair.now)
    pair.flush()
    pair.send(result_frame(rid, {"code": "200", "message": "Dialing"}))
    return rid


def leg(pair: Pair, ids: Ids, call_id: str, call_state: str, tag: str = "d1") -> list[Any]:
    params = {"call_id": call_id, "node_id": "n-9", "tag": tag, "call_state": call_state}
    return pair.send(event_frame(ids(), "calling.call.state", params))


def ends(msgs: list[dict[str, Any]]) -> list[str]:
    return [m["params"]["call_id"] for m in requests(msgs, "calling.end")]


def test_abandon_hangs_up_known_legs_and_every_later_one() -> None:
    pair, ids = ready()
    dial(pair)
    leg(pair, ids, "leg-1", "ringing")
    pair.flush()
    assert pair.conn.abandon_dial("d1", pair.now) is True
    pair.drain()
    msgs = pair.flush()
    (end,) = requests(msgs, "calling.end")
    assert end["params"] == {"call_id": "leg-1", "node_id": "n-9", "reason": "hangup"}
    assert DialCompleted(tag="d1", call_id="", event=None, reason="abandoned") in pair.events
    # A leg reported later is hung up too, and never handed to the application.
    assert leg(pair, ids, "leg-2", "ringing") == [
        CallHungUpByCore(call_id="leg-2", tag="d1", reason="dial_abandoned")
    ]
    assert ends(pair.flush()) == ["leg-2"]
    # The dial's answer names a winner: hung up as well, the dial event is not emitted.
    winner = {"call_id": "leg-3", "node_id": "n-9", "tag": "d1", "call_state": "answered"}
    answered = {"tag": "d1", "dial_state": "answered", "node_id": "n-9", "call": winner}
    assert [type(e) for e in pair.send(event_frame(ids(), "calling.call.dial", answered))] == [
        CallHungUpByCore
    ]
    assert ends(pair.flush()) == ["leg-3"]
    assert [e.call_id for e in of(pair, CallHungUpByCore)] == ["leg-1", "leg-2", "leg-3"]
    # Once every leg ended, nothing is left to track.
    for end in requests(pair.sent, "calling.end"):
        assert pair.send(result_frame(end["id"], {"code": "200"})) == []
    for call_id in ("leg-1", "leg-2", "leg-3"):
        leg(pair, ids, call_id, "ended")
    router = pair.conn._session.router
    assert router._orphans == {}
    assert router._abandoned == {}
    assert pair.conn.calls == {}
    assert pair.conn.abandon_dial("d1", pair.now) is False


def test_abandon_after_answer_hangs_up_the_winner() -> None:
    pair, ids = ready()
    dial(pair)
    winner = {"call_id": "w", "node_id": "n-9", "tag": "d1", "call_state": "answered"}
    pair.send(
        event_frame(
            ids(), "calling.call.dial", {"tag": "d1", "dial_state": "answered", "call": winner}
        )
    )
    assert pair.conn.abandon_dial("d1", pair.now) is True
    assert ends(pair.flush()) == ["w"]


def test_a_leg_that_stays_alive_gets_more_hangups_but_not_forever() -> None:
    pair, ids = ready()
    dial(pair)
    pair.conn.abandon_dial("d1", pair.now)
    leg(pair, ids, "leg-1", "ringing")
    for _ in range(MAX_HANGUP_ATTEMPTS + 3):
        (end,) = requests(pair.flush(), "calling.end") or [None]
        if end is not None:
            pair.send(result_frame(end["id"], {"code": "200"}))
        leg(pair, ids, "leg-1", "answered")
    assert len(requests(pair.sent, "calling.end")) == MAX_HANGUP_ATTEMPTS


def test_a_404_to_the_hangup_forgets_the_leg() -> None:
    pair, ids = ready()
    dial(pair)
    pair.conn.abandon_dial("d1", pair.now)
    leg(pair, ids, "leg-1", "ringing")
    (end,) = requests(pair.flush(), "calling.end")
    pair.send(result_frame(end["id"], {"code": "404", "message": "call does not exist"}))
    assert pair.conn._session.router._orphans == {}


def test_a_dial_in_flight_survives_a_resumed_session_and_is_still_awaited() -> None:
    pair, ids = ready()
    rid = pair.conn.send_request("calling.dial", {"tag": "d1"}, pair.now)
    pair.flush()
    pair.drop()
    (cancelled,) = of(pair, RequestCancelled)
    assert cancelled.request_id == rid
    assert cancelled.sent is True
    assert of(pair, DialCompleted) == []
    resume(pair, restored=True)
    # The dial ran on the server; its events arrive on the resumed session.
    leg(pair, ids, "leg-1", "answered")
    winner = {"call_id": "leg-1", "node_id": "n-9", "tag": "d1"}
    events = pair.send(
        event_frame(
            ids(), "calling.call.dial", {"tag": "d1", "dial_state": "answered", "call": winner}
        )
    )
    assert [type(e) for e in events] == [DialStateChanged, DialCompleted]
    assert events[1].reason == "answered"
    assert events[1].call_id == "leg-1"
    assert requests(pair.sent, "calling.end") == []


def test_a_dial_in_flight_fails_on_a_fresh_session_and_its_legs_are_ended() -> None:
    pair, ids = ready()
    dial(pair)
    leg(pair, ids, "leg-1", "ringing")
    pair.drop()
    resume(pair, restored=False)
    assert DialCompleted(tag="d1", call_id="", event=None, reason="connection_lost") in pair.events
    assert ends(pair.flush()) == ["leg-1"]
    assert of(pair, CallHungUpByCore) == [
        CallHungUpByCore(call_id="leg-1", tag="d1", reason="dial_abandoned")
    ]


def test_abandoned_while_offline_hangs_up_after_the_resume() -> None:
    pair, ids = ready()
    dial(pair)
    leg(pair, ids, "leg-1", "ringing")
    pair.flush()
    pair.drop()
    assert pair.conn.abandon_dial("d1", pair.now) is True
    resume(pair, restored=True)
    assert ends(pair.flush()) == ["leg-1"]
    # The hangup died with a socket: a new session sends it again.
    pair.drop()
    resume(pair, restored=True)
    assert ends(pair.flush()) == ["leg-1"]
    # A leg reported after the resume is hung up as well.
    leg(pair, ids, "leg-2", "answered")
    msgs = pair.flush()
    assert ends(msgs) == ["leg-2"]
    # The core's own requests never surface as request outcomes.
    (end,) = requests(msgs, "calling.end")
    assert pair.send(result_frame(end["id"], {"code": "200"})) == []


def test_a_queued_dial_that_is_abandoned_never_leaves() -> None:
    pair, _ = ready()
    pair.drop()
    rid = pair.conn.send_request("calling.dial", {"tag": "d1"}, pair.now)
    assert pair.conn.abandon_dial("d1", pair.now) is True
    pair.drain()
    assert (
        RequestCancelled(request_id=rid, method="calling.dial", reason="dial abandoned", sent=False)
        in pair.events
    )
    resume(pair, restored=True)
    assert requests(pair.flush(), "calling.dial") == []
    assert of(pair, DialCompleted) == [
        DialCompleted(tag="d1", call_id="", event=None, reason="request_failed")
    ]


def test_close_hangs_up_known_legs_before_the_close_frame() -> None:
    pair, ids = ready()
    dial(pair)
    leg(pair, ids, "leg-1", "ringing")
    pair.flush()
    pair.conn.close(pair.now)
    pair.drain()
    assert ends(pair.flush()) == ["leg-1"]
    assert pair.server.closed_code == 1000
    assert DialCompleted(tag="d1", call_id="", event=None, reason="connection_lost") in pair.events


def test_abandon_dial_misuse() -> None:
    pair, _ = ready()
    assert pair.conn.abandon_dial("unknown", pair.now) is False
    with pytest.raises(LocalProtocolError, match="tag"):
        pair.conn.abandon_dial("", pair.now)
    pair.conn.close(pair.now)
    assert pair.conn.abandon_dial("d1", pair.now) is False


# ---------------------------------------------------------------------------
# 6. Calls beyond max_active_calls: ignore (default) or pass.
# ---------------------------------------------------------------------------


def offer(pair: Pair, ids: Ids, call_id: str) -> list[Any]:
    params = {"call_id": call_id, "node_id": "n-3", "context": "office", "call_state": "created"}
    return pair.send(event_frame(ids(), "calling.call.receive", params))


def test_over_capacity_pass_sends_calling_pass() -> None:
    pair, ids = ready(max_active_calls=1, over_capacity="pass")
    offer(pair, ids, "c1")
    assert offer(pair, ids, "c2") == [
        CallDropped(call_id="c2", reason="max_active_calls", passed=True)
    ]
    (passed,) = requests(pair.flush(), "calling.pass")
    assert passed["params"] == {"call_id": "c2", "node_id": "n-3"}
    # Its answer is the core's own business: no request event leaks out.
    assert pair.send(result_frame(passed["id"], {"code": "200", "message": "Passing call"})) == []
    # Passed back, the call may be offered again; with room now, it is delivered.
    pair.send(event_frame(ids(), "calling.call.state", {"call_id": "c1", "call_state": "ended"}))
    assert [type(e) for e in offer(pair, ids, "c2")] == [CallReceived]


def test_a_live_call_passed_back_and_offered_again_is_delivered_again() -> None:
    pair, ids = ready()
    assert [type(e) for e in offer(pair, ids, "c1")] == [CallReceived]
    assert offer(pair, ids, "c1") == []  # a redelivery while it is ours
    pair.conn.send_request("calling.pass", {"call_id": "c1", "node_id": "n-3"}, pair.now)
    assert [type(e) for e in offer(pair, ids, "c1")] == [CallReceived]


def test_over_capacity_ignore_is_the_default_and_sends_nothing() -> None:
    pair, ids = ready(max_active_calls=1)
    offer(pair, ids, "c1")
    assert offer(pair, ids, "c2") == [CallDropped(call_id="c2", reason="max_active_calls")]
    assert requests(pair.flush(), "calling.pass") == []
    with pytest.raises(LocalProtocolError, match="over_capacity"):
        RelayConnection(over_capacity="hangup")


def test_call_state_events_of_orphans_are_not_emitted() -> None:
    pair, ids = ready()
    dial(pair)
    pair.conn.abandon_dial("d1", pair.now)
    assert not any(isinstance(e, CallStateChanged) for e in leg(pair, ids, "late", "ringing"))
