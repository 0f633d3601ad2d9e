"""Golden tables: commands and server frames <-> the exact JSON text on the wire.

Like ``SIMPLE_CASES`` in h11's ``test_io.py``: each row is one input and the
exact text (or event) it must produce, so any change to the wire format is a
deliberate, visible edit here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from relay_proto import (
    CallReceived,
    CallStateChanged,
    CollectResultReceived,
    ConferenceUpdated,
    DenoiseStateChanged,
    Event,
    MessageReceived,
    ProtocolErrorReceived,
    RecordStateChanged,
    RelayConnection,
    ResponseReceived,
    ServerDisconnectRequested,
    UnknownEventReceived,
)

from .helpers import Pair

pytestmark = pytest.mark.timeout(10)

NOW = 100.0

# (command, exact text the server receives).  Ids count from r-2 (r-1 was connect).
COMMANDS: list[tuple[Callable[[RelayConnection], object], str]] = [
    (
        lambda c: c.send_request("calling.answer", {"node_id": "n-01", "call_id": "c-0001"}, NOW),
        '{"jsonrpc":"2.0","id":"r-2","method":"calling.answer",'
        '"params":{"node_id":"n-01","call_id":"c-0001"}}',
    ),
    (
        lambda c: c.send_request(
            "calling.play",
            {
                "node_id": "n",
                "call_id": "c",
                "control_id": "ctl",
                "play": [{"type": "tts", "params": {"text": 'Grüße "hi"'}}],
            },
            NOW,
        ),
        '{"jsonrpc":"2.0","id":"r-2","method":"calling.play","params":{"node_id":"n","call_id":"c",'
        '"control_id":"ctl","play":[{"type":"tts","params":{"text":"Grüße \\"hi\\""}}]}}',
    ),
    (
        lambda c: c.subscribe(["sales"], NOW),
        '{"jsonrpc":"2.0","id":"r-2","method":"signalwire.receive","params":{"contexts":["sales"]}}',
    ),
    (
        lambda c: c.unsubscribe(["office"], NOW),
        '{"jsonrpc":"2.0","id":"r-2","method":"signalwire.unreceive","params":{"contexts":["office"]}}',
    ),
    (
        lambda c: c.send_request(
            "messaging.send", {"context": "x", "body": "hi", "media": []}, NOW
        ),
        '{"jsonrpc":"2.0","id":"r-2","method":"messaging.send",'
        '"params":{"context":"x","body":"hi","media":[]}}',
    ),
]


@pytest.mark.parametrize(("command", "expected"), COMMANDS)
def test_command_golden(command: Callable[[RelayConnection], object], expected: str) -> None:
    pair = Pair()
    pair.authenticate()
    pair.server.texts.clear()
    command(pair.conn)
    pair.flush()
    assert pair.server.texts == [expected]


def test_connect_golden_text() -> None:
    pair = Pair(contexts=["office"])
    pair.open()
    assert pair.server.texts == [
        '{"jsonrpc":"2.0","id":"r-1","method":"signalwire.connect","params":{'
        '"version":{"major":2,"minor":0,"revision":0},"agent":"relaykit/0.1.0",'
        '"event_acks":true,"authentication":{"project":"p-1234","token":"PT-secret-token"},'
        '"contexts":["office"]}}'
    ]


def _check_call(event: Event) -> None:
    assert isinstance(event, CallReceived)
    assert (event.call_id, event.node_id, event.context, event.direction) == (
        "c-0001",
        "n-01",
        "office",
        "inbound",
    )
    assert event.device["params"]["from_number"] == "+15551110000"
    assert event.timestamp == 1732190000.123


def _check_collect(event: Event) -> None:
    assert isinstance(event, CollectResultReceived)
    assert (event.type, event.digits, event.terminator, event.is_final) == ("digit", "1", "#", True)
    # The seed docs' flat read works too.
    assert event.params["result"]["digits"] == "1"


def _check_record(event: Event) -> None:
    assert isinstance(event, RecordStateChanged)
    assert (event.url, event.duration, event.size) == ("https://f/r.mp3", 4.5, 4096)


def _type_is(cls: type[Event]) -> Callable[[Event], None]:
    def check(event: Event) -> None:
        assert type(event) is cls

    return check


CALL = (
    '"params":{"call_id":"c-0001","node_id":"n-01","call_state":"created","context":"office",'
    '"direction":"inbound","device":{"type":"phone","params":{"from_number":"+15551110000",'
    '"to_number":"+15552220000"}}}'
)

# (server text, checker of the single resulting event or None, exact client reply or None).
SERVER_FRAMES: list[tuple[str, Callable[[Event], None] | None, str | None]] = [
    (
        '{"jsonrpc":"2.0","id":"e-2","method":"signalwire.event","params":{"event_type":'
        '"calling.call.receive","timestamp":1732190000.123,' + CALL + "}}",
        _check_call,
        '{"jsonrpc":"2.0","id":"e-2","result":{}}',
    ),
    (
        '{"jsonrpc":"2.0","id":"e-3","method":"signalwire.event","params":{"event_type":'
        '"calling.call.collect","params":{"call_id":"c-0001","control_id":"g","final":true,'
        '"result":{"type":"digit","params":{"digits":"1","terminator":"#"}}}}}',
        None,  # unknown call: dropped, but still ACKed
        '{"jsonrpc":"2.0","id":"e-3","result":{}}',
    ),
    (
        '{"jsonrpc":"2.0","id":"e \\" 4","method":"signalwire.event","params":{"event_type":'
        '"calling.conference","params":{"conference_id":"cf"}}}',
        _type_is(ConferenceUpdated),
        '{"jsonrpc":"2.0","id":"e \\" 4","result":{}}',
    ),
    (
        '{"jsonrpc":"2.0","id":"pg-9","method":"signalwire.ping","params":{}}',
        None,
        '{"jsonrpc":"2.0","id":"pg-9","result":{}}',
    ),
    (
        '{"jsonrpc":"2.0","id":"d-1","method":"signalwire.disconnect","params":{}}',
        _type_is(ServerDisconnectRequested),
        '{"jsonrpc":"2.0","id":"d-1","result":{}}',
    ),
    (
        '{"jsonrpc":"2.0","method":"signalwire.event","params":{"event_type":"messaging.receive",'
        '"params":{"message_id":"m","body":"hi","media":["u",3],"segments":1}}}',
        _type_is(MessageReceived),
        None,
    ),
    (
        '{"jsonrpc":"2.0","id":7,"method":"signalwire.event","params":{"event_type":"x.y",'
        '"params":{}}}',
        _type_is(UnknownEventReceived),
        '{"jsonrpc":"2.0","id":7,"result":{}}',
    ),
    ("not json", _type_is(ProtocolErrorReceived), None),
    ("[1,2]", _type_is(ProtocolErrorReceived), None),
    ('{"jsonrpc":"2.0","id":"z","result":{}}', _type_is(ProtocolErrorReceived), None),
    ('{"jsonrpc":"2.0","id":true,"result":{}}', _type_is(ProtocolErrorReceived), None),
    (
        '{"jsonrpc":"2.0","id":"q","method":"signalwire.event","params":[]}',
        _type_is(ProtocolErrorReceived),
        None,
    ),
]


@pytest.mark.parametrize(("text", "check", "reply"), SERVER_FRAMES)
def test_server_frame_golden(
    text: str, check: Callable[[Event], None] | None, reply: str | None
) -> None:
    pair = Pair()
    pair.authenticate()
    pair.server.texts.clear()
    events = pair.send(text)
    if check is None:
        assert events == []
    else:
        assert len(events) == 1, events
        check(events[0])
    pair.flush()
    assert pair.server.texts == ([reply] if reply else [])


def test_event_golden_types_after_call_known() -> None:
    pair = Pair()
    pair.authenticate()
    pair.send(
        '{"jsonrpc":"2.0","id":"e-1","method":"signalwire.event","params":{"event_type":'
        '"calling.call.receive",' + CALL + "}}"
    )
    frames: list[tuple[str, dict[str, Any], Callable[[Event], None]]] = [
        (
            "calling.call.collect",
            {
                "final": True,
                "result": {"type": "digit", "params": {"digits": "1", "terminator": "#"}},
            },
            _check_collect,
        ),
        (
            "calling.call.record",
            {"state": "finished", "url": "https://f/r.mp3", "duration": 4.5, "size": 4096},
            _check_record,
        ),
        ("calling.call.denoise", {"denoised": True}, _type_is(DenoiseStateChanged)),
        ("calling.call.state", {"call_state": "ringing"}, _type_is(CallStateChanged)),
    ]
    for index, (event_type, params, check) in enumerate(frames):
        params = {"call_id": "c-0001", "node_id": "n-01", **params}
        (event,) = pair.send(
            {
                "jsonrpc": "2.0",
                # Distinct ids: a repeated id is a redelivery, dropped after its ACK.
                "id": f"x-{index}",
                "method": "signalwire.event",
                "params": {"event_type": event_type, "params": params},
            }
        )
        check(event)


def test_response_golden() -> None:
    pair = Pair()
    pair.authenticate()
    rid = pair.conn.send_request("calling.answer", {}, NOW)
    (event,) = pair.send(
        '{"jsonrpc":"2.0","id":"' + rid + '","result":{"code":"200","message":"Answered"}}'
    )
    assert event == ResponseReceived(
        request_id=rid, method="calling.answer", result={"code": "200", "message": "Answered"}
    )
