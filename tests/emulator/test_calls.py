"""Call simulation: the real event sequences of §6/§8 for every calling method."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from relaykit.emulator import Caller, EmulatedCall, Emulator

from ._client import MiniClient

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(10)]

TTS = [{"type": "tts", "params": {"text": "Press 1 for sales"}}]


async def answered(
    emu: Emulator, client: MiniClient, script: Caller | None = None
) -> tuple[EmulatedCall, dict[str, Any]]:
    n = len(client.events_of("calling.call.receive"))
    call = await emu.place_call(context="ivr", script=script or Caller())
    await client.wait(lambda: len(client.events_of("calling.call.receive")) > n)
    offer = client.events_of("calling.call.receive")[-1]
    ids = {"node_id": offer["node_id"], "call_id": offer["call_id"]}
    await client.result("calling.answer", ids)
    return call, ids


def states(client: MiniClient, event_type: str, key: str = "state", **match: Any) -> list[Any]:
    return [ev.get(key) for ev in client.events_of(event_type, **match)]


async def test_play_runs_playing_to_finished(emu: Emulator, client: MiniClient) -> None:
    call, ids = await answered(emu, client)
    res = await client.result("calling.play", {**ids, "control_id": "p1", "play": TTS})
    assert res == {
        "code": "200",
        "message": "Playing",
        "call_id": ids["call_id"],
        "control_id": "p1",
    }
    await client.wait_event("calling.call.play", control_id="p1", state="finished")
    assert states(client, "calling.call.play", control_id="p1") == ["playing", "finished"]
    assert call.record.prompts == ["Press 1 for sales"]


async def test_play_pause_resume_volume_stop(emu: Emulator, client: MiniClient) -> None:
    _call, ids = await answered(emu, client)
    long = [{"type": "silence", "params": {"duration": 600}}]
    await client.result("calling.play", {**ids, "control_id": "p", "play": long})
    sub = {**ids, "control_id": "p"}
    await client.result("calling.play.pause", sub)
    await client.result("calling.play.volume", {**sub, "volume": 6})
    await client.result("calling.play.resume", sub)
    await client.result("calling.play.stop", sub)
    await client.wait_event("calling.call.play", control_id="p", state="finished")
    assert states(client, "calling.call.play", control_id="p") == [
        "playing",
        "paused",
        "playing",
        "finished",
    ]
    gone = await client.result("calling.play.stop", sub)
    assert gone["code"] == "404"
    # silence in the flat seed form is accepted too
    await client.result(
        "calling.play", {**ids, "control_id": "f", "play": [{"type": "silence", "duration": 1}]}
    )
    await client.wait_event("calling.call.play", control_id="f", state="finished")


async def test_collect_digits_with_terminator(emu: Emulator, client: MiniClient) -> None:
    _, ids = await answered(emu, client, Caller().press("12#"))
    await client.result(
        "calling.collect",
        {**ids, "control_id": "g", "initial_timeout": 5, "digits": {"max": 4, "terminators": "#"}},
    )
    ev = await client.wait_event("calling.call.collect", control_id="g")
    assert ev["final"] is True
    assert ev["result"] == {"type": "digit", "params": {"digits": "12", "terminator": "#"}}


async def test_collect_speech_partial_and_start_of_input(emu: Emulator, client: MiniClient) -> None:
    _, ids = await answered(emu, client, Caller().say("talk to support please"))
    await client.result(
        "calling.collect", {**ids, "control_id": "s", "speech": {}, "partial_results": True}
    )
    await client.wait(
        lambda: any(
            e.get("final") for e in client.events_of("calling.call.collect", control_id="s")
        )
    )
    evs = client.events_of("calling.call.collect", control_id="s")
    assert evs[0]["final"] is False
    assert evs[0]["result"]["type"] == "speech"
    assert evs[-1]["result"] == {
        "type": "speech",
        "params": {"text": "talk to support please", "confidence": 0.95},
    }
    _, ids2 = await answered(emu, client, Caller().press("5"))
    await client.result(
        "calling.collect",
        {**ids2, "control_id": "t", "send_start_of_input": True, "digits": {"max": 1}},
    )
    await client.wait(lambda: len(client.events_of("calling.call.collect", control_id="t")) == 2)
    types = [e["result"]["type"] for e in client.events_of("calling.call.collect", control_id="t")]
    assert types == ["start_of_input", "digit"]


async def test_collect_no_input_no_match_and_input_timers(
    emu: Emulator, client: MiniClient
) -> None:
    call, ids = await answered(emu, client, Caller().silence().say("hello"))
    await client.result(
        "calling.play_and_collect",
        {
            **ids,
            "control_id": "a",
            "play": TTS,
            "collect": {"digits": {"max": 1}, "initial_timeout": 2},
        },
    )
    ev = await client.wait_event("calling.call.collect", control_id="a")
    assert ev["result"] == {"type": "no_input"}
    assert states(client, "calling.call.play", control_id="a") == ["playing", "finished"]
    await client.result("calling.collect", {**ids, "control_id": "b", "digits": {"max": 1}})
    ev = await client.wait_event("calling.call.collect", control_id="b")
    assert ev["result"] == {"type": "no_match"}
    # script exhausted: no_input, but only once the input timers are started
    await client.result(
        "calling.collect",
        {
            **ids,
            "control_id": "c",
            "digits": {"max": 1},
            "start_input_timers": True,
            "initial_timeout": 1,
        },
    )
    with anyio.move_on_after(0.05):
        await client.wait_event("calling.call.collect", control_id="c")
    assert client.events_of("calling.call.collect", control_id="c") == []
    await client.result("calling.collect.start_input_timers", {**ids, "control_id": "c"})
    ev = await client.wait_event("calling.call.collect", control_id="c")
    assert ev["result"]["type"] == "no_input"
    assert [i["type"] for i in call.record.inputs] == ["no_input", "no_match", "no_input"]


async def test_record_finishes_with_url_duration_size(emu: Emulator, client: MiniClient) -> None:
    call, ids = await answered(emu, client, Caller().voicemail(message_seconds=3))
    await client.result(
        "calling.record", {**ids, "control_id": "r", "record": {"audio": {"format": "wav"}}}
    )
    ev = await client.wait_event("calling.call.record", control_id="r", state="finished")
    assert ev["url"].endswith("/r.wav")
    assert ev["duration"] == 3
    assert ev["size"] == 48000
    assert ev["record"]["url"] == ev["url"]
    # the request's audio, with the platform's defaults spelled out (as in the corpus)
    assert ev["record"]["audio"] == {"format": "wav", "direction": "speak", "stereo": False}
    assert states(client, "calling.call.record", control_id="r") == ["recording", "finished"]
    assert call.record.recordings == [{"url": ev["url"], "duration": 3, "size": 48000}]


async def test_record_no_input_and_stop(emu: Emulator, client: MiniClient) -> None:
    _, ids = await answered(emu, client)
    await client.result("calling.record", {**ids, "control_id": "r1", "record": {"audio": {}}})
    await client.wait_event("calling.call.record", control_id="r1", state="no_input")
    await client.result(
        "calling.record", {**ids, "control_id": "r2", "record": {"audio": {"initial_timeout": 0}}}
    )
    await client.result("calling.record.pause", {**ids, "control_id": "r2"})
    await client.result("calling.record.resume", {**ids, "control_id": "r2"})
    await client.result("calling.record.stop", {**ids, "control_id": "r2"})
    ev = await client.wait_event("calling.call.record", control_id="r2", state="finished")
    assert ev["url"].endswith(".mp3")
    assert "size" in ev
    assert "duration" in ev
    assert states(client, "calling.call.record", control_id="r2") == [
        "recording",
        "paused",
        "recording",
        "finished",
    ]


async def test_record_hears_prompts_and_the_caller_in_its_directions(
    emu: Emulator, client: MiniClient
) -> None:
    _, ids = await answered(emu, client, Caller().silence())
    # A 120 s prompt plays through the 2 s no_input windows (60x margin for a
    # busy machine at this time scale): "both" and "listen" hear it, "speak"
    # (the caller's side) hears only silence.
    prompt = [{"type": "tts", "text": "x" * 2000}]
    await client.result("calling.play", {**ids, "control_id": "p", "play": prompt})
    for control_id in ("both", "listen", "speak"):
        record = {"audio": {"initial_timeout": 2.0, "direction": control_id}}
        await client.result("calling.record", {**ids, "control_id": control_id, "record": record})
    await client.wait_event("calling.call.record", control_id="speak", state="no_input")
    await client.wait_event("calling.call.play", control_id="p", state="finished")
    for control_id in ("both", "listen"):
        assert states(client, "calling.call.record", control_id=control_id) == ["recording"]
        await client.result("calling.record.stop", {**ids, "control_id": control_id})
        ev = await client.wait_event("calling.call.record", control_id=control_id, state="finished")
        assert ev["url"].endswith(".mp3")
        assert ev["duration"] >= 100.0
        assert ev["size"] > 0


@pytest.mark.parametrize(
    ("script", "dtype", "expected"),
    [
        (Caller().voicemail(), "machine", ["MACHINE", "NOT_READY", "READY", "finished"]),
        (Caller(), "machine", ["HUMAN", "finished"]),
        (Caller().fax(), "fax", ["CED", "finished"]),
        (Caller().press("7"), "digit", ["7", "finished"]),
    ],
)
async def test_detect_per_script(
    emu: Emulator, client: MiniClient, script: Caller, dtype: str, expected: list[str]
) -> None:
    call, ids = await answered(emu, client, script)
    await client.result(
        "calling.detect",
        {**ids, "control_id": "d", "timeout": 30, "detect": {"type": dtype, "params": {}}},
    )
    last = await client.wait_event("calling.call.detect", control_id="d", state="finished")
    events = [
        e["detect"]["params"]["event"]
        for e in client.events_of("calling.call.detect", control_id="d")
    ]
    assert events == expected
    assert last["detect"]["type"] == dtype
    assert call.record.detections == expected[:-1]


async def test_inbound_caller_hangs_up(emu: Emulator, client: MiniClient) -> None:
    call, _ = await answered(emu, client, Caller().hangup_after(2))
    record = await call.wait_ended(timeout=5)
    assert (record.end_reason, record.hung_up_by) == ("hangup", "remote")
    await client.wait_event("calling.call.state", call_id=call.call_id, call_state="ended")
    assert states(client, "calling.call.state", "call_state", call_id=call.call_id) == [
        "answered",
        "ending",
        "ended",
    ]


async def test_unanswered_call_rings_out(emu: Emulator, client: MiniClient) -> None:
    call = await emu.place_call(context="ivr", script=Caller(ring_timeout=1))
    record = await call.wait_ended()
    assert (record.end_reason, record.answered) == ("cancel", False)


async def test_app_hangup_ends_running_actions_then_gone(emu: Emulator, client: MiniClient) -> None:
    call, ids = await answered(emu, client)
    await client.result(
        "calling.play",
        {**ids, "control_id": "p", "play": [{"type": "silence", "params": {"duration": 900}}]},
    )
    bad = await client.result("calling.end", {**ids, "reason": "whatever"})
    assert bad["code"] == "400"
    await client.result("calling.end", {**ids, "reason": "busy"})
    record = await call.wait_ended()
    assert (record.end_reason, record.hung_up_by) == ("busy", "app")
    await client.wait_event("calling.call.state", call_state="ended")
    assert states(client, "calling.call.play", control_id="p") == ["playing", "error"]
    assert (await client.result("calling.answer", ids))["code"] == "410"


async def test_duplicate_control_id_conflicts(emu: Emulator, client: MiniClient) -> None:
    _, ids = await answered(emu, client)
    silence = [{"type": "silence", "params": {"duration": 100}}]
    await client.result("calling.play", {**ids, "control_id": "x", "play": silence})
    res = await client.result("calling.play", {**ids, "control_id": "x", "play": silence})
    assert res["code"] == "409"


def _phone(number: str, timeout: float = 30) -> dict[str, Any]:
    return {
        "type": "phone",
        "params": {"to_number": number, "from_number": "+15550001111", "timeout": timeout},
    }


async def test_dial_parallel_winner(emu: Emulator, client: MiniClient) -> None:
    emu.configure_number("+15551110001", "busy", answer_after=0.5)
    emu.configure_number("+15551110002", "answer", answer_after=2)
    emu.configure_number("+15551110003", "answer", answer_after=4)
    res = await client.result(
        "calling.dial",
        {
            "tag": "t1",
            "devices": [[_phone("+15551110001"), _phone("+15551110002"), _phone("+15551110003")]],
        },
    )
    assert res == {"code": "200", "message": "Dialing"}
    dial = await client.wait_event("calling.call.dial", tag="t1")
    assert dial["dial_state"] == "answered"
    assert dial["call"]["dial_winner"] is True
    winner = dial["call"]["call_id"]
    legs = client.events_of("calling.call.state", tag="t1", call_state="created")
    assert len(legs) == 3
    assert all(leg["created_by"] == "dial" for leg in legs)
    ended = {
        e["call_id"]: e["end_reason"]
        for e in client.events_of("calling.call.state", tag="t1", call_state="ended")
    }
    assert sorted(ended.values()) == ["busy", "cancel"]
    assert winner not in ended
    assert dial["call"]["device"]["params"]["to_number"] == "+15551110002"


async def test_dial_serial_then_failed(emu: Emulator, client: MiniClient) -> None:
    emu.configure_number("+15551110001", "no-answer")
    emu.configure_number("+15551110004", "decline", answer_after=1)
    await client.result(
        "calling.dial",
        {"tag": "t2", "devices": [[_phone("+15551110001", timeout=5)], [_phone("+15551110002")]]},
    )
    dial = await client.wait_event("calling.call.dial", tag="t2")
    assert dial["dial_state"] == "answered"
    assert dial["call"]["device"]["params"]["to_number"] == "+15551110002"
    reasons = [
        e["end_reason"]
        for e in client.events_of("calling.call.state", tag="t2", call_state="ended")
    ]
    assert reasons == ["noAnswer"]
    await client.result("calling.dial", {"tag": "t3", "devices": [[_phone("+15551110004")]]})
    failed = await client.wait_event("calling.call.dial", tag="t3")
    assert failed["dial_state"] == "failed"
    assert failed["reason"] == "decline"
    bad = await client.result(
        "calling.dial",
        {
            "tag": "t4",
            "devices": [
                [
                    {
                        "type": "phone",
                        "params": {"to_number": "5551234", "from_number": "+15550001111"},
                    }
                ]
            ],
        },
    )
    assert bad["code"] == "400"
    assert "E.164" in bad["message"]


async def test_connect_bridge_and_disconnect(emu: Emulator, client: MiniClient) -> None:
    call, ids = await answered(emu, client)
    await client.result(
        "calling.connect",
        {
            **ids,
            "tag": "c1",
            "devices": [[_phone("+15557770000")]],
            "ringback": [{"type": "ringtone", "params": {"name": "us"}}],
        },
    )
    connected = await client.wait_event("calling.call.connect", connect_state="connected")
    peer = connected["peer"]
    assert peer["tag"] == "c1"
    assert peer["device"]["params"]["to_number"] == "+15557770000"
    leg_states = states(client, "calling.call.state", "call_state", call_id=peer["call_id"])
    assert leg_states == ["created", "ringing", "answered"]
    leg = client.events_of("calling.call.state", call_id=peer["call_id"])[0]
    assert leg["peer"] == {"call_id": ids["call_id"], "node_id": ids["node_id"]}
    assert states(client, "calling.call.connect", "connect_state", call_id=ids["call_id"]) == [
        "connecting",
        "connected",
    ]
    assert (await client.result("calling.connect", {**ids, "devices": [[_phone("+15557770001")]]}))[
        "code"
    ] == "409"
    await client.result("calling.disconnect", ids)
    await client.wait_event(
        "calling.call.connect", connect_state="disconnected", call_id=ids["call_id"]
    )
    assert call.record.connected_to == "+15557770000"


async def test_connect_failed_and_hangup_ends_peer(emu: Emulator, client: MiniClient) -> None:
    emu.configure_number("+15557770009", "busy")
    _, ids = await answered(emu, client)
    await client.result("calling.connect", {**ids, "devices": [[_phone("+15557770009")]]})
    failed = await client.wait_event("calling.call.connect", connect_state="failed")
    assert failed["failed_reason"] == "busy"
    await client.result("calling.connect", {**ids, "devices": [[_phone("+15557770000")]]})
    peer = (await client.wait_event("calling.call.connect", connect_state="connected"))["peer"]
    await client.result("calling.end", ids)
    await client.wait_event("calling.call.state", call_id=peer["call_id"], call_state="ended")
    assert emu.call(peer["call_id"]).record.hung_up_by == "emulator"


async def test_send_digits_transfer_and_pass(emu: Emulator, client: MiniClient) -> None:
    call, ids = await answered(emu, client)
    await client.result("calling.send_digits", {**ids, "control_id": "sd", "digits": "12w#"})
    await client.wait_event("calling.call.send_digits", control_id="sd", state="finished")
    assert call.record.digits_sent == ["12w#"]
    bad = await client.result("calling.send_digits", {**ids, "control_id": "x", "digits": "9!"})
    assert bad["code"] == "400"
    res = await client.result("calling.transfer", {**ids, "dest": "https://example.test/swml"})
    assert res["message"] == "Transferring"
    record = await call.wait_ended()
    assert record.transferred_to == "https://example.test/swml"


SYNTHESIZED: list[tuple[str, dict[str, Any], str | None]] = [
    ("calling.hold", {}, "calling.call.hold"),
    ("calling.unhold", {}, "calling.call.hold"),
    ("calling.denoise", {}, "calling.call.denoise"),
    ("calling.denoise.stop", {}, "calling.call.denoise"),
    ("calling.echo", {"timeout": 1}, "calling.call.echo"),
    (
        "calling.refer",
        {"device": {"type": "sip", "params": {"to": "sip:a@b"}}},
        "calling.call.refer",
    ),
    ("calling.join_conference", {"name": "room"}, "calling.conference"),
    (
        "calling.tap",
        {
            "control_id": "tp",
            "tap": {"type": "audio", "params": {"direction": "both"}},
            "device": {"type": "ws", "params": {"uri": "wss://tap.test"}},
        },
        "calling.call.tap",
    ),
    ("calling.stream", {"control_id": "st", "url": "wss://stream.test"}, "calling.call.stream"),
    (
        "calling.pay",
        {"control_id": "py", "payment_connector_url": "https://pay.test"},
        "calling.call.pay",
    ),
    (
        "calling.send_fax",
        {"control_id": "fx", "document": "https://doc.test/a.pdf"},
        "calling.call.fax",
    ),
    ("calling.receive_fax", {"control_id": "rf"}, "calling.call.fax"),
    ("calling.queue.enter", {"control_id": "q", "queue_name": "support"}, "calling.call.queue"),
    ("calling.bind_digit", {"digits": "*1", "bind_method": "calling.play"}, None),
    ("calling.clear_digit_bindings", {}, None),
    ("calling.live_transcribe", {"action": {"start": {}}}, None),
    ("calling.live_translate", {"action": {"start": {}}}, None),
    ("calling.join_room", {"name": "r"}, None),
    ("calling.leave_room", {}, None),
    ("calling.user_event", {"event": "hello"}, None),
    ("calling.amazon_bedrock", {"prompt": {}}, None),
    ("calling.ai", {"control_id": "ai"}, None),
    ("calling.transcribe", {"control_id": "tr"}, None),
]


@pytest.mark.parametrize(
    ("method", "params", "event"), SYNTHESIZED, ids=[m for m, _, _ in SYNTHESIZED]
)
async def test_synthesized_methods_accepted_with_events(
    emu: Emulator, client: MiniClient, method: str, params: dict[str, Any], event: str | None
) -> None:
    call, ids = await answered(emu, client, Caller().fax())
    res = await client.result(method, {**ids, **params})
    assert res["code"] == "200", res
    if event is not None:
        await client.wait_event(event)
    await client.result("calling.end", ids)
    await call.wait_ended()
    await client.wait_event("calling.call.state", call_state="ended")
    if method in (
        "calling.tap",
        "calling.stream",
        "calling.pay",
        "calling.ai",
        "calling.transcribe",
        "calling.send_fax",
        "calling.receive_fax",
    ):
        kind = method.split(".")[1]
        ev_type = {"send_fax": "fax", "receive_fax": "fax"}.get(kind, kind)
        assert client.events_of(
            f"calling.call.{ev_type}", control_id=params["control_id"], state="finished"
        )


async def test_fax_to_fax_machine_succeeds(emu: Emulator, client: MiniClient) -> None:
    _, ids = await answered(emu, client, Caller().fax())
    await client.result(
        "calling.send_fax", {**ids, "control_id": "f", "document": "https://doc.test/a.pdf"}
    )
    ev = await client.wait_event("calling.call.fax", control_id="f", state="finished")
    assert ev["fax"]["type"] == "finished"
    assert ev["fax"]["params"]["success"] is True
    assert [e["fax"]["type"] for e in client.events_of("calling.call.fax")] == ["page", "finished"]


async def test_conference_leave_and_ai_message(emu: Emulator, client: MiniClient) -> None:
    _, ids = await answered(emu, client)
    res = await client.result("calling.join_conference", {**ids, "name": "room"})
    left = await client.result("calling.leave_conference", {**ids, "conference_id": "nope"})
    assert left["code"] == "400"
    await client.result("calling.leave_conference", {**ids, "conference_id": res["conference_id"]})
    await client.wait_event("calling.conference", status="conference-end")
    assert states(client, "calling.conference", "status") == [
        "conference-start",
        "participant-join",
        "participant-leave",
        "conference-end",
    ]
    assert (await client.result("calling.ai_message", {**ids, "message_text": "hi"}))[
        "code"
    ] == "400"
    await client.result("calling.ai", {**ids, "control_id": "ai"})
    assert (await client.result("calling.ai_message", {**ids, "message_text": "hi"}))[
        "code"
    ] == "200"
