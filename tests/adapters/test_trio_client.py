"""relay_trio specifics: per-handler cancel scopes, and a MockClock driving the client.

With ``MockClock(autojump_threshold=0.05)`` trio's clock jumps to the next
deadline whenever every task (client and emulator alike) has been idle for
50 ms of real time: loopback round trips finish long before that, so reconnect
backoff and request timeouts elapse in virtual time only.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import trio
import trio.testing

import relay_trio
from relaykit.emulator import Caller, Emulator

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0.05)})


def client_for(emu: Emulator, **kw: Any) -> relay_trio.RelayClient:
    return relay_trio.RelayClient(project="p", token="t", url=emu.url, **kw)


async def test_cancelling_one_handlers_scope_stops_only_that_call() -> None:
    async with Emulator(project="p", token="t", time_scale=0.01) as emu:
        client = client_for(emu, contexts=["stuck", "normal"])
        outcomes: dict[str, Any] = {}
        done = trio.Event()

        @client.on_call
        async def on_call(call: Any) -> None:
            await call.answer()
            if call.context == "stuck":
                # This caller never hangs up: the handler bounds its own wait.
                with trio.move_on_after(30) as scope:
                    await call.wait_for_ended()
                outcomes["stuck"] = scope.cancelled_caught
                await call.hangup()
            else:
                action = await call.play_tts("still served")
                outcomes["normal"] = (await action.wait(60)).state
                await call.hangup()
            if len(outcomes) == 2:
                done.set()

        async with client:
            stuck = await emu.place_call(context="stuck", script=Caller())
            normal = await emu.place_call(context="normal", script=Caller())
            with trio.fail_after(120):
                await done.wait()
            stuck_record = await stuck.wait_ended(timeout=60)
            normal_record = await normal.wait_ended(timeout=60)
            assert client.relay_protocol  # the connection itself was never disturbed
        assert outcomes == {"stuck": True, "normal": "finished"}
        assert stuck_record.hung_up_by == "app"
        assert normal_record.prompts == ["still served"]
        assert len(emu.journal(method="signalwire.connect", direction="in")) == 1


async def test_mock_clock_drives_reconnect_backoff() -> None:
    async with Emulator(project="p", token="t", time_scale=0.01) as emu:
        async with client_for(emu, contexts=["office"]) as client:
            real_start, virtual_start = time.monotonic(), trio.current_time()
            assert await emu.drop_connections() == 1
            # The client comes back on its own after its backoff delay.
            await emu.wait_for_subscriber("office", timeout=60)
            message = await client.send_message(
                to_number="+15551112222", from_number="+15553334444", body="after reconnect"
            )
            assert (await message.wait(60)).message_state == "delivered"
            assert trio.current_time() - virtual_start >= 1.0  # the first backoff step
        assert time.monotonic() - real_start < 5
        assert len(emu.journal(method="signalwire.connect", direction="in")) == 2


async def test_mock_clock_drives_request_timeouts() -> None:
    async with Emulator(project="p", token="t", time_scale=0.01) as emu:
        async with client_for(emu, request_timeout=10) as client:
            real_start, virtual_start = time.monotonic(), trio.current_time()
            emu.delay_responses(3600)
            with pytest.raises(relay_trio.RelayTimeoutError):
                await client.execute("calling.answer", {"node_id": "n", "call_id": "c"})
            assert trio.current_time() - virtual_start >= 10
            emu.delay_responses(0)
        assert time.monotonic() - real_start < 5
