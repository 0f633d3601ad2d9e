"""Golden replay of every server-to-client frame of the public wire corpus.

Each ``s2c`` frame of ``data/wire-corpus/frames.jsonl`` goes through a fresh
:class:`RelayConnection` (after :func:`corpus.setup_for` made the router know
its call, dial, action or message) and the test checks the typed class, the
ACK, the accessors' values and whether the action (dial, message) completes.
Frames outside what this client speaks are listed in :data:`OUT_OF_SCOPE`
with the reason; every other ``s2c`` frame must be replayed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from relay_proto import (
    ActionCompleted,
    AuthenticationRejected,
    AuthorizationStateUpdated,
    CallingErrorReceived,
    CallReceived,
    CallStateChanged,
    CollectResultReceived,
    ConferenceUpdated,
    ConnectStateChanged,
    DenoiseStateChanged,
    DetectResultReceived,
    DialCompleted,
    DialStateChanged,
    EchoStateChanged,
    FaxStateChanged,
    HoldStateChanged,
    MessageCompleted,
    MessageReceived,
    MessageStateChanged,
    PayStateChanged,
    PlayStateChanged,
    QueueStateChanged,
    RecordStateChanged,
    ReferStateChanged,
    RelayEvent,
    RequestFailed,
    ResponseReceived,
    SendDigitsStateChanged,
    ServerDisconnectRequested,
    SessionAuthenticated,
    StreamStateChanged,
    TapStateChanged,
    TranscribeStateChanged,
)

from .corpus import DATA, FRAMES, START_METHOD, event_envelope, ready, setup_for
from .helpers import Pair

pytestmark = pytest.mark.timeout(30)

_BLADE_SESSION = "Blade-era session setup (blade.connect / signalwire.setup / blade.subscription)"
_BLADE_NESTED = (
    "Blade-era blade.execute nesting (result.result, requester/responder node ids) in a "
    "JSON-RPC response; today's responses carry the RELAY result flat"
)
_VIDEO = "video/WebRTC (verto, room member) event: not RELAY calling or messaging"

#: s2c frames deliberately not replayed, and why.
OUT_OF_SCOPE: dict[int, str] = {
    21: _VIDEO,
    216: _VIDEO,
    217: _VIDEO,
    218: _VIDEO,
    88: _BLADE_SESSION,
    89: _BLADE_SESSION,
    90: _BLADE_SESSION,
    92: _BLADE_SESSION,
    93: _BLADE_SESSION,
    208: _BLADE_SESSION,
    225: _BLADE_SESSION,
    22: _BLADE_NESTED,
    45: _BLADE_NESTED,
    23: _BLADE_NESTED,
    65: _BLADE_NESTED,
    66: _BLADE_NESTED,
    67: _BLADE_NESTED,
    68: _BLADE_NESTED,
    94: _BLADE_NESTED,
    224: _BLADE_NESTED,
}

#: event_type -> the class the core must build (written out, not read from EVENT_CLASSES).
CLASS_OF: dict[str, type[RelayEvent]] = {
    "calling.call.state": CallStateChanged,
    "calling.call.receive": CallReceived,
    "calling.call.dial": DialStateChanged,
    "calling.call.connect": ConnectStateChanged,
    "calling.call.play": PlayStateChanged,
    "calling.call.record": RecordStateChanged,
    "calling.call.collect": CollectResultReceived,
    "calling.call.detect": DetectResultReceived,
    "calling.call.fax": FaxStateChanged,
    "calling.call.tap": TapStateChanged,
    "calling.call.stream": StreamStateChanged,
    "calling.call.send_digits": SendDigitsStateChanged,
    "calling.call.refer": ReferStateChanged,
    "calling.call.denoise": DenoiseStateChanged,
    "calling.call.pay": PayStateChanged,
    "calling.call.queue": QueueStateChanged,
    "calling.call.echo": EchoStateChanged,
    "calling.call.transcribe": TranscribeStateChanged,
    "calling.call.hold": HoldStateChanged,
    "calling.conference": ConferenceUpdated,
    "calling.error": CallingErrorReceived,
    "messaging.receive": MessageReceived,
    "messaging.state": MessageStateChanged,
    "signalwire.authorization.state": AuthorizationStateUpdated,
}

#: Action event frames that do NOT end their action (all others do), read off
#: the corpus by hand: progress states (enqueue, tapping, streaming, playing,
#: recording, fax pages), detector progress (UNKNOWN, READY, NOT_READY) and a
#: collect event with no result at all.
GOES_ON: frozenset[int] = frozenset(
    {1, 8, 18, 57, 58, 59, 100, 104, 107, 108, 109, 116, 141, 143, 144, 158, 175, 177, 178}
    | {189, 196}
)

_X = "xxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
_REC_URL = "https://your-space.signalwire.com/api/v1/recordings/rec-uuid/download"
_RTP = {
    "type": "rtp",
    "params": {"addr": "192.168.1.100", "port": 12345, "codec": "PCMU", "ptime": 20},
}

#: frame -> typed accessor values, for the frames that show something.
ACCESSORS: dict[int, dict[str, Any]] = {
    0: {
        "state": "success",
        "sip_refer_to": "sip:alice@example.com",
        "sip_refer_response_code": "202",
        "sip_notify_response_code": "200",
    },
    1: {
        "status": "enqueue",
        "queue_id": "9f8e7d6c-5b4a-4321-9876-543210fedcba",
        "queue_name": "support_queue",
        "position": 1,
        "size": 1,
        "avg_time": 0.0,
    },
    2: {"status": "leave", "queue_name": "support_queue"},
    3: {
        "status": "dequeue",
        "control_id": "",
        "position": 0,
        "size": 0,
        "node_id": "2b3c4d5e-6f7a-4890-bcde-f01234567890@us-east",
    },
    4: {"state": "finished", "url": _REC_URL, "duration": 15.5, "size": 248320},
    5: {
        "url": _REC_URL,
        "duration": 15.0,
        "size": 248320,
        "recording_id": _X,
        "start_time": 1640000000.123,
        "end_time": 1640000015.623,
    },
    6: {"type": "finished", "pages": 3, "result": "0", "success": True},
    7: {"type": "finished", "result_text": "OK", "document": "https://example.com/fax_to_send.pdf"},
    8: {"state": "tapping", "tap": {"type": "audio", "params": {"direction": "both"}}},
    9: {"type": "machine", "result": "MACHINE", "beep": True, "segment_id": _X},
    10: {"name": "my_conference", "status": "participant-join", "conference_id": _X},
    11: {"status": "conference-end"},
    12: {"type": "digit", "digits": "1234", "terminator": "#", "is_final": True},
    13: {"type": "speech", "speech": "one", "confidence": 0.95},
    14: {
        "progress": "payment-completed",
        "outcome": "completed",
        "payment_method": "credit-card",
        "error_type": "",
        "state": "",
    },
    15: {"call_state": "answered", "state": "answered", "end_reason": "", "direction": "outbound"},
    17: {"connect_state": "failed", "failed_reason": "no_answer"},
    18: {
        "state": "streaming",
        "url": "wss://example.com/audio",
        "name": "my-stream",
        "call_id": "",
    },
    20: {"call_state": "created", "context": "test-golang", "direction": "inbound"},
    31: {"call_state": "ending", "end_reason": "busy", "state": "ending"},
    32: {"call_state": "ended", "end_reason": "busy", "state": "ended"},
    33: {"dial_state": "answered", "tag": "mocked-uuid"},
    42: {"pages": 1, "result": "1231", "success": True},
    51: {"dial_state": "failed"},
    53: {"type": "fax", "result": "error", "beep": False},
    62: {"type": "digit", "result": "1#"},
    98: {"project_id": "p1", "segment_id": "s1", "context": "office", "tag": "t1", "node_id": "n1"},
    99: {"context": "support"},
    101: {"url": "https://example.com/rec.mp3", "duration": 15.5, "size": 128000},
    102: {"url": "https://nested.com/rec.mp3", "duration": 10.0, "size": 5000},
    103: {"final": True, "is_final": True, "digits": "1234"},
    104: {"type": "", "is_final": False, "final": None},
    107: {"type": "page"},
    109: {"url": "wss://example.com/audio", "name": "my_stream"},
    112: {"sip_refer_to": "sip:user@example.com", "sip_refer_response_code": "202"},
    113: {"denoised": True},
    114: {"denoised": False},
    115: {"outcome": "completed", "progress": ""},
    116: {"queue_id": "q1", "queue_name": "support", "position": 3, "size": 10},
    118: {"url": "recordings/abc.wav", "recording_id": "r1", "duration": 30.0, "size": 123456},
    120: {"name": "my_conf", "status": "conference-start"},
    121: {"code": "500", "message": "Server error"},
    123: {
        "segments": 2,
        "tags": ["vip", "support"],
        "media": ["https://example.com/photo.jpg", "https://example.com/doc.pdf"],
    },
    124: {"message_id": "", "body": "", "media": [], "segments": 0},
    126: {"message_state": "failed", "reason": "spam"},
    158: {"type": "page", "pages": 1},
    164: {"speech": "example hello", "confidence": 83.4},
    165: {"type": "error", "is_final": True},
    197: {"call_state": "ended", "end_reason": "noAnswer"},
    201: {
        "device": {
            "type": "agora",
            "params": {
                "to": "+15551231234",
                "from": "+15551231245",
                "appid": "uuid",
                "channel": "1111",
                "timeout": 60,
            },
        }
    },
}
ACCESSORS[8]["device"] = _RTP

#: The ActionCompleted.kind of each action event type the replay starts.
KIND_OF: dict[str, str] = {
    "calling.call.play": "play",
    "calling.call.record": "record",
    "calling.call.collect": "collect",
    "calling.call.detect": "detect",
    "calling.call.fax": "fax",
    "calling.call.tap": "tap",
    "calling.call.stream": "stream",
    "calling.call.send_digits": "send_digits",
    "calling.call.pay": "pay",
    "calling.call.queue": "queue",
    "calling.call.transcribe": "transcribe",
}
assert set(KIND_OF) == set(START_METHOD)


def _s2c() -> list[int]:
    return [i for i, line in enumerate(FRAMES) if line["direction"] == "s2c"]


def _replayed_events() -> list[int]:
    return [i for i in _s2c() if i not in OUT_OF_SCOPE and FRAMES[i]["kind"].startswith("event:")]


def test_corpus_copy_is_the_shared_one() -> None:
    # ../shared beside the repository (a CI clone's layout).
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "wire-corpus"
    if not (shared / "frames.jsonl").exists():
        pytest.skip("no ../shared/wire-corpus beside the repository")
    for name in ("frames.jsonl", "README.md"):
        assert (DATA / name).read_bytes() == (shared / name).read_bytes(), name


def test_every_s2c_frame_is_replayed_or_listed() -> None:
    s2c = set(_s2c())
    assert set(OUT_OF_SCOPE) <= s2c
    replayed = set(_replayed_events()) | set(NON_EVENTS)
    assert replayed | set(OUT_OF_SCOPE) == s2c
    assert not replayed & set(OUT_OF_SCOPE)
    assert set(ACCESSORS) <= replayed
    assert replayed >= GOES_ON


def _params_equal(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@pytest.mark.parametrize("index", _replayed_events())
def test_event_frame(index: int) -> None:
    line = FRAMES[index]
    envelope = event_envelope(line)
    assert envelope is not None, line["envelope"]
    event_type = envelope["event_type"]
    pair, ids = ready()
    control_id = setup_for(pair, ids, envelope)
    pair.flush()
    pair.events.clear()
    events = pair.send(
        {"jsonrpc": "2.0", "id": "corpus-e", "method": "signalwire.event", "params": envelope}
    )
    # ACKed with exactly the id received, whatever the frame holds.
    assert pair.flush() == [{"jsonrpc": "2.0", "id": "corpus-e", "result": {}}]
    typed = [e for e in events if isinstance(e, RelayEvent)]
    assert len(typed) == 1, events
    event = typed[0]
    assert type(event) is CLASS_OF[event_type]
    assert event.event_type == event_type
    stamp = envelope.get("timestamp", 0.0)
    assert event.timestamp == (float(stamp) if stamp is not None else 0.0)
    if event_type == "signalwire.authorization.state":
        assert event.params == {}  # a credential: never in an event
    else:
        assert _params_equal(event.params, envelope["params"])
    params = envelope["params"]
    for name in ("call_id", "control_id", "node_id", "tag"):
        raw = params.get(name)
        assert getattr(event, name) == (raw if isinstance(raw, str) else ""), name
    for name, value in ACCESSORS.get(index, {}).items():
        assert getattr(event, name) == value, name
    _check_outcome(index, pair, event, events, control_id)


def _check_outcome(
    index: int, pair: Pair, event: RelayEvent, events: list[Any], control_id: str | None
) -> None:
    """Did the action / dial / message / call end exactly when the frame ends it?"""
    completed = [e for e in events if isinstance(e, ActionCompleted)]
    if control_id is not None:
        if index in GOES_ON:
            assert completed == [], f"frame {index} must not end its action"
        else:
            assert len(completed) == 1, f"terminal frame {index} left its action running"
            done = completed[0]
            assert (done.control_id, done.reason, done.event) == (control_id, "finished", event)
            assert done.kind == KIND_OF[event.event_type]
    else:
        assert completed == []
    if isinstance(event, DialStateChanged):
        dials = [e for e in events if isinstance(e, DialCompleted)]
        assert [d.reason for d in dials] == [event.dial_state]
    if isinstance(event, MessageStateChanged) and event.message_id:
        messages = [e for e in events if isinstance(e, MessageCompleted)]
        ends = event.message_state in ("delivered", "undelivered", "failed")
        assert [m.reason for m in messages] == ([event.message_state] if ends else [])
    if isinstance(event, CallStateChanged):
        assert (event.call_id in pair.conn.calls) == (event.call_state != "ended")


# -- the frames that are not events ---------------------------------------------------


def _request_then(pair: Pair, method: str, line: dict[str, Any]) -> list[Any]:
    """Send *method*, answer it with the frame (its id replaced by ours)."""
    rid = pair.conn.send_request(method, {"call_id": "c1", "control_id": "k1"}, pair.now)
    pair.flush()
    raw = line["frame"]
    if line["envelope"] == "blade.execute result":
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "result": raw["result"]}
    else:
        message = {**raw, "id": rid}
    return pair.send(message)


def _one(events: list[Any], cls: type) -> Any:
    found = [e for e in events if isinstance(e, cls)]
    assert len(found) == 1, events
    return found[0]


def _result(method: str, **expect: Any) -> Any:
    def check(line: dict[str, Any]) -> None:
        pair, _ = ready()
        got = _one(_request_then(pair, method, line), ResponseReceived)
        for key, value in expect.items():
            assert got.result[key] == value

    return check


def _failure(method: str, code: int, message: str) -> Any:
    def check(line: dict[str, Any]) -> None:
        pair, _ = ready()
        failed = _one(_request_then(pair, method, line), RequestFailed)
        assert (failed.code, failed.message) == (code, message)

    return check


def _connect_result(line: dict[str, Any]) -> None:
    pair = Pair()
    connect = pair.open()
    auth = _one(pair.send({**line["frame"], "id": connect["id"]}), SessionAuthenticated)
    assert auth.identity.endswith(".west-us")
    assert auth.identity == line["frame"]["result"]["identity"]


def _connect_error(line: dict[str, Any]) -> None:
    pair = Pair()
    connect = pair.open()
    rejected = _one(pair.send({**line["frame"], "id": connect["id"]}), AuthenticationRejected)
    assert rejected.code == -32002
    assert rejected.message == (
        "Authentication service failed with status ProtocolError, 401 Unauthorized: {}"
    )


def _disconnect(line: dict[str, Any]) -> None:
    pair, _ = ready()
    assert pair.send(line["frame"]) == [ServerDisconnectRequested(restart=False)]
    assert pair.flush() == [{"jsonrpc": "2.0", "id": "uuid", "result": {}}]


def _ping(line: dict[str, Any]) -> None:
    pair, _ = ready()
    assert pair.send(line["frame"]) == []
    assert pair.flush() == [{"jsonrpc": "2.0", "id": "ping-uuid", "result": {}}]


def _send_registers(line: dict[str, Any]) -> None:
    pair, _ = ready()
    rid = pair.conn.send_request("messaging.send", {"body": "hi"}, pair.now)
    pair.flush()
    pair.send({"jsonrpc": "2.0", "id": rid, "result": line["frame"]["result"]})
    message_id = line["frame"]["result"]["message_id"]
    state = {"message_id": message_id, "message_state": "delivered"}
    events = pair.send(
        {
            "jsonrpc": "2.0",
            "id": "m1",
            "method": "signalwire.event",
            "params": {"event_type": "messaging.state", "params": state},
        }
    )
    assert _one(events, MessageCompleted).message_id == message_id


NON_EVENTS: dict[int, Any] = {
    91: _failure("calling.answer", -32000, "Timeout"),
    95: _failure("calling.answer", -32601, "Error message.."),
    191: _result("calling.record", url="record.mp3"),
    193: _result("calling.tap", control_id="control-id"),
    206: _send_registers,
    207: _failure("messaging.send", 400, "Some error"),
    209: _result("signalwire.receive", code="200"),
    210: _connect_result,
    211: _connect_error,
    212: _result("calling.play", message="Playing"),
    213: _failure("calling.answer", -32001, "Permission Denied."),
    214: _failure("calling.answer", -32601, "Error Message"),
    215: _disconnect,
    226: _result("signalwire.receive", code="200"),
    244: _ping,
}


@pytest.mark.parametrize("index", sorted(NON_EVENTS))
def test_other_frame(index: int) -> None:
    NON_EVENTS[index](FRAMES[index])


def test_authorization_state_frame_is_resumed_with() -> None:
    (index,) = [i for i in _replayed_events() if "authorization" in FRAMES[i]["kind"]]
    pair, _ = ready()
    pair.send(FRAMES[index]["frame"])
    pair.now = pair.drop().at
    connect = pair.reconnect_socket()
    assert connect["params"]["authorization_state"] == "QUJDRA==:RUZHSA=="
