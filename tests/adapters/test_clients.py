"""The bound clients (relay_anyio, relay_trio, httpx-ws) against the emulator.

A smoke test of each adapter binding end to end; the full integration suite
(every method, reconnects, faults) lives with the object model's tests.
"""

from __future__ import annotations

import os
import signal
import sys
import textwrap
from typing import Any

import anyio
import pytest
import trio

import relay_anyio
import relay_trio
from relaykit.emulator import Caller, Emulator

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

# (anyio backend, binding): the conftest's backend_case, which picks the anyio_backend.
EVERY_BINDING = pytest.mark.parametrize(
    "backend_case",
    [
        pytest.param(("asyncio", "anyio"), id="anyio-asyncio"),
        pytest.param(("trio", "anyio"), id="anyio-trio"),
        pytest.param(("trio", "trio"), id="trio"),
        pytest.param(("asyncio", "httpx"), id="httpx-asyncio"),
        pytest.param(("trio", "httpx"), id="httpx-trio"),
    ],
)


def make_client(kind: str, url: str, **kw: Any) -> Any:
    if kind == "trio":
        return relay_trio.RelayClient(project="p", token="t", url=url, **kw)
    if kind == "httpx":
        kw["transport"] = relay_anyio.HttpxWsTransport()
    return relay_anyio.RelayClient(project="p", token="t", url=url, **kw)


@EVERY_BINDING
async def test_answer_play_and_sms(backend_case: tuple[str, str]) -> None:
    async with Emulator(project="p", token="t", time_scale=0.001) as emu:
        client = make_client(backend_case[1], emu.url, contexts=["ivr"])
        handled = anyio.Event()

        @client.on_call
        async def on_call(call: Any) -> None:
            await call.answer()
            action = await call.play_tts("Hello from the adapter")
            await action.wait(10)
            await call.hangup()
            handled.set()

        async with client:
            call = await emu.place_call(context="ivr", script=Caller())
            record = await call.wait_ended(timeout=10)
            with anyio.fail_after(10):
                await handled.wait()
            message = await client.send_message(
                to_number="+15551112222", from_number="+15553334444", body="hi"
            )
            final = await message.wait(10)
        assert record.prompts == ["Hello from the adapter"]
        assert record.hung_up_by == "app"
        assert final.message_state == "delivered"


@pytest.mark.parametrize("backend_case", [pytest.param(("trio", "trio"), id="trio")])
async def test_open_client_in_a_nursery(backend_case: tuple[str, str]) -> None:
    async with Emulator(project="p", token="t", time_scale=0.001) as emu:
        async with relay_trio.open_client(
            project="p", token="t", url=emu.url, contexts=["office"]
        ) as client:
            assert client.relay_protocol.startswith("signalwire_")
            message = await client.send_message(
                to_number="+15551112222", from_number="+15553334444", body="hi"
            )
            assert (await message.wait(10)).message_state == "delivered"
        assert not emu.server.subscribers("office")  # disconnected on exit


@pytest.mark.parametrize("backend_case", [pytest.param(("trio", "trio"), id="trio")])
async def test_open_client_in_a_nursery_and_cancel(backend_case: tuple[str, str]) -> None:
    async with Emulator(project="p", token="t", time_scale=0.001) as emu:
        seen: list[str] = []
        connected = trio.Event()
        async with trio.open_nursery() as nursery:

            async def serve() -> None:
                async with relay_trio.open_client(
                    project="p", token="t", url=emu.url, contexts=["office"]
                ) as client:
                    seen.append(client.relay_protocol)
                    connected.set()
                    await trio.sleep_forever()

            nursery.start_soon(serve)
            with trio.fail_after(10):
                await connected.wait()
            # Cancelling the caller's scope stops the client (and disconnects it).
            nursery.cancel_scope.cancel()
        assert seen[0].startswith("signalwire_")
        # The disconnect ran (shielded) despite the cancellation: the server saw
        # the close handshake before open_client returned.
        assert not emu.server.subscribers("office")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("backend_case", [pytest.param(("asyncio", "anyio"), id="emulator")])
@pytest.mark.parametrize("adapter", ["relay_trio", "relay_anyio"])
async def test_run_shuts_down_cleanly_on_sigint(
    backend_case: tuple[str, str], adapter: str
) -> None:
    program = textwrap.dedent(
        f"""
        import sys
        import {adapter} as adapter
        client = adapter.RelayClient(project="p", token="t", url=sys.argv[1], contexts=["office"])
        client.run()
        print("run() returned", flush=True)
        """
    )
    async with Emulator(project="p", token="t", time_scale=0.001) as emu:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        args = [sys.executable, "-c", program, emu.url]
        async with await anyio.open_process(args, env=env) as process:
            await emu.wait_for_subscriber("office", timeout=10)
            process.send_signal(signal.SIGINT)
            with anyio.fail_after(15):
                await process.wait()
            assert process.stdout is not None
            assert process.stderr is not None
            out = (await process.stdout.receive()).decode()
            err = b""
            async for chunk in process.stderr:
                err += chunk
        assert process.returncode == 0, err.decode()
        assert "run() returned" in out
        assert b"Traceback" not in err


@EVERY_BINDING
async def test_cancelled_scope_still_disconnects_politely(backend_case: tuple[str, str]) -> None:
    async with Emulator(project="p", token="t", time_scale=0.001) as emu:
        client = make_client(backend_case[1], emu.url, contexts=["office"])
        with anyio.CancelScope() as scope:
            async with client:
                scope.cancel()
                await anyio.sleep_forever()
        assert scope.cancelled_caught
        # disconnect() ran to the end although its caller's scope was cancelled.
        assert not emu.server.subscribers("office")
        assert client._driver is None
