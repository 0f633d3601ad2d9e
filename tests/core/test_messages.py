"""Message routing by message_id (protocol reference §7, §8(d)) and late responses after close."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from relay_proto import (
    ConnectionClosed,
    MessageCompleted,
    MessageStateChanged,
    ProtocolErrorReceived,
    RequestCancelled,
    RequestFailed,
    RequestTimedOut,
    ResponseReceived,
)
from relay_proto._routing import MAX_EARLY_MESSAGES

from .helpers import Ids, Pair, error_frame, event_frame, result_frame

pytestmark = pytest.mark.timeout(10)

SEND = {"context": "proto", "to_number": "+1555111", "from_number": "+1555", "body": "x"}


def ready() -> tuple[Pair, Ids]:
    pair = Pair()
    pair.authenticate()
    pair.events.clear()
    return pair, Ids()


def send_sms(pair: Pair) -> str:
    request_id = pair.conn.send_request("messaging.send", SEND, pair.now)
    [msg] = [m for m in pair.flush() if m.get("method") == "messaging.send"]
    assert msg["id"] == request_id
    return request_id


def state(ids: Ids, message_id: str, message_state: str, **extra: Any) -> dict[str, Any]:
    params = {"message_id": message_id, "message_state": message_state, **extra}
    return event_frame(ids(), "messaging.state", params)


def accepted(request_id: str, message_id: str) -> dict[str, Any]:
    return result_frame(request_id, {"code": "200", "message": "ok", "message_id": message_id})


def summary(events: list[Any]) -> list[tuple[str, str]]:
    out = []
    for ev in events:
        if isinstance(ev, MessageStateChanged):
            out.append(("state", f"{ev.message_id}:{ev.message_state}"))
        elif isinstance(ev, MessageCompleted):
            out.append(("completed", f"{ev.message_id}:{ev.reason}"))
        elif isinstance(ev, ResponseReceived):
            out.append(("response", ev.request_id))
        else:
            out.append((type(ev).__name__, ""))
    return out


def test_states_after_the_result_complete_on_the_terminal_state() -> None:
    pair, ids = ready()
    request_id = send_sms(pair)
    assert summary(pair.send(accepted(request_id, "m1"))) == [("response", request_id)]
    events = pair.send(
        state(ids, "m1", "queued"),
        state(ids, "m1", "sent"),
        state(ids, "m1", "delivered", segments=1),
    )
    assert summary(events) == [
        ("state", "m1:queued"),
        ("state", "m1:sent"),
        ("state", "m1:delivered"),
        ("completed", "m1:delivered"),
    ]
    done = events[-1]
    assert isinstance(done, MessageCompleted)
    assert done.event is events[-2]
    assert done.event.segments == 1
    # Every state event was ACKed with its own id, before processing.
    assert [m["id"] for m in pair.flush()] == ["e-1", "e-2", "e-3"]
    # The message is forgotten: a duplicate terminal state is a plain event.
    assert summary(pair.send(state(ids, "m1", "delivered"))) == [("state", "m1:delivered")]


@pytest.mark.parametrize("terminal", ["undelivered", "failed"])
def test_failure_states_complete_too(terminal: str) -> None:
    pair, ids = ready()
    request_id = send_sms(pair)
    pair.send(accepted(request_id, "m1"))
    events = pair.send(state(ids, "m1", terminal, reason="carrier said no"))
    assert summary(events) == [("state", f"m1:{terminal}"), ("completed", f"m1:{terminal}")]
    assert isinstance(events[1], MessageCompleted)
    assert events[1].event.reason == "carrier said no"


def test_states_racing_the_send_result_are_released_right_after_it() -> None:
    pair, ids = ready()
    request_id = send_sms(pair)
    # The states arrive first (§8(d)); they are ACKed but held back.
    held = pair.send(state(ids, "m1", "queued"), state(ids, "m1", "delivered"))
    assert held == []
    assert [m["id"] for m in pair.flush()] == ["e-1", "e-2"]
    events = pair.send(accepted(request_id, "m1"))
    assert summary(events) == [
        ("response", request_id),
        ("state", "m1:queued"),
        ("state", "m1:delivered"),
        ("completed", "m1:delivered"),
    ]
    # The race in one chunk: result and states in the same read.
    request_id = send_sms(pair)
    events = pair.send(
        state(ids, "m2", "sent"), accepted(request_id, "m2"), state(ids, "m2", "failed")
    )
    assert summary(events) == [
        ("response", request_id),
        ("state", "m2:sent"),
        ("state", "m2:failed"),
        ("completed", "m2:failed"),
    ]


def test_foreign_states_pass_through() -> None:
    pair, ids = ready()
    # No messaging.send pending: another client's message is a plain event at once.
    assert summary(pair.send(state(ids, "other", "delivered"))) == [("state", "other:delivered")]
    # While a send is pending, unknown ids are held until it is answered, then
    # released as plain events (never completed: they are not ours).
    request_id = send_sms(pair)
    assert pair.send(state(ids, "other", "sent")) == []
    events = pair.send(accepted(request_id, "m1"))
    assert summary(events) == [("response", request_id), ("state", "other:sent")]


@pytest.mark.parametrize("outcome", ["failed", "timeout", "close"])
def test_held_states_are_released_when_the_send_ends_without_a_result(outcome: str) -> None:
    pair, ids = ready()
    request_id = send_sms(pair)
    assert pair.send(state(ids, "x", "sent")) == []
    if outcome == "failed":
        events = pair.send(error_frame(request_id, 400, "bad number"))
        first = RequestFailed
    elif outcome == "timeout":
        events = pair.tick(pair.now + 10)
        first = RequestTimedOut
    else:
        pair.conn.close(pair.now)
        events = pair.drain()
        first = RequestCancelled
    assert isinstance(events[0], first)
    assert summary(events[1:2]) == [("state", "x:sent")]
    assert not any(isinstance(e, MessageCompleted) for e in events)


def test_message_survives_a_reconnect() -> None:
    pair, ids = ready()
    request_id = send_sms(pair)
    pair.send(accepted(request_id, "m1"))
    pair.drop()
    pair.now += 2
    pair.answer_connect(pair.reconnect_socket())
    assert not any(isinstance(e, MessageCompleted) for e in pair.events)
    events = pair.send(state(ids, "m1", "delivered"))
    assert summary(events) == [("state", "m1:delivered"), ("completed", "m1:delivered")]


def test_early_buffer_is_bounded_and_releases_the_oldest(caplog: pytest.LogCaptureFixture) -> None:
    pair, ids = ready()
    request_id = send_sms(pair)
    frames = [state(ids, f"x{i}", "sent") for i in range(MAX_EARLY_MESSAGES)]
    assert pair.send(*frames) == []
    with caplog.at_level(logging.DEBUG, logger="relaykit.core.routing"):
        # One more id: the oldest held id is released (as a plain event).
        events = pair.send(state(ids, "newest", "sent"))
    assert summary(events) == [("state", "x0:sent")]
    assert "buffer full" in caplog.text
    # Too many states for one id: that id is released in order.
    many = [state(ids, "newest", f"s{i}") for i in range(20)]
    events = pair.send(*many)
    assert [e.message_state for e in events if isinstance(e, MessageStateChanged)] == [
        "sent",
        *(f"s{i}" for i in range(16)),
    ]
    # The send result releases the rest: every held id, then nothing is left.
    events = pair.send(accepted(request_id, "x5"))
    assert summary(events[:3]) == [
        ("response", request_id),
        ("state", "x5:sent"),
        ("state", "x1:sent"),
    ]
    released = [e for e in events if isinstance(e, MessageStateChanged)]
    assert len(released) == MAX_EARLY_MESSAGES - 1 + 4  # x1..x255 and newest's s16..s19
    assert pair.send(state(ids, "x7", "sent")) != []


def test_message_send_without_message_id_tracks_nothing() -> None:
    pair, ids = ready()
    request_id = send_sms(pair)
    events = pair.send(result_frame(request_id, {"code": "200", "message": "ok"}))
    assert summary(events) == [("response", request_id)]
    assert summary(pair.send(state(ids, "m1", "delivered"))) == [("state", "m1:delivered")]


def test_late_responses_to_requests_cancelled_by_close_are_dropped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pair, _ = ready()
    first = pair.conn.send_request("calling.answer", {"call_id": "c", "node_id": "n"}, pair.now)
    second = pair.conn.send_request("messaging.send", SEND, pair.now)
    pair.flush()
    pair.conn.close(pair.now)
    cancelled = [e for e in pair.drain() if isinstance(e, RequestCancelled)]
    assert {e.request_id for e in cancelled} == {first, second}
    # The server answered before it saw our close frame.
    with caplog.at_level(logging.DEBUG, logger="relaykit.core"):
        events = pair.send(
            result_frame(first, {"code": "200"}), error_frame(second), result_frame("r-999", {})
        )
    # The two cancelled ids are quiet; an id never sent is still a protocol error.
    assert [type(e) for e in events] == [ProtocolErrorReceived]
    assert "r-999" in events[0].message
    assert "late response to cancelled request" in caplog.text
    assert "unknown request id 'r-1" not in caplog.text
    # The close handshake still completes.
    pair.flush()
    events = pair.feed(pair.server.take())
    assert any(isinstance(e, ConnectionClosed) and not e.will_reconnect for e in events)
