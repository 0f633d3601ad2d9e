"""Every Call method's wire frame, as a table shared by two layers of tests.

``tests/model/test_commands.py`` runs every row without sockets (a real Call
whose dispatcher answers at once) and checks the *exact* params;
``tests/integration/test_call_methods.py`` runs a subset of the same rows
against the emulator over sockets.  A row: the wire method, how to call it,
the params besides ``node_id``/``call_id`` and a fresh ``control_id``, and the
returned action class (or ``None`` for a plain command).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

TTS = {"type": "tts", "params": {"text": "Hello"}}
DEVICE = {"type": "phone", "params": {"to_number": "+15551001000", "from_number": "+15550000000"}}
SIP = {"type": "sip", "params": {"to": "sip:bob@example.com"}}
TAP = {"type": "audio", "params": {"direction": "both"}}
TAP_DEVICE = {"type": "ws", "params": {"uri": "wss://tap.example.com"}}

Invoke = Callable[[Any], Awaitable[Any]]
Case = tuple[str, Invoke, dict[str, Any], str | None]

# (wire method, how to call it, exact params besides node/call/control ids, action class)
CASES: list[Case] = [
    ("calling.answer", lambda c: c.answer(), {}, None),
    ("calling.answer", lambda c: c.answer(max_duration=5), {"max_duration": 5}, None),
    ("calling.end", lambda c: c.hangup(), {"reason": "hangup"}, None),
    ("calling.end", lambda c: c.hangup("busy"), {"reason": "busy"}, None),
    ("calling.pass", lambda c: c.pass_(), {}, None),
    (
        "calling.transfer",
        lambda c: c.transfer("https://example.com/swml.json", extra="x"),
        {"dest": "https://example.com/swml.json", "extra": "x"},
        None,
    ),
    (
        "calling.play",
        lambda c: c.play([{"type": "tts", "text": "Hello"}], volume=2.0, loop=1),
        {"play": [TTS], "volume": 2.0, "loop": 1},
        "PlayAction",
    ),
    ("calling.play", lambda c: c.play([TTS]), {"play": [TTS]}, "PlayAction"),
    (
        "calling.play",
        lambda c: c.play([TTS], direction="listen", custom=True),
        {"play": [TTS], "direction": "listen", "custom": True},
        "PlayAction",
    ),
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
        lambda c: c.play_audio("https://example.com/a.mp3", volume=-3.0),
        {
            "play": [{"type": "audio", "params": {"url": "https://example.com/a.mp3"}}],
            "volume": -3.0,
        },
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
        lambda c: c.record(audio={"direction": "both", "format": "mp3"}, status_url="u"),
        {"record": {"audio": {"direction": "both", "format": "mp3"}}, "status_url": "u"},
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
        "calling.collect",
        lambda c: c.collect(speech={}, partial_results=True, continuous=False),
        {"speech": {}, "partial_results": True, "continuous": False},
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
        {
            "play": [{"type": "audio", "params": {"url": "https://example.com/p.mp3"}}],
            "collect": {"digits": {"max": 1}},
        },
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
        lambda c: c.join_conference("standup", muted=False, beep="true", stream_obj={"a": 1}),
        {"name": "standup", "muted": False, "beep": "true", "stream": {"a": 1}},
        None,
    ),
    (
        "calling.leave_conference",
        lambda c: c.leave_conference("conf-1"),
        {"conference_id": "conf-1"},
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
    (
        "calling.ai_hold",
        lambda c: c.ai_hold(timeout="30", prompt="wait"),
        {"timeout": "30", "prompt": "wait"},
        None,
    ),
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
        lambda c: c.connect([[DEVICE]], ringback=[{"type": "ringtone", "name": "us"}]),
        {"devices": [[DEVICE]], "ringback": [{"type": "ringtone", "params": {"name": "us"}}]},
        None,
    ),
    (
        "calling.connect",
        lambda c: c.connect([[DEVICE]], tag="t", max_duration=10, status_url="u"),
        {"devices": [[DEVICE]], "tag": "t", "max_duration": 10, "status_url": "u"},
        None,
    ),
    ("calling.disconnect", lambda c: c.disconnect(), {}, None),
]

#: Methods whose params carry a control_id (actions, plus send_digits and queues).
CONTROL_ID_METHODS = {
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


def case(method: str, index: int = 0) -> Case:
    """The *index*-th row of :data:`CASES` for *method*."""
    return [row for row in CASES if row[0] == method][index]
