"""Bad input gets a clear error before anything is sent (issue 11 §4), on every loop."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from ._helpers import requests
from .conftest import caller, emulator, make_client

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

NUMBERS = {"to_number": "+15552222222", "from_number": "+15551111111"}


async def test_send_message_fields_are_checked_before_sending(adapter: Any) -> None:
    async with emulator() as emu, make_client(adapter, emu) as client:
        with pytest.raises(TypeError, match="media"):
            await client.send_message(**NUMBERS, media="https://example.com/a.jpg")
        with pytest.raises(TypeError, match="tags"):
            await client.send_message(**NUMBERS, body="hi", tags="vip")
        with pytest.raises(TypeError, match=r"media\[0\]"):
            await client.send_message(**NUMBERS, media=[5])
        with pytest.raises(TypeError, match="body"):
            await client.send_message(**NUMBERS, body=5)
        with pytest.raises(TypeError, match="to_number"):
            await client.send_message(to_number=None, from_number="+1555", body="hi")
        with pytest.raises(ValueError, match="body or media"):
            await client.send_message(**NUMBERS, body="", media=[])
        assert not requests(emu, "messaging.send")
        message = await client.send_message(**NUMBERS, media=["https://example.com/a.jpg"])
        assert requests(emu, "messaging.send")[-1]["media"] == ["https://example.com/a.jpg"]
        await message.wait(timeout=10)


@pytest.mark.parametrize(
    ("devices", "error", "match"),
    [
        ("+15551234567", TypeError, "devices"),
        ([{"type": "phone", "params": NUMBERS}], TypeError, r"devices\[0\]"),
        ([[]], ValueError, r"devices\[0\]"),
        ([["+1555"]], TypeError, r"devices\[0\]\[0\]"),
        ([[{"params": NUMBERS}]], ValueError, "'type'"),
        ([[{"type": "phone", **NUMBERS}]], ValueError, "'params'"),
        ([[{"type": "phone", "params": {"from_number": "+1555"}}]], ValueError, "to_number"),
        ([[{"type": "sip", "params": {"from": "sip:a@b"}}]], ValueError, "'to'"),
        ([[{"type": 5, "params": NUMBERS}]], TypeError, "type"),
    ],
)
async def test_dial_devices_are_checked_before_sending(
    adapter: Any, devices: Any, error: type[Exception], match: str
) -> None:
    async with emulator() as emu, make_client(adapter, emu) as client:
        with pytest.raises(error, match=match):
            await client.dial(devices)
        assert not requests(emu, "calling.dial")


async def test_contexts_and_arguments(adapter: Any) -> None:
    async with emulator() as emu:
        with pytest.raises(TypeError, match="url"):
            make_client(adapter, emu, url=5)
        with pytest.raises(ValueError, match="shutdown_grace"):
            make_client(adapter, emu, shutdown_grace=-1)
        with pytest.raises(TypeError, match="contexts"):
            make_client(adapter, emu, contexts="office")
        async with make_client(adapter, emu) as client:
            with pytest.raises(TypeError, match="contexts"):
                await client.receive(None)
            with pytest.raises(TypeError, match="contexts"):
                await client.receive("sales")
            with pytest.raises(TypeError, match="contexts"):
                await client.unreceive("office")
            assert not requests(emu, "signalwire.receive")[1:]  # only connect's own


async def test_call_methods_check_their_input(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu)
        checked = anyio.Event()
        errors: list[BaseException] = []

        @client.on_call
        async def on_call(call: Any) -> None:
            try:
                await call.answer()
                with pytest.raises(TypeError, match="media"):
                    await call.play(None)
                with pytest.raises(TypeError, match="media"):
                    await call.play({"type": "tts", "text": "hi"})
                with pytest.raises(ValueError, match="text"):
                    await call.play([{"type": "tts"}])
                with pytest.raises(ValueError, match="type"):
                    await call.play([{"type": "video", "url": "x"}])
                with pytest.raises(TypeError, match="url"):
                    await call.play([{"type": "audio", "url": 5}])
                with pytest.raises(ValueError, match="duration"):
                    await call.play_silence(-1)
                with pytest.raises(ValueError, match="digits"):
                    await call.play_and_collect([{"type": "tts", "text": "x"}], {})
                with pytest.raises(ValueError, match="max"):
                    await call.play_and_collect(
                        [{"type": "tts", "text": "x"}], {"digits": {"max": 0}}
                    )
                with pytest.raises(TypeError, match="speech"):
                    await call.collect(speech="yes")
                with pytest.raises(ValueError, match="digits"):
                    await call.collect(initial_timeout=5)
                with pytest.raises(TypeError, match="handler"):
                    call.on("calling.call.play", None)
                action = await call.play([{"type": "silence", "duration": 3600}])
                with pytest.raises(TypeError, match="timeout"):
                    await action.wait(timeout="5")
                with pytest.raises(TypeError, match="timeout"):
                    await call.wait_for_ended(timeout="5")
                await action.stop()
                await call.hangup()
            except BaseException as exc:
                errors.append(exc)
            finally:
                checked.set()

        async with client:
            await emu.place_call(context="office", script=caller())
            with anyio.fail_after(10):
                await checked.wait()
        if errors:
            raise errors[0]
        assert len(requests(emu, "calling.play")) == 1  # only the good one went out
        assert not requests(emu, "calling.play_and_collect")
        assert not requests(emu, "calling.collect")
