"""The event classes against the official ``signalwire.relay.event`` surface.

``from_payload`` exists on every class, constructors take ``event_type`` and
``params`` by position, and every typed field of an official class reads the
same value from every corpus frame (our readers are tolerant where the official
ones pass a wrong-typed value through: there ours read the type's default).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import relay_proto as core
from relay_proto import EVENT_CLASSES, RelayEvent

from .corpus import FRAMES, event_envelope

pytestmark = pytest.mark.timeout(20)

#: official class name -> ours (the same pairs as relaykit.client's alias table).
OFFICIAL_NAMES: dict[str, type[RelayEvent]] = {
    "RelayEvent": RelayEvent,
    "CallStateEvent": core.CallStateChanged,
    "CallReceiveEvent": core.CallReceived,
    "PlayEvent": core.PlayStateChanged,
    "RecordEvent": core.RecordStateChanged,
    "CollectEvent": core.CollectResultReceived,
    "ConnectEvent": core.ConnectStateChanged,
    "DetectEvent": core.DetectResultReceived,
    "FaxEvent": core.FaxStateChanged,
    "TapEvent": core.TapStateChanged,
    "StreamEvent": core.StreamStateChanged,
    "SendDigitsEvent": core.SendDigitsStateChanged,
    "DialEvent": core.DialStateChanged,
    "ReferEvent": core.ReferStateChanged,
    "DenoiseEvent": core.DenoiseStateChanged,
    "PayEvent": core.PayStateChanged,
    "QueueEvent": core.QueueStateChanged,
    "EchoEvent": core.EchoStateChanged,
    "TranscribeEvent": core.TranscribeStateChanged,
    "HoldEvent": core.HoldStateChanged,
    "ConferenceEvent": core.ConferenceUpdated,
    "CallingErrorEvent": core.CallingErrorReceived,
    "MessageReceiveEvent": core.MessageReceived,
    "MessageStateEvent": core.MessageStateChanged,
}

_DEFAULTS: dict[type, Any] = {str: "", int: 0, float: 0.0, bool: False, dict: {}, list: []}
# How the official annotations spell each type (they are strings under PEP 563).
_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}


def _corpus_envelopes() -> list[tuple[int, dict[str, Any]]]:
    found = []
    for index, line in enumerate(FRAMES):
        if line["direction"] == "s2c" and line["kind"].startswith("event:"):
            envelope = event_envelope(line)
            if envelope is not None and envelope.get("event_type") in EVENT_CLASSES:
                found.append((index, envelope))
    return found


def test_every_event_class_has_from_payload_and_positional_args() -> None:
    payload = {"event_type": "calling.call.play", "params": {"call_id": "c1"}, "timestamp": 2.5}
    for cls in {*EVENT_CLASSES.values(), RelayEvent, core.UnknownEventReceived}:
        event = cls.from_payload(payload)
        assert type(event) is cls  # whatever the type says, as the official method
        assert event.event_type == "calling.call.play"
        assert event.timestamp == 2.5
        positional = cls("calling.call.play", {"call_id": "c1"}, timestamp=1.0)
        assert (positional.call_id, positional.timestamp) == ("c1", 1.0)
        assert not hasattr(positional, "__dict__")  # slotted
        with pytest.raises(dataclasses.FrozenInstanceError):
            positional.event_type = "x"  # type: ignore[misc]
        with pytest.raises(TypeError):
            # The official third argument is call_id; here it is read from params.
            cls("calling.call.play", {}, "c1")  # type: ignore[misc]


def test_from_payload_leaves_the_callers_dict_alone_and_tolerates_junk() -> None:
    params: dict[str, Any] = {"result": {"type": "digit", "params": {"digits": "1"}}}
    event = core.CollectResultReceived.from_payload(
        {"event_type": "calling.call.collect", "params": params, "timestamp": "7.25"}
    )
    assert event.digits == "1"
    assert event.result["digits"] == "1"  # the seed-friendly view
    assert type(params["result"]) is dict  # the caller's object was not wrapped
    assert event.timestamp == 7.25
    junk = core.PlayStateChanged.from_payload({"event_type": 5, "params": [1], "timestamp": True})
    assert (junk.event_type, dict(junk.params), junk.timestamp) == ("", {}, 0.0)
    # Official semantics: a timestamp inside params is used when the envelope has none.
    inner = RelayEvent.from_payload({"event_type": "x", "params": {"timestamp": 3}})
    assert inner.timestamp == 3.0


def test_authorization_state_from_payload_drops_the_credential() -> None:
    event = core.AuthorizationStateUpdated.from_payload(
        {"event_type": "signalwire.authorization.state", "params": {"authorization_state": "s"}}
    )
    assert event.params == {}


def test_added_typed_fields() -> None:
    queue = core.QueueStateChanged("calling.call.queue", {"status": "enqueue", "id": "q1",
                                   "name": "support", "position": "3", "size": 10})  # fmt: skip
    assert (queue.status, queue.queue_id, queue.queue_name, queue.position, queue.size) == (
        "enqueue", "q1", "support", 3, 10,
    )  # fmt: skip
    refer = core.ReferStateChanged("calling.call.refer", {"sip_refer_response_code": 202})
    assert refer.sip_refer_response_code == "202"
    fax = core.FaxStateChanged("calling.call.fax", {"fax": {"params": {"pages": "2.0"}}})
    assert fax.pages == 2
    record = core.RecordStateChanged("calling.call.record", {"duration": "nan", "size": True})
    assert (record.duration, record.size) == (0.0, 0)


official_event = pytest.importorskip("signalwire.relay.event")


@pytest.mark.parametrize("name", sorted(OFFICIAL_NAMES))
def test_official_class_fields_exist_here(name: str) -> None:
    official = getattr(official_event, name)
    ours = OFFICIAL_NAMES[name]
    for field in dataclasses.fields(official):
        assert hasattr(ours, field.name), f"{ours.__name__} lacks {field.name}"
    assert callable(ours.from_payload)


@pytest.mark.parametrize(("index", "envelope"), _corpus_envelopes())
def test_fields_read_like_the_official_ones(index: int, envelope: dict[str, Any]) -> None:
    event_type = envelope["event_type"]
    official_cls = official_event.EVENT_CLASS_MAP.get(event_type)
    if official_cls is None:
        pytest.skip(f"{event_type} has no official class")
    official = official_cls.from_payload(envelope)
    ours = EVENT_CLASSES[event_type].from_payload(envelope)
    for field in dataclasses.fields(official_cls):
        if field.name in ("params", "timestamp"):
            continue  # params: the same object; timestamp: ours reads the envelope's
        theirs = getattr(official, field.name)
        mine = getattr(ours, field.name)
        spelled = str(field.type)
        if spelled == "bool | None":
            assert mine == theirs, (index, field.name)
            continue
        kind = _TYPES.get(spelled) or (dict if spelled.startswith("dict") else list)
        numeric = kind is float and isinstance(theirs, int)  # 15 for a float field
        if (isinstance(theirs, kind) or numeric) and not (
            kind is not bool and isinstance(theirs, bool)
        ):
            assert mine == theirs, (index, field.name)
        else:
            # The official reader passes e.g. null through; ours reads the default.
            assert mine == _DEFAULTS[kind], (index, field.name, theirs)
