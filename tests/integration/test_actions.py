"""Every action's terminal states, controls, callbacks and the call-end / call-gone rules."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from trio.testing import MockClock

from relaykit.emulator import Caller

from ._helpers import requests, run_inbound
from .conftest import caller, emulator

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

LONG = [{"type": "silence", "duration": 3600}]  # flat seed form, one simulated hour


@pytest.mark.loopback
async def test_play_controls_and_finish(adapter: Any) -> None:
    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            short = await call.play([{"type": "tts", "text": "Hello"}])
            first = await short.wait(timeout=5)
            long = await call.play(LONG)
            assert not long.is_done
            await long.pause()
            await long.resume()
            await long.volume(-3.0)
            await long.stop()
            stopped = await long.wait(timeout=5)
            return first, stopped, long

        _, (first, stopped, long) = await run_inbound(adapter, emu, handler)
    assert first.params["state"] == "finished"
    assert isinstance(first, adapter.PlayEvent)
    assert stopped.state == "finished"
    assert long.is_done
    assert long.reason == "finished"
    cid = long.control_id
    for sub in ("pause", "resume", "volume", "stop"):
        assert requests(emu, f"calling.play.{sub}")[-1]["control_id"] == cid
    assert requests(emu, "calling.play.volume")[-1]["volume"] == -3.0


async def test_timed_out_wait_does_not_spoil_the_action(adapter: Any) -> None:
    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            action = await call.play(LONG)
            with pytest.raises(TimeoutError):
                await action.wait(timeout=0.01)
            assert not action.is_done
            await action.stop()
            return await action.wait(timeout=5)

        _, result = await run_inbound(adapter, emu, handler)
    assert result.params["state"] == "finished"


async def test_record_result_and_controls(adapter: Any) -> None:
    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            rec = await call.record(audio={"format": "mp3", "end_silence_timeout": 0})
            await call.play([{"type": "tts", "text": "Say something"}])
            await rec.pause(behavior="silence")
            await rec.resume()
            await rec.stop()
            result = await rec.wait(timeout=5)
            return rec, result

        _, (rec, result) = await run_inbound(adapter, emu, handler, script=caller().say("hi"))
    assert result.state == "finished"
    assert result.url.startswith("http")
    assert rec.url == result.url
    assert result.params["record"]["url"] == result.url  # the seed docs' read
    assert result.duration >= 0
    assert rec.duration == result.duration
    assert requests(emu, "calling.record.pause")[-1]["behavior"] == "silence"


@pytest.mark.loopback
async def test_collect_digits_speech_and_no_input(adapter: Any) -> None:
    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            digits = await call.collect(digits={"max": 1, "digit_timeout": 5.0})
            d = await digits.wait(timeout=5)
            speech = await call.collect(speech={"end_silence_timeout": 1.0}, partial_results=True)
            s = await speech.wait(timeout=5)
            silent = await call.collect(digits={"max": 1}, initial_timeout=2.0)
            n = await silent.wait(timeout=5)
            return digits, d, s, n

        script = caller().press("7").say("sales please").silence()
        _, (digits, d, s, n) = await run_inbound(adapter, emu, handler, script=script)
    assert (d.type, d.digits) == ("digit", "7")
    assert d.params["result"]["digits"] == "7"  # seed read (flat)
    assert d.params["result"]["params"]["digits"] == "7"  # wire shape kept
    assert digits.digits == "7"
    assert digits.type == "digit"
    assert (s.type, s.speech) == ("speech", "sales please")
    assert s.final is not False  # partial results did not end it
    assert n.type == "no_input"


async def test_play_and_collect_ends_on_collect_not_on_play(adapter: Any) -> None:
    async with emulator() as emu:
        plays: list[str] = []

        async def handler(call: Any) -> Any:
            call.on(adapter.EVENT_CALL_PLAY, lambda e: plays.append(e.state))
            await call.answer()
            action = await call.play_and_collect(
                [{"type": "tts", "text": "Press 1 for sales."}],
                {"digits": {"max": 1, "digit_timeout": 5.0}},
            )
            result = await action.wait(timeout=5)
            await action.volume(2.0)  # a control on a finished action still sends
            return result

        _, result = await run_inbound(adapter, emu, handler, script=caller().press("1"))
    assert "finished" in plays
    assert isinstance(result, adapter.CollectEvent)
    assert result.digits == "1"
    assert requests(emu, "calling.play_and_collect.volume")


@pytest.mark.parametrize(
    ("script", "expected"),
    [(caller().voicemail(), "MACHINE"), (caller().human(), "HUMAN")],
    ids=["machine", "human"],
)
async def test_detect_answering_machine(adapter: Any, script: Caller, expected: str) -> None:
    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            detect = await call.detect_answering_machine(timeout=10.0)
            return await detect.wait(timeout=5)

        _, result = await run_inbound(adapter, emu, handler, script=script)
    assert result.result == expected
    assert result.params["detect"]["params"]["event"] == expected


async def test_fax_send_receive_and_detect(adapter: Any) -> None:
    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            # A one-page fax takes 6 simulated seconds each way.
            tone = await (await call.detect_fax()).wait(timeout=30)
            sent = await (await call.send_fax("https://example.com/doc.pdf")).wait(timeout=30)
            received = await (await call.receive_fax()).wait(timeout=30)
            return tone, sent, received

        _, (tone, sent, received) = await run_inbound(
            adapter, emu, handler, script=caller().fax(), limit=30
        )
    assert tone.result == "CED"
    assert sent.type == "finished"
    assert sent.success
    assert received.type == "finished"


@pytest.mark.parametrize(
    "start",
    [
        lambda c: c.tap(
            {"type": "audio", "params": {"direction": "both"}},
            {"type": "rtp", "params": {"addr": "127.0.0.1", "port": 4000}},
        ),
        lambda c: c.stream("wss://stream.example.com"),
        lambda c: c.transcribe(),
        lambda c: c.pay("https://pay.example.com"),
        lambda c: c.ai(prompt={"text": "hi"}),
        lambda c: c.record(),
        lambda c: c.detect({"type": "digit", "params": {}}),
        lambda c: c.collect(digits={"max": 4}),
    ],
    ids=["tap", "stream", "transcribe", "pay", "ai", "record", "detect", "collect"],
)
async def test_stop_ends_each_action(adapter: Any, start: Any) -> None:
    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            action = await start(call)
            await action.stop()
            result = await action.wait(timeout=5)
            await call.hangup()
            return action, result

        _, (action, result) = await run_inbound(adapter, emu, handler)
    assert action.is_done
    assert action.reason == "finished", (action, result.params)
    assert getattr(adapter, type(action).__name__) is type(action)  # a public class


def _ended_event(call: Any) -> str:
    params = {"call_id": call.call_id, "node_id": call.node_id, "call_state": "ended"}
    envelope = {"event_type": "calling.call.state", "timestamp": 1.0, "params": params}
    message = {"jsonrpc": "2.0", "id": "inj-1", "method": "signalwire.event", "params": envelope}
    return json.dumps(message)


@pytest.mark.loopback
async def test_call_end_completes_every_pending_action_and_wait(adapter: Any) -> None:
    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            play = await call.play(LONG)
            record = await call.record(audio={"initial_timeout": 0})
            collect = await call.collect(digits={"max": 4}, initial_timeout=3600.0)
            results: dict[str, Any] = {}

            async def wait_tap() -> None:
                results["waited"] = await call.wait_for(adapter.EVENT_CALL_TAP)

            async with anyio.create_task_group() as tg:
                tg.start_soon(wait_tap)
                with anyio.fail_after(5):
                    while not call._waiters:
                        await anyio.lowlevel.checkpoint()
                # The server's own terminal events may race the end of the call;
                # an `ended` state alone must complete everything still pending.
                await emu.inject_raw(_ended_event(call))
                for action in (play, record, collect):
                    results[type(action).__name__] = await action.wait(timeout=5)
            await call.hangup()  # the emulator's side of the call is still up
            return play, record, collect, results

        _, (play, record, collect, results) = await run_inbound(adapter, emu, handler)
    for action in (play, record, collect):
        assert action.is_done, action
        assert action.reason == "call_ended", action
        assert action.result.params["state"] == "call_ended"
        assert results[type(action).__name__] is action.result
    # The wait_for on an event that never came ended with the call's ended event.
    assert results["waited"].params["call_state"] == "ended"


async def test_call_gone_returns_empty_and_resolves_action(adapter: Any) -> None:
    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            emu.fail_next("calling.play", "404", "Call not found")
            play = await call.play([{"type": "tts", "text": "x"}])
            emu.fail_next("calling.hold", "410", "Gone")
            held = await call.hold()
            emu.fail_next("calling.unhold", "500", "boom")
            with pytest.raises(adapter.RelayError) as info:
                await call.unhold()
            await call.hangup()
            await call.wait_for_ended(timeout=5)
            sends_before = len(requests(emu, "calling.play"))
            late = await call.play([{"type": "tts", "text": "too late"}])
            sends_after = len(requests(emu, "calling.play"))
            return play, held, info.value, late, sends_before, sends_after

        _, (play, held, error, late, before, after) = await run_inbound(adapter, emu, handler)
    assert play.is_done
    assert play.reason == "call_gone"
    assert held == {}
    assert error.code == 500
    assert late.is_done
    assert late.reason == "call_ended"
    assert before == after  # nothing sent for an ended call


async def test_on_completed_callbacks_sync_async_and_failing(
    adapter: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="relaykit")
    async with emulator() as emu:
        seen: list[str] = []
        async_done = anyio.Event()

        def sync_cb(event: Any) -> None:
            seen.append("sync:" + event.state)

        async def async_cb(event: Any) -> None:
            await anyio.lowlevel.checkpoint()
            seen.append("async:" + event.state)
            async_done.set()

        def bad_cb(event: Any) -> None:
            raise RuntimeError("callback bug")

        async def handler(call: Any) -> None:
            await call.answer()
            for cb in (sync_cb, async_cb, bad_cb):
                action = await call.play([{"type": "tts", "text": "hi"}], on_completed=cb)
                await action.wait(timeout=5)
            with anyio.fail_after(5):
                await async_done.wait()

        await run_inbound(adapter, emu, handler)
    assert seen == ["sync:finished", "async:finished"]
    assert "callback bug" in caplog.text


async def test_slow_sync_listener_is_logged(
    adapter: Any, mock_clock: MockClock | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="relaykit")
    async with emulator() as emu:

        def slow_listener(event: Any) -> None:
            # The listener blocks the loop for 50 ms of the runtime's clock: on a
            # virtual clock, by moving it (a blocking sleep would not).
            if mock_clock is not None:
                mock_clock.jump(0.05)
            else:
                time.sleep(0.05)

        async def handler(call: Any) -> None:
            call.on(adapter.EVENT_CALL_STATE, slow_listener)
            await call.answer()
            await call.wait_for_answered(timeout=5)
            await call.hangup()

        await run_inbound(adapter, emu, handler, slow_listener_threshold=0.01)
    assert "slow listener" in caplog.text
    assert "slow_listener" in caplog.text


async def test_action_control_frames(adapter: Any) -> None:
    """Every action control goes out as calling.<kind>.<control> with the control id."""
    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            fax = await call.receive_fax()
            await fax.stop()
            collect = await call.play_and_collect(LONG, {"digits": {"max": 1}})
            await collect.start_input_timers()
            await collect.stop()
            standalone = await call.collect(digits={"max": 1}, start_input_timers=False)
            await standalone.start_input_timers()
            await standalone.stop()
            for action in (fax, collect, standalone):
                await action.wait(timeout=5)
            await call.hangup()
            return fax, collect, standalone

        _, (fax, collect, standalone) = await run_inbound(adapter, emu, handler)
    assert requests(emu, "calling.receive_fax.stop")[-1]["control_id"] == fax.control_id
    assert requests(emu, "calling.play_and_collect.stop")[-1]["control_id"] == collect.control_id
    timers = [r["control_id"] for r in requests(emu, "calling.collect.start_input_timers")]
    assert timers == [collect.control_id, standalone.control_id]
    assert requests(emu, "calling.collect.stop")[-1]["control_id"] == standalone.control_id


def _state_event(call: Any, state: str) -> str:
    params = {"call_id": call.call_id, "node_id": call.node_id, "call_state": state}
    envelope = {"event_type": "calling.call.state", "timestamp": 2.0, "params": params}
    message = {
        "jsonrpc": "2.0",
        "id": f"inj-{state}",
        "method": "signalwire.event",
        "params": envelope,
    }
    return json.dumps(message)


async def test_call_state_never_moves_backward(adapter: Any) -> None:
    """The core decides call state, forward-only; the model takes its decision."""
    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            seen: list[Any] = []
            call.on(adapter.EVENT_CALL_STATE, seen.append)
            await emu.inject_raw(_state_event(call, "ringing"))  # late, out of order
            with anyio.fail_after(5):
                while not any(e.call_state == "ringing" for e in seen):
                    await anyio.lowlevel.checkpoint()
            state_after = call.state
            await call.hangup()
            return next(e for e in seen if e.call_state == "ringing"), state_after

        _, (late, state_after) = await run_inbound(adapter, emu, handler)
    assert late.call_state == "ringing"  # the raw event still reaches listeners
    assert late.state == "answered"  # ...carrying the core's decision
    assert state_after == "answered"
