"""Turn a recorded call into a test case: replay its caller against the emulator.

Record a real session with ``RelayClient(..., record="session.jsonl")`` (or run the
unchanged program with ``RELAYKIT_RECORD=session.jsonl``), look at it with
``relaykit trace session.jsonl``, and keep the file next to your tests.  So that this
example runs anywhere, its ``recorded_session`` fixture makes the file against the
emulator; return the path of your own recording there instead.
"""

import pytest

from relaykit.emulator import Caller
from relaykit.recording import caller_from_journal, inbound_calls, load_journal, program_commands
from relaykit.testing import TEST_TOKEN, anyio_backend_for

pytestmark = pytest.mark.anyio

MENU = "Press 1 for our opening hours, 2 for our address."
HOURS = "We are open from 9 to 5."
ADDRESS = "We are at 1 Main Street."


async def handle_call(call):  # your application's handler
    await call.answer()
    menu = await call.play_and_collect(
        [{"type": "tts", "text": MENU}],
        {"digits": {"max": 1, "digit_timeout": 3}, "initial_timeout": 5},
    )
    result = await menu.wait()
    answer = {"1": HOURS, "2": ADDRESS}.get(result.digits, "Goodbye.")
    await (await call.play([{"type": "tts", "text": answer}])).wait()
    await call.hangup()


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return anyio_backend_for(request.param)  # trio runs under a virtual clock


@pytest.fixture
async def recorded_session(relay_emulator, relay_client_factory, tmp_path):
    """Stands in for the file your program recorded: one call, the caller pressed 2."""
    path = tmp_path / "session.jsonl"
    client = relay_client_factory(contexts=["ivr"], record=path)
    client.on_call(handle_call)
    async with client:
        call = await relay_emulator.place_call(context="ivr", script=Caller().press("2"))
        await call.wait_ended(timeout=300)
    return path


@pytest.fixture
async def ivr(relay_client_factory):
    """The IVR, connected to the test's emulator for the whole test."""
    client = relay_client_factory(contexts=["ivr"])
    client.on_call(handle_call)
    async with client:
        yield client


async def test_the_recorded_call_plays_out_the_same(recorded_session, relay_emulator, ivr):
    journal = load_journal(recorded_session)
    (call_id,) = inbound_calls(journal)
    caller = caller_from_journal(journal, call_id)  # what the caller did: pressed 2
    call = await relay_emulator.place_call(context="ivr", script=caller)
    record = await call.wait_ended(timeout=300)
    assert record.methods == program_commands(journal, call_id)  # the same commands
    assert record.prompts == [MENU, ADDRESS]


async def test_the_recording_holds_no_secrets(recorded_session):
    text = recorded_session.read_text(encoding="utf-8")
    assert TEST_TOKEN not in text
    assert '"token": "[scrubbed]"' in text
    assert '"authorization_state": "[scrubbed]"' in text
