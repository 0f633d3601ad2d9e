"""Every Call method puts the right frame on the wire (asserted on the emulator's journal)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from ._helpers import requests, run_inbound
from .conftest import caller, emulator

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

TTS = {"type": "tts", "params": {"text": "Hello"}}
DEVICE = {"type": "phone", "params": {"to_number": "+15551001000", "from_number": "+15550000000"}}
SIP = {"type": "sip", "params": {"to": "sip:bob@example.com"}}
TAP = {"type": "audio", "params": {"direction": "both"}}
TAP_DEVICE = {"type": "ws", "params": {"uri": "wss://tap.example.com"}}

Invoke = Callable[[Any], Awaitable[Any]]


async def _connect(call: Any) -> dict[str, Any]:
    """Bridge, then wait until connected so that disconnect() has something to undo."""
    result = await call.connect([[DEVICE]], ringback=[{"type": "ringtone", "name": "us"}])
    await call.wait_for("calling.call.connect", lambda e: e.connect_state == "connected", timeout=5)
    return result  # type: ignore[no-any-return]


_CONFERENCES: dict[str, str] = {}


async def _join(call: Any) -> dict[str, Any]:
    result = await call.join_conference("standup", muted=False, beep="true", stream_obj={"a": 1})
    _CONFERENCES[call.call_id] = result.get("conference_id", "standup")
    return result  # type: ignore[no-any-return]


# (wire method, how to call it, params expected on the wire, returned action class or None)
CASES: list[tuple[str, Invoke, dict[str, Any], str | None]] = [
    ("calling.answer", lambda c: c.answer(), {}, None),
    (
        "calling.play",
        lambda c: c.play([{"type": "tts", "text": "Hello"}], volume=2.0, loop=1),
        {"play": [TTS], "volume": 2.0, "loop": 1},
        "PlayAction",
    ),
    ("calling.play", lambda c: c.play([TTS]), {"play": [TTS]}, "PlayAction"),
    (
        "calling.play",
        lambda c: c.play_tts("Hi", language="en-US", voice="alice"),
        {
            "play": [
                {"type": "tts", "params": {"text": "Hi", "language": "en-US", "voice": "alice"}}
            ]
        },
        "PlayAction",
    ),
    (
        "calling.play",
        lambda c: c.play_audio("https://example.com/a.mp3"),
        {"play": [{"type": "audio", "params": {"url": "https://example.com/a.mp3"}}]},
        "PlayAction",
    ),
    (
        "calling.play",
        lambda c: c.play_silence(1.5),
        {"play": [{"type": "silence", "params": {"duration": 1.5}}]},
        "PlayAction",
    ),
    (
        "calling.play",
        lambda c: c.play_ringtone("us", duration=2.0),
        {"play": [{"type": "ringtone", "params": {"name": "us", "duration": 2.0}}]},
        "PlayAction",
    ),
    (
        "calling.record",
        lambda c: c.record(audio={"direction": "both", "format": "mp3"}),
        {"record": {"audio": {"direction": "both", "format": "mp3"}}},
        "RecordAction",
    ),
    ("calling.record", lambda c: c.record(), {"record": {"audio": {}}}, "RecordAction"),
    (
        "calling.collect",
        lambda c: c.collect(digits={"max": 1, "digit_timeout": 5.0}, initial_timeout=10.0),
        {"digits": {"max": 1, "digit_timeout": 5.0}, "initial_timeout": 10.0},
        "StandaloneCollectAction",
    ),
    (
        "calling.play_and_collect",
        lambda c: c.play_and_collect([{"type": "tts", "text": "Hello"}], {"digits": {"max": 1}}),
        {"play": [TTS], "collect": {"digits": {"max": 1}}},
        "CollectAction",
    ),
    (
        "calling.play_and_collect",
        lambda c: c.prompt_tts("Hello", {"digits": {"max": 2}}, volume=1.0),
        {"play": [TTS], "collect": {"digits": {"max": 2}}, "volume": 1.0},
        "CollectAction",
    ),
    (
        "calling.play_and_collect",
        lambda c: c.prompt_audio("https://example.com/p.mp3", {"digits": {"max": 1}}),
        {"play": [{"type": "audio", "params": {"url": "https://example.com/p.mp3"}}]},
        "CollectAction",
    ),
    (
        "calling.detect",
        lambda c: c.detect({"type": "machine", "params": {"initial_timeout": 4.5}}, timeout=30.0),
        {"detect": {"type": "machine", "params": {"initial_timeout": 4.5}}, "timeout": 30.0},
        "DetectAction",
    ),
    (
        "calling.detect",
        lambda c: c.detect_answering_machine(initial_timeout=3.0, timeout=10.0),
        {"detect": {"type": "machine", "params": {"initial_timeout": 3.0}}, "timeout": 10.0},
        "DetectAction",
    ),
    (
        "calling.detect",
        lambda c: c.detect_fax(tone="CED"),
        {"detect": {"type": "fax", "params": {"tone": "CED"}}},
        "DetectAction",
    ),
    (
        "calling.detect",
        lambda c: c.detect_digit(digits="123"),
        {"detect": {"type": "digit", "params": {"digits": "123"}}},
        "DetectAction",
    ),
    ("calling.send_digits", lambda c: c.send_digits("12#"), {"digits": "12#"}, None),
    (
        "calling.join_conference",
        lambda c: _join(c),
        {"name": "standup", "muted": False, "beep": "true", "stream": {"a": 1}},
        None,
    ),
    (
        "calling.leave_conference",
        lambda c: c.leave_conference(_CONFERENCES[c.call_id]),
        {},
        None,
    ),
    ("calling.hold", lambda c: c.hold(), {}, None),
    ("calling.unhold", lambda c: c.unhold(), {}, None),
    ("calling.denoise", lambda c: c.denoise(), {}, None),
    ("calling.denoise.stop", lambda c: c.denoise_stop(), {}, None),
    ("calling.echo", lambda c: c.echo(timeout=5.0), {"timeout": 5.0}, None),
    (
        "calling.bind_digit",
        lambda c: c.bind_digit("*1", "calling.play", bind_params={"play": [TTS]}, realm="r"),
        {"digits": "*1", "bind_method": "calling.play", "params": {"play": [TTS]}, "realm": "r"},
        None,
    ),
    (
        "calling.clear_digit_bindings",
        lambda c: c.clear_digit_bindings(realm="r"),
        {"realm": "r"},
        None,
    ),
    (
        "calling.live_transcribe",
        lambda c: c.live_transcribe({"start": {"lang": "en"}}),
        {"action": {"start": {"lang": "en"}}},
        None,
    ),
    (
        "calling.live_translate",
        lambda c: c.live_translate({"stop": {}}, status_url="https://s.example.com"),
        {"action": {"stop": {}}, "status_url": "https://s.example.com"},
        None,
    ),
    ("calling.join_room", lambda c: c.join_room("room-1"), {"name": "room-1"}, None),
    ("calling.leave_room", lambda c: c.leave_room(), {}, None),
    (
        "calling.ai",
        lambda c: c.ai(prompt={"text": "Be nice"}, ai_params={"temperature": 0.5}),
        {"prompt": {"text": "Be nice"}, "params": {"temperature": 0.5}},
        "AIAction",
    ),
    (
        "calling.ai_message",
        lambda c: c.ai_message(message_text="hi", role="user"),
        {"message_text": "hi", "role": "user"},
        None,
    ),
    ("calling.ai_hold", lambda c: c.ai_hold(timeout="30", prompt="wait"), {"timeout": "30"}, None),
    ("calling.ai_unhold", lambda c: c.ai_unhold(prompt="back"), {"prompt": "back"}, None),
    (
        "calling.amazon_bedrock",
        lambda c: c.amazon_bedrock(prompt={"text": "x"}, ai_params={"a": 1}),
        {"prompt": {"text": "x"}, "params": {"a": 1}},
        None,
    ),
    (
        "calling.user_event",
        lambda c: c.user_event(event="custom", extra=1),
        {"event": "custom", "extra": 1},
        None,
    ),
    ("calling.queue.enter", lambda c: c.queue_enter("support"), {"queue_name": "support"}, None),
    (
        "calling.queue.leave",
        lambda c: c.queue_leave("support", queue_id="q-1"),
        {"queue_name": "support", "queue_id": "q-1"},
        None,
    ),
    (
        "calling.tap",
        lambda c: c.tap(TAP, TAP_DEVICE),
        {"tap": TAP, "device": TAP_DEVICE},
        "TapAction",
    ),
    (
        "calling.stream",
        lambda c: c.stream("wss://stream.example.com", name="s1", track="both_tracks"),
        {"url": "wss://stream.example.com", "name": "s1", "track": "both_tracks"},
        "StreamAction",
    ),
    (
        "calling.send_fax",
        lambda c: c.send_fax("https://example.com/doc.pdf", identity="+15550001111"),
        {"document": "https://example.com/doc.pdf", "identity": "+15550001111"},
        "FaxAction",
    ),
    ("calling.receive_fax", lambda c: c.receive_fax(), {}, "FaxAction"),
    (
        "calling.pay",
        lambda c: c.pay("https://pay.example.com", input_method="dtmf", charge_amount="9.99"),
        {
            "payment_connector_url": "https://pay.example.com",
            "input": "dtmf",
            "charge_amount": "9.99",
        },
        "PayAction",
    ),
    ("calling.transcribe", lambda c: c.transcribe(), {}, "TranscribeAction"),
    ("calling.refer", lambda c: c.refer(SIP), {"device": SIP}, None),
    (
        "calling.connect",
        lambda c: _connect(c),
        {"devices": [[DEVICE]], "ringback": [{"type": "ringtone", "params": {"name": "us"}}]},
        None,
    ),
    ("calling.disconnect", lambda c: c.disconnect(), {}, None),
    ("calling.end", lambda c: c.hangup("busy"), {"reason": "busy"}, None),
]

ACTION_METHODS = {
    "calling.play",
    "calling.record",
    "calling.collect",
    "calling.play_and_collect",
    "calling.detect",
    "calling.tap",
    "calling.stream",
    "calling.send_fax",
    "calling.receive_fax",
    "calling.pay",
    "calling.transcribe",
    "calling.ai",
    "calling.send_digits",
    "calling.queue.enter",
    "calling.queue.leave",
}


async def test_every_call_method_frame(adapter: Any) -> None:
    async with emulator() as emu:
        seen: list[tuple[str, Any]] = []

        async def handler(call: Any) -> None:
            for method, invoke, _expected, _cls in CASES:
                before = len(requests(emu, method))
                result = await invoke(call)
                after = requests(emu, method)
                assert len(after) == before + 1, method
                seen.append((method, result))

        ecall, _ = await run_inbound(adapter, emu, handler, script=caller().press("1"))
        assert ecall.record.answered

    counters: dict[str, int] = {}
    for (method, _invoke, expected, cls_name), (_m, result) in zip(CASES, seen, strict=True):
        index = counters.get(method, 0)
        counters[method] = index + 1
        params = requests(emu, method)[index]
        assert params["call_id"] == ecall.call_id, method
        assert params["node_id"], method
        for key, value in expected.items():
            assert params[key] == value, (method, key, params)
        if method in ACTION_METHODS:
            assert isinstance(params.get("control_id"), str), method
            assert params["control_id"], method
        if cls_name is None:
            assert isinstance(result, dict), (method, result)
        else:
            assert type(result) is getattr(adapter, cls_name), (method, result)
            assert result.control_id == params["control_id"]
            assert result.call.call_id == ecall.call_id


async def test_pass_and_transfer(adapter: Any) -> None:
    async with emulator() as emu:

        async def pass_it(call: Any) -> Any:
            return await call.pass_()

        _, result = await run_inbound(adapter, emu, pass_it)
        assert isinstance(result, dict)
        assert requests(emu, "calling.pass")

        async def transfer(call: Any) -> Any:
            await call.answer()
            return await call.transfer("https://example.com/swml.json", extra="x")

        _, result = await run_inbound(adapter, emu, transfer)
        params = requests(emu, "calling.transfer")[-1]
        assert params["dest"] == "https://example.com/swml.json"
        assert params["extra"] == "x"


async def test_call_properties(adapter: Any) -> None:
    async with emulator() as emu:

        async def inspect_call(call: Any) -> Any:
            device = call.device  # decoded on first use, then the same object
            assert call.device is device
            snapshot = (call.context, call.direction, dict(device), call.state, call.call_id)
            await call.answer()
            answered = await call.wait_for_answered(timeout=5)
            await call.hangup()
            ended = await call.wait_for_ended(timeout=5)
            return snapshot, answered, ended, call.state, call.end_reason

        ecall, value = await run_inbound(adapter, emu, inspect_call, context="sales")
    (context, direction, device, state, call_id), answered, ended, final, reason = value
    assert context == "sales"  # the context it arrived on, not the protocol string
    assert direction == "inbound"
    assert device["type"] == "phone"
    assert device["params"]["from_number"] == ecall.record.from_number
    assert state == "created"
    assert call_id == ecall.call_id
    assert answered.call_state in ("answered", "ending", "ended")
    assert ended.params["call_state"] == "ended"
    assert final == "ended"
    assert reason == "hangup"


async def test_wait_for_sees_an_event_that_came_with_the_command_result(adapter: Any) -> None:
    # The emulator writes calling.connect's result and the "connecting" event
    # together: the handler can only ask for the event once the result is
    # back, after both were dispatched, and must still get it -- once.
    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            await call.connect([[DEVICE]])
            connecting = await call.wait_for(
                "calling.call.connect", lambda e: e.connect_state == "connecting", timeout=2
            )
            connected = await call.wait_for(
                "calling.call.connect", lambda e: e.connect_state == "connected", timeout=5
            )
            with pytest.raises(TimeoutError):  # "connecting" is returned only once
                await call.wait_for(
                    "calling.call.connect", lambda e: e.connect_state == "connecting", timeout=0.05
                )
            return connecting, connected

        _, (connecting, connected) = await run_inbound(adapter, emu, handler)
    assert connecting.connect_state == "connecting"
    assert connected.connect_state == "connected"
