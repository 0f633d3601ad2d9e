"""Golden requests from the public wire corpus: what we send has the corpus's shape.

For every ``c2s`` request frame of ``tests/core/data/wire-corpus/frames.jsonl``
(public SignalWire SDK fixtures and code, see its README) the table below names
the object-model call that produces that request -- ``call.play_and_collect``,
``call.detect_answering_machine``, ``client.dial`` ... -- and the test runs it
socket-free: a real :class:`Call` of a real, unconnected client whose
dispatcher records each request and answers it at once (the ``Wire`` of
``test_commands.py``).  The two client-level requests, ``calling.dial`` and
``messaging.send``, go through the pure builders ``client.dial`` and
``client.send_message`` call (``_commands.dial`` / ``_commands.send_message``),
since their methods then wait for events.

What must match: the method, and the params' keys, nesting and JSON types
(:func:`shape`); values too, except the ids the corpus made up (``node_id``,
``call_id``, ``control_id``, ``tag``), which only need the same type.

Frames not replayed are in :data:`OUT_OF_SCOPE` with the reason; every ``c2s``
frame is either in the table or there (checked).  Deliberate divergences from a
frame are in :data:`DIVERGES`, with the reason and the frame as we send it.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from relaykit.client import _commands as build
from tests.core.corpus import FRAMES

from .test_commands import Wire

pytestmark = pytest.mark.timeout(30)

Invoke = Callable[[Any], Awaitable[Any]]

#: Keys whose values the corpus made up (only their JSON type must match).
IDS = frozenset({"node_id", "call_id", "control_id", "tag"})

AUDIO = [{"type": "audio", "params": {"url": "audio.mp3"}}]
TAP_AUDIO = {"type": "audio", "params": {"direction": "listen"}}
RTP = {"type": "rtp", "params": {"addr": "127.0.0.1", "port": 1234}}


def _on_action(start: Invoke, command: Callable[[Any], Awaitable[Any]]) -> Invoke:
    """Start an action with *start*, then send *command* on it (the request checked)."""

    async def run(call: Any) -> Any:
        action = await start(call)
        return await command(action)

    return run


def _play_silence(call: Any) -> Awaitable[Any]:
    return call.play_silence(5)


def _prompt(call: Any) -> Awaitable[Any]:
    return call.prompt_audio("audio.mp3", {"digits": {"max": 1}})


#: Call-level frames: corpus line -> the object-model call that sends that request.
CALL_CASES: dict[int, Invoke] = {
    # Action commands (signalwire-node CallActions.test.ts).
    24: _on_action(_play_silence, lambda a: a.stop()),
    25: _on_action(_play_silence, lambda a: a.pause()),
    26: _on_action(_play_silence, lambda a: a.resume()),
    27: _on_action(_play_silence, lambda a: a.volume(-4.3)),
    28: _on_action(_prompt, lambda a: a.stop()),
    29: _on_action(_prompt, lambda a: a.volume(5.0)),
    # Prompts (signalwire-python 2.x test_call_prompt.py).
    166: lambda c: c.play_and_collect(AUDIO, {"digits": {}, "speech": {}}),
    167: lambda c: c.prompt_audio("audio.mp3", {"speech": {}}),
    168: lambda c: c.prompt_audio("audio.mp3", {"digits": {"max": 5, "digit_timeout": 30}}),
    169: lambda c: c.play_and_collect(
        [{"type": "audio", "url": "audio.mp3"}], {"digits": {}, "speech": {"language": "it-IT"}}
    ),
    170: lambda c: c.prompt_tts("hi there!", {"digits": {"max": 5}, "speech": {}}, gender="male"),
    # Detect (test_call_detect.py).
    184: lambda c: c.detect_answering_machine(timeout=30),
    185: lambda c: c.detect_answering_machine(initial_timeout=5),
    186: lambda c: c.detect_digit(digits="1234"),
    187: lambda c: c.detect_fax(tone="CED"),
    188: lambda c: c.detect_answering_machine(end_silence_timeout=5),
    # Record, tap, answer, hangup (test_call_record.py, test_call_tap.py, test_call.py).
    192: lambda c: c.record(audio={"beep": True, "direction": "both", "terminators": "#"}),
    195: lambda c: c.tap(TAP_AUDIO, RTP),
    198: lambda c: c.answer(),
    199: lambda c: c.hangup(),
    # signalwire-node Call.test.ts.
    229: lambda c: c.record(audio={"format": "mp3", "beep": True}),
    230: lambda c: c.connect(
        [
            [
                {
                    "type": "phone",
                    "params": {"to_number": "999", "from_number": "231", "timeout": 10},
                },
                {
                    "type": "phone",
                    "params": {"to_number": "888", "from_number": "234", "timeout": 20},
                },
            ]
        ],
        ringback={"type": "ringtone", "params": {"name": "at", "duration": 20}},
    ),
    231: lambda c: c.connect(
        [
            [
                {
                    "type": "sip",
                    "params": {
                        "to": "sip:aaa.sip.example.com",
                        "from": "sip:bbb.sip.example.com",
                        "timeout": 10,
                        "from_name": "foo",
                    },
                },
                {
                    "type": "sip",
                    "params": {
                        "to": "sip:ccc.sip.example.com",
                        "from": "sip:ddd.sip.example.com",
                        "timeout": 20,
                    },
                },
            ]
        ]
    ),
    232: lambda c: c.play([{"type": "silence", "params": {"duration": 5}}]),
    233: lambda c: c.prompt_audio(
        "audio.mp3",
        {"initial_timeout": 10, "digits": {"max": 5, "terminators": "#", "digit_timeout": 10}},
    ),
    234: lambda c: c.receive_fax(),
    235: lambda c: c.send_fax("document.pdf", header_info="custom"),
    236: lambda c: c.detect_answering_machine(initial_timeout=5, timeout=30),
    237: lambda c: c.tap(TAP_AUDIO, RTP),
    238: lambda c: c.send_digits("1234"),
    239: lambda c: c.disconnect(),
    # signalwire-js realtime-api Call.ts.
    241: lambda c: c.collect(
        initial_timeout=4,
        digits={"max": 5, "digit_timeout": 2, "terminators": "#*"},
        speech={
            "end_silence_timeout": 1,
            "speech_timeout": 60,
            "language": "en-US",
            "hints": ["one"],
            "model": "enhanced.phone_call",
        },
        partial_results=True,
        continuous=False,
        send_start_of_input=True,
        start_input_timers=False,
    ),
    242: lambda c: c.prompt_audio(
        "https://example.com/a.mp3",
        {"initial_timeout": 4, "digits": {"max": 1, "digit_timeout": 2}},
        volume=0,
    ),
}

#: Client-level frames: corpus line -> the params the client's pure builder makes.
CLIENT_CASES: dict[int, Callable[[], dict[str, Any]]] = {
    # client.dial(devices, tag=...) sends build.dial(tag, devices, max_duration).
    227: lambda: build.dial(
        "t-1",
        [
            [
                {
                    "type": "phone",
                    "params": {"from_number": "2345", "to_number": "6789", "timeout": 30},
                }
            ]
        ],
        None,
    ),
    228: lambda: build.dial(
        "t-2",
        [
            [
                {
                    "type": "phone",
                    "params": {"from_number": "11111", "to_number": "22222", "timeout": 30},
                },
                {
                    "type": "phone",
                    "params": {"from_number": "33333", "to_number": "44444", "timeout": 30},
                },
            ]
        ],
        None,
    ),
    # client.send_message(context="office", ...) sends build.send_message(...).
    240: lambda: build.send_message(
        context="office",
        to_number="8991111111",
        from_number="8992222222",
        body="Hello",
        media=None,
        tags=None,
        region=None,
    ),
}


def _ringback_as_list(params: dict[str, Any]) -> dict[str, Any]:
    params["ringback"] = [params["ringback"]]
    return params


#: Frames we deliberately send differently: line -> (why, the frame's params as we send them).
DIVERGES: dict[int, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    230: (
        "the 2019 Node SDK sends ringback as one media object; the reference (§4.2, §5.2) and "
        "the current Go and Python SDKs send a media array: we accept a single object "
        "(connect(ringback={...})) and send it as a one-item list",
        _ringback_as_list,
    ),
}

#: Frames not replayed, and why.
OUT_OF_SCOPE: dict[int, str] = {
    200: (
        "calling.begin (single-device dial of the 2.x Python SDK): relaykit dials with "
        "calling.dial and a devices plan, as the reference (§5.1) and the current SDKs do"
    ),
    243: (
        "signalwire.ping is sent by the core (relay_proto), not the object model: params {} as "
        "the official Python client (reference §3.4); the JS SDK adds a timestamp, and both are "
        "accepted (tests/core)"
    ),
}


def shape(value: Any) -> Any:
    """Keys, nesting and JSON types of *value* (``int`` and ``float`` are one ``number``)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [shape(item) for item in value]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    raise TypeError(f"not a JSON value: {value!r}")


