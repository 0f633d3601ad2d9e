"""The runnable example of docs/emulator.md: testing an IVR handler offline.

Kept in sync with the "Test your IVR offline" section of the docs.  It uses
relaykit's own high-level client (``relay_anyio.RelayClient``); until that
object model is exported the test is skipped with a reason.
"""

from __future__ import annotations

from typing import Any

import pytest

import relay_anyio
from relay_anyio.emulator import Caller, Emulator

RelayClient: Any = getattr(relay_anyio, "RelayClient", None)
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.timeout(20),
    pytest.mark.skipif(RelayClient is None, reason="relay_anyio.RelayClient not exported yet"),
]

SALES = "+15557770001"
MENU = "Press 1 for sales, 2 to leave a message."


# --- the application under test (normally imported from your package) -------------
async def handle_call(call: Any) -> None:
    await call.answer()
    menu = await call.play_and_collect(
        [{"type": "tts", "text": MENU}],
        {"digits": {"max": 1, "digit_timeout": 3}, "initial_timeout": 5},
    )
    event = await menu.wait()
    result = event.params["result"]
    if result["type"] == "digit" and result["params"]["digits"] == "1":
        await call.connect(
            [[{"type": "phone", "params": {"to_number": SALES, "from_number": "+15550000000"}}]]
        )
        return  # the bridge ends when either side hangs up
    if result["type"] == "digit" and result["params"]["digits"] == "2":
        await (await call.play([{"type": "tts", "text": "Leave a message."}])).wait()
        await (await call.record(audio={"end_silence_timeout": 1})).wait()
    await (await call.play([{"type": "tts", "text": "Goodbye."}])).wait()
    await call.hangup()


# --- the tests ----------------------------------------------------------------------
@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def run_caller(script: Caller) -> Any:
    async with Emulator(project="p", token="t", time_scale=0.001) as emu:
        client = RelayClient(project="p", token="t", url=emu.url, contexts=["ivr"])
        client.on_call(handle_call)
        async with client:
            call = await emu.place_call(context="ivr", script=script)
            return await call.wait_ended(timeout=10)


async def test_pressing_1_reaches_sales() -> None:
    record = await run_caller(Caller().press("1").hangup_after(30))
    assert record.prompts == [MENU]
    assert record.connected_to == SALES
    assert record.hung_up_by == "remote"


async def test_pressing_2_records_a_message() -> None:
    record = await run_caller(Caller().press("2").say("Please call me back"))
    assert record.prompts == [MENU, "Leave a message.", "Goodbye."]
    assert len(record.recordings) == 1
    assert record.recordings[0]["duration"] > 0
    assert record.hung_up_by == "app"


async def test_silence_says_goodbye() -> None:
    record = await run_caller(Caller().silence())
    assert record.inputs == [{"type": "no_input"}]
    assert record.prompts[-1] == "Goodbye."
