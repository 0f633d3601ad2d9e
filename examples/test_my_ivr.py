"""Test an IVR handler offline: pytest, relaykit's emulator and a scripted caller.

Run it with ``pytest examples/test_my_ivr.py``.  relaykit's pytest plugin gives
the fixtures ``relay_emulator`` and ``relay_client_factory``; anyio's runs each
test on asyncio and on trio (trio in virtual time: a minute of ringing is free).
"""

import pytest

from relay_anyio import EVENT_CALL_CONNECT
from relaykit.emulator import Caller
from relaykit.testing import anyio_backend_for

pytestmark = pytest.mark.anyio

SALES = "+15557770001"
MENU = "Press 1 for sales, 2 to leave a message."
LEAVE = "Leave a message after the tone."
SALES_AWAY = "Sales is not answering."
GOODBYE = "Goodbye."


async def say(call, text):
    await (await call.play([{"type": "tts", "text": text}])).wait()


async def handle_call(call):  # your application's handler
    await call.answer()
    menu = await call.play_and_collect(
        [{"type": "tts", "text": MENU}],
        {"digits": {"max": 1, "digit_timeout": 3}, "initial_timeout": 5},
    )
    result = await menu.wait()
    if result.type == "digit" and result.digits == "1":
        sales = {"to_number": SALES, "from_number": "+15550000000", "timeout": 20}
        await call.connect([[{"type": "phone", "params": sales}]])
        outcome = await call.wait_for(
            EVENT_CALL_CONNECT, lambda e: e.connect_state in ("connected", "failed")
        )
        if outcome.connect_state == "connected":
            return  # bridged: the caller and sales talk until one hangs up
        await say(call, SALES_AWAY)  # nobody picked up: take a message instead
    if result.type == "digit" and result.digits in ("1", "2"):
        await say(call, LEAVE)
        await (await call.record(audio={"end_silence_timeout": 1})).wait()
    await say(call, GOODBYE)
    await call.hangup()


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return anyio_backend_for(request.param)  # trio runs under a virtual clock


@pytest.fixture
async def ivr(relay_client_factory):
    """The IVR, connected to the test's emulator for the whole test."""
    client = relay_client_factory(contexts=["ivr"])
    client.on_call(handle_call)
    async with client:
        yield client


async def call_the_ivr(emulator, caller):
    """Place one call from a scripted caller and return its record once it ended."""
    call = await emulator.place_call(context="ivr", script=caller)
    return await call.wait_ended(timeout=300)  # seconds of the test's clock


async def test_pressing_1_reaches_sales(relay_emulator, ivr):
    record = await call_the_ivr(relay_emulator, Caller().press("1").hangup_after(60))
    assert record.prompts == [MENU]
    assert record.connected_to == SALES
    assert record.hung_up_by == "remote"


async def test_pressing_2_records_a_message(relay_emulator, ivr):
    record = await call_the_ivr(relay_emulator, Caller().press("2").say("Please call me back"))
    assert record.prompts == [MENU, LEAVE, GOODBYE]
    assert record.recordings[0]["duration"] > 0


async def test_silence_says_goodbye(relay_emulator, ivr):
    record = await call_the_ivr(relay_emulator, Caller().silence())
    assert record.inputs == [{"type": "no_input"}]
    assert record.prompts == [MENU, GOODBYE]


async def test_sales_rings_out_and_the_caller_leaves_a_message(relay_emulator, ivr):
    relay_emulator.configure_number(SALES, behavior="no-answer")  # rings until the timeout
    record = await call_the_ivr(relay_emulator, Caller().press("1").say("Call me back"))
    assert record.connected_to is None
    assert record.prompts == [MENU, SALES_AWAY, LEAVE, GOODBYE]
    (sales_leg,) = [c.record for c in relay_emulator.calls if c.record.to_number == SALES]
    assert not sales_leg.answered


async def test_a_dropped_connection_is_resumed(relay_emulator, ivr):
    call = await relay_emulator.place_call(
        context="ivr", script=Caller().press("1").hangup_after(60)
    )
    # Once the IVR's connect request is answered (and, a ping round trip later,
    # read), the IVR only waits for events: then the connection drops ...
    await relay_emulator.wait_for_journal("calling.connect", direction="out", timeout=60)
    await relay_emulator.ping_clients()
    assert await relay_emulator.drop_connections() == 1
    # ... the client reconnects, resumes its session, and the call goes on.
    record = await call.wait_ended(timeout=300)
    assert record.connected_to == SALES
    assert len(relay_emulator.journal("signalwire.connect", direction="in")) == 2
    # The next call works as usual.
    assert (await call_the_ivr(relay_emulator, Caller().silence())).prompts[-1] == GOODBYE


async def test_a_half_open_connection_is_replaced(relay_emulator, ivr):
    # The emulator stops answering but keeps the connection open: only the
    # client's pings can tell.  It gives up on the silent one and reconnects.
    assert relay_emulator.go_half_open() == 1
    await relay_emulator.wait_for_journal(
        "signalwire.connect", count=2, direction="in", timeout=120
    )
    assert (await call_the_ivr(relay_emulator, Caller().silence())).prompts[-1] == GOODBYE
