"""The sans-IO emulator driven directly: no sockets, no clock, fully deterministic.

Our own core (``relay_proto.RelayConnection``) talks to ``EmulatorServer`` through
in-memory byte pumps with a fake clock, so whole call flows run in microseconds
and identically every time.
"""

from __future__ import annotations

from typing import Any

import pytest

import relay_proto
from relay_proto import RelayConnection
from relay_proto import rpc as _rpc
from relaykit.emulator import Caller, EmulatorServer, ServerWebSocket
from relaykit.emulator._sessions import AUTH_FAILED_MESSAGE

pytestmark = pytest.mark.timeout(10)

# The emulator package is checked for I/O, clock and randomness imports together with
# the rest of relay_proto by tests/core/test_purity.py (every file under relay_proto/).


class Wire:
    """Our client core and the emulator joined by memory, with a fake clock."""

    def __init__(
        self,
        server: EmulatorServer | None = None,
        contexts: tuple[str, ...] = ("ivr",),
        **session: Any,
    ) -> None:
        self.now = 1000.0
        self.server = server or EmulatorServer(project="p", token="t", time_scale=0.001)
        self.client = RelayConnection(host="emulator.test")
        self.client.open_session(
            project=session.pop("project", "p"),
            token=session.pop("token", "t"),
            contexts=contexts,
            **session,
        )
        self.cid = self.server.connection_made(self.now)
        self.client.connection_made(self.now)
        self.events: list[relay_proto.Event] = []
        self.pump()

    def pump(self) -> None:
        for _ in range(1000):
            up = self.client.data_to_send()
            if up:
                self.server.receive_data(self.cid, up, self.now)
            down = self.server.data_to_send(self.cid)
            if down:
                self.client.receive_data(down, self.now)
            while (event := self.client.next_event()) is not None:
                self.events.append(event)
            if not up and not down:
                return
        raise AssertionError("pump did not settle")

    def advance(self, seconds: float) -> None:
        """Move the fake clock forward, firing every due timer on both sides."""
        end = self.now + seconds
        while True:
            deadlines = [
                t
                for t in (self.server.get_timer(), self.client.get_timer())
                if t is not None and t <= end
            ]
            if not deadlines:
                break
            self.now = max(self.now, min(deadlines))
            self.server.handle_timer(self.now)
            self.client.handle_timer(self.now)
            self.pump()
        self.now = end

    def request(self, method: str, params: dict[str, Any]) -> relay_proto.Event:
        req_id = self.client.send_request(method, params, self.now)
        self.pump()
        for event in self.events:
            if getattr(event, "request_id", None) == req_id:
                return event
        raise AssertionError(f"no outcome for {method}")

    def of(self, cls: type[relay_proto.Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]


def test_connect_and_authorization_state() -> None:
    wire = Wire()
    (auth,) = wire.of(relay_proto.SessionAuthenticated)
    assert auth.protocol.startswith("signalwire_")
    assert auth.session_restored is False
    assert wire.client.is_ready


def test_rejected_credentials() -> None:
    wire = Wire(token="nope")
    (rejected,) = wire.of(relay_proto.AuthenticationRejected)
    # The platform's own rejection (wire corpus, signalwire-js parseRPCResponse.test.ts).
    assert rejected.code == -32002
    assert rejected.message == AUTH_FAILED_MESSAGE


def test_ivr_flow_with_our_core() -> None:
    wire = Wire()
    call = wire.server.place_call("ivr", Caller().press("2"), wire.now)
    wire.pump()
    (offer,) = wire.of(relay_proto.CallReceived)
    ids = {"node_id": offer.params["node_id"], "call_id": offer.params["call_id"]}
    assert isinstance(wire.request("calling.answer", ids), relay_proto.ResponseReceived)
    wire.request(
        "calling.play_and_collect",
        {
            **ids,
            "control_id": "g1",
            "play": [{"type": "tts", "params": {"text": "Menu"}}],
            "collect": {"digits": {"max": 1}, "initial_timeout": 5},
        },
    )
    wire.advance(0.05)
    (done,) = [a for a in wire.of(relay_proto.ActionCompleted) if a.control_id == "g1"]
    assert done.reason == "finished"
    assert done.event is not None
    assert done.event.params["result"]["params"]["digits"] == "2"
    wire.request("calling.end", ids)
    assert call.record.state == "ended"
    assert call.record.hung_up_by == "app"
    assert call.record.prompts == ["Menu"]


def test_determinism_same_inputs_same_frames() -> None:
    def run() -> list[tuple[str, str | None, Any]]:
        wire = Wire()
        wire.server.place_call("ivr", Caller().voicemail(), wire.now)
        wire.pump()
        offer = wire.of(relay_proto.CallReceived)[0]
        ids = {"node_id": offer.params["node_id"], "call_id": offer.params["call_id"]}
        wire.request("calling.answer", ids)
        wire.request("calling.detect", {**ids, "control_id": "d", "detect": {"type": "machine"}})
        wire.request("calling.record", {**ids, "control_id": "r", "record": {"audio": {}}})
        wire.advance(1.0)
        return [
            (e.direction, e.method, e.event_params or e.data)
            for e in wire.server.journal.query()
            if e.method != "signalwire.connect"
        ]

    assert run() == run()


def test_dial_via_core_resolves_winner() -> None:
    wire = Wire()
    wire.server.configure_number("+15551230000", "busy", answer_after=1)
    wire.request(
        "calling.dial",
        {
            "tag": "tag-1",
            "devices": [
                [
                    {
                        "type": "phone",
                        "params": {"to_number": "+15551230000", "from_number": "+15550000000"},
                    }
                ],
                [
                    {
                        "type": "phone",
                        "params": {"to_number": "+15551230001", "from_number": "+15550000000"},
                    }
                ],
            ],
        },
    )
    wire.advance(0.01)
    (dial,) = wire.of(relay_proto.DialCompleted)
    assert dial.reason == "answered"
    assert dial.call_id in wire.client.calls


def test_resume_through_core_after_connection_loss() -> None:
    wire = Wire()
    protocol = wire.client.protocol
    wire.server.connection_lost(wire.cid, wire.now)
    wire.client.connection_lost(wire.now, "test drop")
    wire.advance(2.0)  # the core's backoff fires ReconnectScheduled
    wire.cid = wire.server.connection_made(wire.now)
    wire.client.connection_made(wire.now)
    wire.pump()
    auths = wire.of(relay_proto.SessionAuthenticated)
    assert auths[-1].protocol == protocol
    assert auths[-1].session_restored is True


def test_server_websocket_rejects_garbage_handshake() -> None:
    ws = ServerWebSocket()
    assert ws.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == []
    assert ws.is_closed
    assert ws.data_to_send().startswith(b"HTTP/1.1 4")


def test_receive_data_after_loss_and_unknown_connection_is_harmless() -> None:
    server = EmulatorServer()
    server.receive_data(42, b"junk", 0.0)
    assert server.data_to_send(42) == b""
    cid = server.connection_made(0.0)
    server.receive_data(cid, b"\x00\xff garbage that is not http\r\n\r\n", 0.0)
    assert server.should_close(cid)


def test_connect_result_shape_matches_reference() -> None:
    wire = Wire()
    (entry,) = [e for e in wire.server.journal.query("signalwire.connect", "out")]
    assert {"protocol", "identity", "session_restored"} <= entry.data.keys()
    text = _rpc.encode_result("x", entry.data)
    assert _rpc.decode(text) == _rpc.Response("x", entry.data)


# --- robustness: nothing a client sends breaks the server or other connections -------
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from wsproto import ConnectionType, WSConnection  # noqa: E402
from wsproto.events import Message, Request  # noqa: E402

from relaykit.emulator import METHODS  # noqa: E402

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=12,
)
param_keys = st.sampled_from(
    [
        "node_id",
        "call_id",
        "control_id",
        "play",
        "collect",
        "digits",
        "devices",
        "record",
        "detect",
        "tag",
        "to_number",
        "from_number",
        "body",
        "media",
        "context",
        "volume",
        "reason",
        "dest",
        "device",
        "tap",
        "action",
        "name",
        "conference_id",
        "queue_name",
        "url",
    ]
)


