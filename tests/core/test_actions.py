"""The action table, forward-only call state, end_reason spellings, and how actions end.

Terminal-signal tests use the corpus's frames exactly; where the corpus has no
frame for a signal the issue names (pay failed/canceled, record error, collect
finished), the nearest corpus frame is copied with that one field changed, and
the test says so.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from relay_proto import (
    ACTION_KINDS,
    ACTION_SPECS,
    ACTION_SPECS_BY_METHOD,
    EVENT_CLASSES,
    ActionCompleted,
    ActionSpec,
    CallReceived,
    CallStateChanged,
    PayStateChanged,
    RelayEvent,
)

from .corpus import FRAMES, event_envelope, ready, setup_for
from .helpers import Ids, Pair, event_frame

pytestmark = pytest.mark.timeout(10)


# -- the table -------------------------------------------------------------------


def test_every_row_is_complete_and_consistent() -> None:
    assert set(ACTION_SPECS) == {
        "play", "record", "collect", "play_and_collect", "detect", "fax", "tap",
        "stream", "pay", "transcribe", "ai", "send_digits", "queue",
    }  # fmt: skip
    for kind, spec in ACTION_SPECS.items():
        assert spec.kind == kind
        assert spec.event_class is EVENT_CLASSES[spec.event_type]
        assert issubclass(spec.event_class, RelayEvent)
        for method in spec.start_methods:
            assert ACTION_SPECS_BY_METHOD[method] is spec
            assert ACTION_KINDS[method] == kind
    assert set(ACTION_KINDS) == set(ACTION_SPECS_BY_METHOD)
    assert ACTION_SPECS_BY_METHOD["calling.receive_fax"] is ACTION_SPECS["fax"]
    assert ACTION_SPECS["queue"].match_key == ("queue_name", "name")


def test_rows_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ACTION_SPECS["play"].kind = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ACTION_SPECS["x"] = ACTION_SPECS["play"]  # type: ignore[index]
    assert isinstance(ACTION_SPECS["play"], ActionSpec)


# -- how actions end -----------------------------------------------------------


def _replay(envelope: dict[str, Any]) -> tuple[Pair, list[Any], str | None]:
    pair, ids = ready()
    control_id = setup_for(pair, ids, envelope)
    pair.flush()
    events = pair.send({"jsonrpc": "2.0", "id": "x-1", "method": "signalwire.event",
                        "params": envelope})  # fmt: skip
    return pair, events, control_id


def _corpus(index: int, **params: Any) -> dict[str, Any]:
    """Corpus frame *index*'s envelope, with *params* changed (None deletes)."""
    envelope = event_envelope(FRAMES[index])
    assert envelope is not None
    envelope = copy.deepcopy(envelope)
    for key, value in params.items():
        if value is None:
            envelope["params"].pop(key, None)
        else:
            envelope["params"][key] = value
    return envelope


def _completed(events: list[Any]) -> list[ActionCompleted]:
    return [e for e in events if isinstance(e, ActionCompleted)]


@pytest.mark.parametrize(
    ("progress", "outcome"),
    [("payment-completed", "completed"), ("payment-failed", "failed"),
     ("payment-canceled", "canceled")],
)  # fmt: skip
def test_pay_ends_on_its_for_field(progress: str, outcome: str) -> None:
    # Frame 14 is the docs' payment-completed body; failed/canceled change only "for".
    _, events, control_id = _replay(_corpus(14, **{"for": progress}))
    (done,) = _completed(events)
    assert done.control_id == control_id
    assert done.kind == "pay"
    assert isinstance(done.event, PayStateChanged)
    assert (done.event.outcome, done.event.progress) == (outcome, progress)


def test_pay_progress_does_not_end_it() -> None:
    _, events, _ = _replay(_corpus(14, **{"for": "payment-card-number"}))
    assert _completed(events) == []
    pay = [e for e in events if isinstance(e, PayStateChanged)]
    assert pay[0].outcome == ""


def test_record_error_state_ends_it() -> None:
    # Frame 190 is a no_input record event; "error" is the README's third ending.
    _, events, _ = _replay(_corpus(190, state="error"))
    assert [d.kind for d in _completed(events)] == ["record"]


def test_queue_dequeue_without_control_id_ends_the_queue_action() -> None:
    pair, ids = ready()
    enqueue = _corpus(1)  # the docs' enqueue, then its dequeue (same call and queue)
    control_id = setup_for(pair, ids, enqueue)
    pair.flush()
    assert _completed(pair.send(event_frame(ids(), "calling.call.queue", enqueue["params"]))) == []
    dequeue = _corpus(3)
    assert dequeue["params"]["control_id"] is None
    events = pair.send(event_frame(ids(), "calling.call.queue", dequeue["params"]))
    (done,) = _completed(events)
    assert (done.control_id, done.kind, done.reason) == (control_id, "queue", "finished")


