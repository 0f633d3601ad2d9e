"""Test an IVR handler offline: pytest, the emulator and a scripted caller.

Run it with ``pytest examples/test_my_ivr.py`` (needs pytest and anyio's pytest plugin).
"""

import pytest

from relay_anyio import RelayClient  # or: from signalwire.relay import RelayClient (wss, see above)
from relaykit.emulator import Caller, Emulator

pytestmark = pytest.mark.anyio

SALES = "+15557770001"
MENU = "Press 1 for sales, 2 to leave a message."


async def handle_call(call):  # your application's handler
    await call.answer()
    menu = await call.play_and_collect(
        [{"type": "tts", "text": MENU}],
        {"digits": {"max": 1, "digit_timeout": 3}, "initial_timeout": 5},
    )
    result = await menu.wait()
    if result.type == "digit" and result.digits == "1":
        await call.connect(
            [[{"type": "phone", "params": {"to_number": SALES, "from_number": "+15550000000"}}]]
        )
        return
    if result.type == "digit" and result.digits == "2":
        await (await call.play([{"type": "tts", "text": "Leave a message."}])).wait()
        await (await call.record(audio={"end_silence_timeout": 1})).wait()
    await (await call.play([{"type": "tts", "text": "Goodbye."}])).wait()
    await call.hangup()


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def run_caller(script):
    """Serve handle_call on an emulator, place one scripted call, return its record."""
    async with Emulator(project="p", token="t", time_scale=0.001) as emu:
        client = RelayClient(project="p", token="t", url=emu.url, contexts=["ivr"])
        client.on_call(handle_call)
        async with client:
            call = await emu.place_call(context="ivr", script=script)
            return await call.wait_ended(timeout=10)


async def test_pressing_1_reaches_sales():
    record = await run_caller(Caller().press("1").hangup_after(600))
    assert record.prompts == [MENU]
    assert record.connected_to == SALES
    assert record.hung_up_by == "remote"


async def test_pressing_2_records_a_message():
    record = await run_caller(Caller().press("2").say("Please call me back"))
    assert record.prompts == [MENU, "Leave a message.", "Goodbye."]
    assert record.recordings[0]["duration"] > 0


async def test_silence_says_goodbye():
    record = await run_caller(Caller().silence())
    assert record.inputs == [{"type": "no_input"}]
    assert record.prompts[-1] == "Goodbye."
