"""The emulator's events have the shapes of the platform's (wire corpus, issue 12 §2).

``data/frames.jsonl`` is a copy of the public wire corpus (246 frames from
SignalWire SDK fixtures and docs; see its README in ``/work/shared/wire-corpus``).
For every ``event:*`` kind the emulator can produce, a scenario drives the
sans-IO emulator until it has sent events of that kind, and each of them is
compared with the corpus's high- and medium-confidence frames of the kind:

* **keys, recursively**: a key present in *every* corpus frame of the kind
  (at that path) is required; a key present in some and absent in others is
  optional; a key in no corpus frame is an extra, allowed only if listed in
  :data:`EXTRAS` with the reason;
* **JSON types**: the emulator's value at a path has one of the JSON types
  the corpus shows there (``null`` counts; int and float are both numbers).

Kinds the emulator does not produce are listed in :data:`NOT_PRODUCED` with
the reason; the test fails if the corpus gains a kind that is in neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import relay_proto
from relaykit.emulator import Caller, EmulatorServer

from .test_sansio import Wire

pytestmark = pytest.mark.timeout(30)

CORPUS = Path(__file__).parent / "data" / "frames.jsonl"

#: Kinds in the corpus the emulator never sends, and why.
NOT_PRODUCED: dict[str, str] = {
    "event:member.talking": "video-room (conference) member events: out of the emulator's scope",
    "event:member.updated": "video-room (conference) member events: out of the emulator's scope",
    "event:webrtc.message": "WebRTC/Verto signalling: out of the emulator's scope",
}

#: Keys the emulator sends that no corpus frame of the kind shows, with the reason.
#: Paths are dotted from the event's ``params``; ``[]`` is a list item.
EXTRAS: dict[str, dict[str, str]] = {
    "event:calling.call.state": {
        "tag": "relay-protocol.md §6.1: dial/connect legs carry the dial's tag",
        "created_by": "relay-protocol.md §6.1: created_by (e.g. dial) on outbound legs",
        "peer": "relay-protocol.md §6.1: peer {call_id, node_id} on legs created by connect",
        "context": "relay-protocol.md §6.1: context (opt) on inbound calls",
    },
    "event:calling.call.receive": {
        "tag": "relay-protocol.md §6.2: tag (opt; empty for an inbound offer)",
    },
    "event:calling.call.dial": {
        "call.call_state": "relay-protocol.md §6.3: answered's call (+ other call fields)",
        "call.direction": "relay-protocol.md §6.3: answered's call (+ other call fields)",
        "reason": "relay-protocol.md §6.3: failed carries reason (JS types)",
        "source": "relay-protocol.md §6.3: failed carries source (JS types)",
    },
    "event:calling.call.connect": {
        "tag": "relay-protocol.md §6.4: the connect's tag",
        "peer.tag": "relay-protocol.md §6.4: peer = {call_id, node_id, tag, device}",
    },
    "event:calling.call.detect": {
        "state": "relay-protocol.md §9.2: mirrored on the terminal event for the official SDK",
    },
    "event:calling.call.fax": {
        "state": "relay-protocol.md §9.2: mirrored on the terminal event for the official SDK",
    },
    "event:calling.call.pay": {
        "state": "relay-protocol.md §9.3: mirrored on the terminal event (clients keyed on state)",
    },
    "event:calling.call.collect": {
        "final": "relay-protocol.md §6.6: final (bool, opt); false marks a partial result",
        "state": "relay-protocol.md §6.6: state (opt: collecting, finished, error)",
    },
    "event:calling.call.stream": {
        "call_id": "relay-protocol.md §6.10: stream events are identified by call_id",
        "node_id": "every call event carries its node (relay-protocol.md §6.1-§6.10 examples)",
    },
    "event:calling.call.record": {
        "record.url": "relay-protocol.md §9.4: the result also nested under record (corpus)",
        "record.duration": "relay-protocol.md §9.4: the result also nested under record (corpus)",
        "record.size": "relay-protocol.md §9.4: the result also nested under record (corpus)",
    },
}

_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "number",
    float: "number",
    type(None): "null",
}


def _json_type(value: Any) -> str:
    return _JSON_TYPES[type(value)]


@dataclass
class Shape:
    """What the corpus shows at one path: JSON types, and for objects their keys."""

    types: set[str] = field(default_factory=set)
    objects: int = 0  # how many corpus values here were objects
    keys: dict[str, tuple[int, Shape]] = field(default_factory=dict)  # key -> (count, shape)
    items: Shape | None = None  # list items, merged

    def add(self, value: Any) -> None:
        self.types.add(_json_type(value))
        if isinstance(value, dict):
            self.objects += 1
            for key, child in value.items():
                count, shape = self.keys.get(key, (0, Shape()))
                shape.add(child)
                self.keys[key] = (count + 1, shape)
        elif isinstance(value, list):
            if self.items is None:
                self.items = Shape()
            for item in value:
                self.items.add(item)


def differences(shape: Shape, value: Any, extras: dict[str, str], path: str = "") -> list[str]:
    """How *value* departs from *shape* (empty: it fits)."""
    where = path or "params"
    kind = _json_type(value)
    if kind not in shape.types:
        return [f"{where}: {kind}, corpus has {sorted(shape.types)}"]
    out: list[str] = []
    if isinstance(value, dict) and shape.objects:
        for key, (count, _) in shape.keys.items():
            if count == shape.objects and key not in value:
                out.append(f"{path + '.' if path else ''}{key}: missing (in every corpus frame)")
        for key, child in value.items():
            sub = f"{path}.{key}" if path else key
            if key not in shape.keys:
                if sub not in extras:
                    out.append(f"{sub}: not in the corpus")
                continue
            out.extend(differences(shape.keys[key][1], child, extras, sub))
    elif isinstance(value, list) and shape.items is not None:
        for item in value:
            if shape.items.types:
                out.extend(differences(shape.items, item, extras, f"{path}[]"))
    return out


def _inner(frame: dict[str, Any]) -> dict[str, Any] | None:
    """The event's ``params`` from any of the corpus's envelopes."""
    node: Any = frame
    for _ in range(4):
        if not isinstance(node, dict):
            return None
        if "event_type" in node and isinstance(node.get("params"), dict):
            return node["params"]  # type: ignore[no-any-return]
        node = node.get("params")
    return None


def corpus_shapes() -> dict[str, Shape]:
    """Per event kind, the merged shape of its high/medium-confidence frames."""
    shapes: dict[str, Shape] = {}
    for line in CORPUS.read_text().splitlines():
        record = json.loads(line)
        kind = record["kind"]
        if not kind.startswith("event:") or record["confidence"] not in ("high", "medium"):
            continue
        params = _inner(record["frame"])
        assert params is not None, f"no event params in corpus frame of {kind}"
        shapes.setdefault(kind, Shape()).add(params)
    return shapes


# ------------------------------------------------------------------ driving the emulator
def _call(wire: Wire, script: Caller, *, answer: bool = True) -> dict[str, str]:
    call = wire.server.place_call("ivr", script, wire.now)
    wire.pump()
    ids = {"call_id": call.call_id, "node_id": call.node_id}
    if answer:
        wire.request("calling.answer", ids)
    return ids


def _run(wire: Wire, method: str, params: dict[str, Any], seconds: float = 20.0) -> None:
    outcome = wire.request(method, params)
    assert isinstance(outcome, relay_proto.ResponseReceived), (method, outcome)
    assert outcome.result.get("code") == "200", (method, outcome.result)
    wire.advance(seconds * wire.server.time_scale)


def _scenario_calls(wire: Wire) -> None:
    """Every call-scoped kind: state, receive, the actions, rooms, refer, connect."""
    media = [{"type": "tts", "params": {"text": "Hello there"}}]
    ids = _call(wire, Caller().press("12#").voicemail())
    _run(wire, "calling.play", {**ids, "control_id": "p1", "play": media})
    digits = {"max": 4, "terminators": "#", "digit_timeout": 1.0}
    _run(wire, "calling.collect", {**ids, "control_id": "c1", "digits": digits})
    _run(wire, "calling.record", {**ids, "control_id": "r1", "record": {"audio": {}}})
    machine = {"type": "machine", "params": {}}
    _run(wire, "calling.detect", {**ids, "control_id": "d1", "detect": machine})
    _run(wire, "calling.send_digits", {**ids, "control_id": "s1", "digits": "123"})
    tap = {"type": "audio", "params": {"direction": "both"}}
    device = {"type": "rtp", "params": {"addr": "127.0.0.1", "port": 1234}}
    _run(wire, "calling.tap", {**ids, "control_id": "t1", "tap": tap, "device": device}, 1)
    _run(wire, "calling.tap.stop", {**ids, "control_id": "t1"}, 1)
    stream = {"control_id": "st1", "url": "wss://example.com/audio", "name": "my-stream"}
    _run(wire, "calling.stream", {**ids, **stream}, 1)
    _run(wire, "calling.stream.stop", {**ids, "control_id": "st1"}, 1)
    pay = {"control_id": "pay1", "payment_connector_url": "https://pay.example.com"}
    _run(wire, "calling.pay", {**ids, **pay})
    queue = {"control_id": "q1", "queue_name": "support_queue"}
    _run(wire, "calling.queue.enter", {**ids, **queue}, 1)
    _run(wire, "calling.queue.leave", {**ids, **queue}, 1)
    _run(wire, "calling.join_conference", {**ids, "name": "my_conference"}, 1)
    other = _call(wire, Caller())
    _run(wire, "calling.join_conference", {**other, "name": "my_conference"}, 1)
    _run(wire, "calling.end", other, 1)
    sip = {"type": "sip", "params": {"to": "sip:alice@example.com", "from": "sip:me@example"}}
    _run(wire, "calling.refer", {**ids, "device": sip}, 1)
    plan = [[{"type": "phone", "params": {"to_number": "+15553330000"}}]]
    _run(wire, "calling.connect", {**ids, "devices": plan}, 5)
    _run(wire, "calling.end", ids, 1)
    fax_ids = _call(wire, Caller().fax())
    doc = "https://example.com/fax_to_send.pdf"
    _run(wire, "calling.send_fax", {**fax_ids, "control_id": "f1", "document": doc})
    _run(wire, "calling.end", fax_ids, 1)
    declined = _call(wire, Caller(ring_timeout=1.0), answer=False)
    del declined
    wire.advance(5 * wire.server.time_scale)


def _scenario_dial(wire: Wire) -> None:
    """``calling.call.dial``: one dial answered, one failed (busy)."""
    wire.server.configure_number("+15554440000", "busy", 0.5)
    for tag, number in (("dial-ok", "+15553330000"), ("dial-busy", "+15554440000")):
        device = {"type": "phone", "params": {"to_number": number, "from_number": "+15551110000"}}
        _run(wire, "calling.dial", {"tag": tag, "devices": [[device]]}, 5)


def _scenario_messaging(wire: Wire) -> None:
    """``messaging.state`` (a sent message's walk) and ``messaging.receive``."""
    send = {
        "context": "ivr",
        "to_number": "+15553330000",
        "from_number": "+15551110000",
        "body": "Welcome at SignalWire!",
        "tags": ["t1"],
    }
    _run(wire, "messaging.send", send, 5)
    wire.server.send_inbound_message("ivr", "+15553330000", "+15551110000", wire.now, "Hey")
    wire.pump()


SCENARIOS: list[Callable[[Wire], None]] = [_scenario_calls, _scenario_dial, _scenario_messaging]


def emulator_events() -> dict[str, list[dict[str, Any]]]:
    """Every event the scenarios make the emulator send, by ``event:<type>`` kind."""
    out: dict[str, list[dict[str, Any]]] = {}
    for scenario in SCENARIOS:
        wire = Wire(EmulatorServer(project="p", token="t", time_scale=0.001))
        scenario(wire)
        for entry in wire.server.journal.query("signalwire.event", direction="out"):
            if entry.event_type is not None:
                out.setdefault(f"event:{entry.event_type}", []).append(entry.event_params)
    return out


SHAPES = corpus_shapes()
EVENTS = emulator_events()
PRODUCED = sorted(k for k in SHAPES if k not in NOT_PRODUCED)


def test_every_corpus_kind_is_produced_or_listed() -> None:
    assert set(SHAPES) == set(PRODUCED) | set(NOT_PRODUCED)
    missing = [k for k in PRODUCED if not EVENTS.get(k)]
    assert missing == [], f"no scenario produces {missing}"


def _all_differences(kind: str) -> Iterator[str]:
    extras = EXTRAS.get(kind, {})
    for index, params in enumerate(EVENTS.get(kind, [])):
        for diff in differences(SHAPES[kind], params, extras):
            yield f"#{index} {diff}"


@pytest.mark.parametrize("kind", PRODUCED)
def test_event_shape_matches_corpus(kind: str) -> None:
    assert EVENTS.get(kind), f"the scenarios produce no {kind}"
    assert sorted(set(_all_differences(kind))) == []


def test_shape_check_catches_departures() -> None:
    shape = Shape()
    shape.add({"a": 1, "b": {"c": "x"}, "opt": True})
    shape.add({"a": 2.5, "b": {"c": "y"}})
    assert differences(shape, {"a": 3, "b": {"c": "z"}}, {}) == []
    assert differences(shape, {"b": {"c": "z"}}, {}) == ["a: missing (in every corpus frame)"]
    assert differences(shape, {"a": "1", "b": {"c": "z"}}, {}) == [
        "a: string, corpus has ['number']"
    ]
    assert differences(shape, {"a": 1, "b": {"c": "z", "d": 1}}, {}) == ["b.d: not in the corpus"]
    assert differences(shape, {"a": 1, "b": {"c": "z", "d": 1}}, {"b.d": "why"}) == []