def test_queue_dequeue_of_another_queue_leaves_the_action() -> None:
    pair, ids = ready()
    setup_for(pair, ids, _corpus(1))
    pair.flush()
    other = _corpus(3, name="sales_queue")
    assert _completed(pair.send(event_frame(ids(), "calling.call.queue", other["params"]))) == []


def test_queue_leave_ends_it() -> None:
    _, events, control_id = _replay(_corpus(2))
    assert [d.control_id for d in _completed(events)] == [control_id]


@pytest.mark.parametrize("state", [None, "finished"])
def test_collect_finished_result_ends_it(state: str | None) -> None:
    # Frame 165 is the 2.x SDK's {"type": "error"} result; "finished" changes the type.
    _, events, _ = _replay(_corpus(165, result={"type": "finished"}, state=state))
    assert [d.kind for d in _completed(events)] == ["collect"]


def test_collect_error_result_ends_it_even_when_continuous() -> None:
    _, events, _ = _replay(_corpus(165, state="collecting"))
    assert len(_completed(events)) == 1


def test_collect_partial_result_goes_on() -> None:
    _, events, _ = _replay(_corpus(12, final=False))
    assert _completed(events) == []


# -- call state is decided once ------------------------------------------------


def _state(pair: Pair, ids: Ids, index: int, call_state: str) -> CallStateChanged:
    envelope = _corpus(index, call_state=call_state)
    events = pair.send(event_frame(ids(), "calling.call.state", envelope["params"]))
    (event,) = [e for e in events if isinstance(e, CallStateChanged)]
    return event


def test_call_state_only_moves_forward() -> None:
    # Frames 76-78: one call's created, answered, ended (a node fixture).
    pair, ids = ready()
    setup_for(pair, ids, _corpus(76))
    assert _state(pair, ids, 76, "created").state == "created"
    answered = _state(pair, ids, 77, "answered")
    assert (answered.call_state, answered.state) == ("answered", "answered")
    late = _state(pair, ids, 77, "ringing")  # ringing after answered
    assert (late.call_state, late.state) == ("ringing", "answered")
    assert pair.conn.calls["call-id"].state == "answered"
    odd = _state(pair, ids, 77, "on-hold")  # no known state: the call stays put
    assert odd.state == "answered"
    ended = _state(pair, ids, 78, "ended")
    assert ended.state == "ended"
    assert "call-id" not in pair.conn.calls


def test_answered_after_ending_reads_ending() -> None:
    pair, ids = ready()
    setup_for(pair, ids, _corpus(31))
    _state(pair, ids, 31, "ending")
    assert _state(pair, ids, 30, "answered").state == "ending"


def test_repeated_receive_carries_the_tracked_state() -> None:
    pair, ids = ready()
    receive = _corpus(20)
    first = pair.send(event_frame(ids(), "calling.call.receive", receive["params"]))
    assert [e.state for e in first if isinstance(e, CallReceived)] == ["created"]
    call_id = receive["params"]["call_id"]
    pair.send(event_frame(ids(), "calling.call.state", {"call_id": call_id,
                                                        "call_state": "answered"}))  # fmt: skip
    # A second offer of a delivered call is a redelivery: ACKed, never re-emitted.
    assert not pair.send(event_frame(ids(), "calling.call.receive", receive["params"]))
    # Once this client passed the call back, a new offer of it is delivered,
    # and it carries the tracked state, not "created".
    pair.conn.send_request("calling.pass", {"call_id": call_id, "node_id": "n"}, pair.now)
    again = pair.send(event_frame(ids(), "calling.call.receive", receive["params"]))
    assert [e.state for e in again if isinstance(e, CallReceived)] == ["answered"]


def test_state_defaults_to_call_state_outside_a_connection() -> None:
    event = CallStateChanged("calling.call.state", {"call_state": "ringing"})
    assert event.state == "ringing"
    assert CallStateChanged("calling.call.state", {}, state="ended").state == "ended"


# -- end_reason spellings ----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("noAnswer", "noAnswer"), ("no_answer", "noAnswer"), ("declined", "decline"),
     ("decline", "decline"), (None, ""), ("busy", "busy"), ("hangup", "hangup")],
)  # fmt: skip
def test_end_reason_reads_in_the_constants_spelling(raw: str | None, canonical: str) -> None:
    # Frame 197: the 2.x SDK's ended state with end_reason "noAnswer".
    params = _corpus(197)["params"]
    params["end_reason"] = raw
    event = CallStateChanged.from_payload({"event_type": "calling.call.state", "params": params})
    assert event.end_reason == canonical
    assert event.params["end_reason"] == raw  # the raw value stays