class _Peer:
    """A raw wsproto client joined to the server in memory."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.cid = server.connection_made(0.0)
        self.inbox: list[str] = []
        self._flush(self.ws.send(Request(host="emu.test", target="/")))

    def _flush(self, data: bytes) -> None:
        self.server.receive_data(self.cid, data, 0.0)
        self.ws.receive_data(self.server.data_to_send(self.cid))
        for event in self.ws.events():
            if isinstance(event, Message):
                self.inbox.append(str(event.data))
            assert not isinstance(event, Request)

    def send(self, text: str) -> None:
        if self.ws.state.name == "OPEN":
            self._flush(self.ws.send(Message(data=text)))


@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(METHODS)), st.dictionaries(param_keys, json_values, max_size=6)
        ),
        max_size=6,
    ),
    st.lists(st.text(max_size=20), max_size=3),
)
def test_fuzzed_requests_never_break_the_server(
    requests: list[tuple[str, dict[str, Any]]], junk: list[str]
) -> None:
    server = EmulatorServer(time_scale=0.001)
    victim, bystander = _Peer(server), _Peer(server)
    for peer in (victim, bystander):
        peer.send(
            _rpc.encode_request(
                "c",
                "signalwire.connect",
                {"authentication": {"project": "p", "token": "t"}, "contexts": ["ivr"]},
            )
        )
    call = server.place_call("ivr", Caller().press("1"), 0.0)
    for i, (method, params) in enumerate(requests):
        if "call_id" in params:
            params["call_id"] = call.call_id
        victim.send(_rpc.encode_request(f"r{i}", method, params))
    for text in junk:
        victim.send(text)
    now = 0.0
    while (deadline := server.get_timer()) is not None and now < 100:
        now = max(now, deadline)
        server.handle_timer(now)
    before = len(bystander.inbox)
    bystander.send(_rpc.encode_request("ping", "signalwire.ping", {}))
    assert any('"id":"ping"' in text for text in bystander.inbox[before:])


_PHONE = {"type": "phone", "params": {"to_number": "+15551110000", "from_number": "+15550000000"}}
TEMPLATES: dict[str, dict[str, Any]] = {
    "calling.play": {
        "control_id": "a",
        "play": [{"type": "tts", "params": {"text": "hi"}}],
        "volume": 1,
        "loop": 2,
    },
    "calling.record": {
        "control_id": "a",
        "record": {"audio": {"format": "wav", "beep": True, "initial_timeout": 1}},
    },
    "calling.collect": {
        "control_id": "a",
        "digits": {"max": 2, "terminators": "#", "digit_timeout": 1},
        "speech": {"end_silence_timeout": 1, "hints": ["a"]},
        "initial_timeout": 2,
        "partial_results": True,
    },
    "calling.play_and_collect": {
        "control_id": "a",
        "play": [{"type": "audio", "params": {"url": "u"}}],
        "collect": {"digits": {"max": 1}, "speech": {}},
    },
    "calling.detect": {
        "control_id": "a",
        "detect": {"type": "machine", "params": {"detect_message_end": True}},
        "timeout": 3,
    },
    "calling.dial": {"tag": "t", "devices": [[_PHONE, _PHONE]]},
    "calling.begin": {"device": _PHONE},
    "calling.connect": {
        "devices": [[_PHONE]],
        "ringback": [{"type": "ringtone", "params": {"name": "us"}}],
    },
    "calling.refer": {"device": {"type": "sip", "params": {"to": "sip:a@b"}}},
    "calling.tap": {
        "control_id": "a",
        "tap": {"type": "audio", "params": {}},
        "device": {"type": "rtp", "params": {"addr": "1.2.3.4", "port": 4}},
    },
    "calling.send_digits": {"control_id": "a", "digits": "12"},
    "calling.join_conference": {"name": "c"},
    "calling.queue.enter": {"control_id": "a", "queue_name": "q"},
    "calling.echo": {"timeout": 1},
    "calling.transfer": {"dest": "context:ivr"},
    "calling.end": {"reason": "hangup"},
    "messaging.send": {
        "context": "ivr",
        "to_number": "+15551110000",
        "from_number": "+15550000000",
        "body": "x",
        "media": ["u"],
    },
}


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


@given(st.sampled_from(sorted(TEMPLATES)), st.data())
def test_mutated_valid_params_never_cause_internal_errors(
    method: str,
    data: st.DataObject,
) -> None:
    import copy
    import logging

    params = copy.deepcopy(TEMPLATES[method])
    path = data.draw(st.sampled_from(_paths(params)))
    target = params
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(json_values)
    server = EmulatorServer(time_scale=0.001)
    peer = _Peer(server)
    peer.send(
        _rpc.encode_request(
            "c",
            "signalwire.connect",
            {"authentication": {"project": "p", "token": "t"}, "contexts": ["ivr"]},
        )
    )
    call = server.place_call("ivr", Caller().press("1").say("hi").voicemail(), 0.0)
    peer.send(_rpc.encode_request("a", "calling.answer", {"node_id": "n", "call_id": call.call_id}))
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("relaykit.emulator")
    logger.addHandler(handler)
    try:
        peer.send(
            _rpc.encode_request("r", method, {"node_id": "n", "call_id": call.call_id, **params})
        )
        now = 0.0
        while (deadline := server.get_timer()) is not None and now < 100:
            now = max(now, deadline)
            server.handle_timer(now)
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records if r.levelno >= logging.ERROR] == []
    assert any('"id":"r"' in text for text in peer.inbox)


def test_default_ring_timeout_has_a_real_time_floor() -> None:
    """At time_scale 0.001, 60 simulated seconds would be 60 ms: too tight for a busy client."""
    from relaykit.emulator._script import DEFAULT_RING_FLOOR

    wire = Wire()
    call = wire.server.place_call("ivr", Caller(), wire.now)
    wire.pump()
    wire.advance(DEFAULT_RING_FLOOR - 0.5)  # far beyond 60 ms, short of the floor
    assert call.record.state != "ended"
    wire.advance(1.0)
    assert call.record.state == "ended"
    assert call.record.end_reason == "cancel"


def test_explicit_ring_timeout_is_scaled_exactly() -> None:
    wire = Wire()
    call = wire.server.place_call("ivr", Caller(ring_timeout=60), wire.now)
    wire.pump()
    wire.advance(0.059)
    assert call.record.state != "ended"
    wire.advance(0.002)
    assert (call.record.state, call.record.end_reason) == ("ended", "cancel")


@pytest.mark.parametrize("press", [True, False])
def test_record_speak_hears_the_caller_pressing_digits(press: bool) -> None:
    """A "speak" recording's no_input window is kept open by the caller's digits.

    On the fake clock (the loopback version raced the 2 ms window under load).
    """
    wire = Wire()
    call = wire.server.place_call("ivr", Caller().press("1"), wire.now)
    wire.pump()
    ids = {"call_id": call.call_id, "node_id": call.node_id}
    wire.request("calling.answer", ids)
    record = {"audio": {"initial_timeout": 2.0}}  # direction "speak" by default
    wire.request("calling.record", {**ids, "control_id": "r", "record": record})
    if press:
        digits = {"control_id": "c", "digits": {"max": 1}, "initial_timeout": 5}
        wire.request("calling.collect", {**ids, **digits})
    wire.advance(10 * wire.server.time_scale)

    def states() -> list[str]:
        entries = wire.server.journal.query("calling.call.record", direction="out")
        return [e.event_params["state"] for e in entries]

    if not press:  # silence: the window closes with no_input
        assert states() == ["recording", "no_input"]
        return
    assert states() == ["recording"]  # the digit came within the window: still recording
    wire.request("calling.record.stop", {**ids, "control_id": "r"})
    assert states() == ["recording", "finished"]