def without_ids(value: Any) -> Any:
    """*value* with every id the corpus made up replaced by a placeholder of its type."""
    if isinstance(value, dict):
        return {
            key: (shape(item) if key in IDS else without_ids(item)) for key, item in value.items()
        }
    if isinstance(value, list):
        return [without_ids(item) for item in value]
    return value


def expected_params(line: int) -> dict[str, Any]:
    params = copy.deepcopy(FRAMES[line]["frame"]["params"])
    if line in DIVERGES:
        params = DIVERGES[line][1](params)
    return params


def assert_same_request(line: int, method: str, params: dict[str, Any]) -> None:
    frame = FRAMES[line]["frame"]
    expected = expected_params(line)
    assert method == frame["method"]
    assert shape(params) == shape(expected), f"line {line}: keys, nesting or types differ"
    assert without_ids(params) == without_ids(expected), f"line {line}: values differ"


ADAPTERS = [("relay_anyio", "asyncio"), ("relay_trio", "trio")]


@pytest.fixture(params=ADAPTERS, ids=[a for a, _ in ADAPTERS])
def adapter_spec(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def anyio_backend(adapter_spec: tuple[str, str]) -> str:
    return adapter_spec[1]


@pytest.fixture
def wire(adapter_spec: tuple[str, str]) -> Wire:
    return Wire(importlib.import_module(adapter_spec[0]))


@pytest.mark.parametrize("line", sorted(CALL_CASES), ids=lambda n: f"{n}-{FRAMES[n]['kind']}")
@pytest.mark.anyio
async def test_call_request_matches_corpus(wire: Wire, line: int) -> None:
    await CALL_CASES[line](wire.new_call())
    method, params = wire.sent[-1]
    assert_same_request(line, method, params)


@pytest.mark.parametrize("line", sorted(CLIENT_CASES), ids=lambda n: f"{n}-{FRAMES[n]['kind']}")
def test_client_request_matches_corpus(line: int) -> None:
    method = FRAMES[line]["frame"]["method"]
    assert_same_request(line, method, CLIENT_CASES[line]())


def test_every_c2s_frame_is_covered_or_excused() -> None:
    c2s = {n for n, entry in enumerate(FRAMES) if entry["direction"] == "c2s"}
    covered = set(CALL_CASES) | set(CLIENT_CASES)
    assert not covered & set(OUT_OF_SCOPE), "a frame is both replayed and out of scope"
    assert covered | set(OUT_OF_SCOPE) == c2s, (
        f"not covered: {sorted(c2s - covered - set(OUT_OF_SCOPE))}; "
        f"not c2s: {sorted((covered | set(OUT_OF_SCOPE)) - c2s)}"
    )
    assert set(DIVERGES) <= covered


def test_a_divergence_is_real() -> None:
    # Each DIVERGES entry must change the frame: a no-op would hide that we now match it.
    for line, (_, adjust) in DIVERGES.items():
        original = FRAMES[line]["frame"]["params"]
        assert shape(adjust(copy.deepcopy(original))) != shape(original), line


def test_shape_tells_types_apart() -> None:
    assert shape({"a": [1, 2.5], "b": {"c": True}}) == {
        "a": ["number", "number"],
        "b": {"c": "boolean"},
    }
    assert shape({"a": "1"}) != shape({"a": 1})
    assert shape({"a": [{}]}) != shape({"a": {}})
    assert without_ids({"control_id": "x", "volume": 1}) == {"control_id": "string", "volume": 1}


def test_connect_ringback_single_item_or_list() -> None:
    devices = [[{"type": "phone", "params": {"to_number": "+15551001000"}}]]
    wire_item = {"type": "ringtone", "params": {"name": "us"}}

    def ringback(value: Any) -> Any:
        return build.connect(
            devices,
            ringback=value,
            tag=None,
            max_duration=None,
            max_price_per_minute=None,
            status_url=None,
            extra={},
        )["ringback"]

    assert ringback({"type": "ringtone", "name": "us"}) == [wire_item]  # flat, single
    assert ringback(wire_item) == [wire_item]  # wire form, single
    assert ringback([{"type": "ringtone", "name": "us"}, wire_item]) == [wire_item, wire_item]
    with pytest.raises(TypeError, match="media"):
        ringback("us")
