"""Blocking ``client.run()``: Ctrl+C / SIGTERM stop taking calls, let handlers finish
within the grace period, close the socket and return (exit status 0)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import anyio
import pytest

from ._helpers import requests
from .conftest import CHILD_PROCESS, caller, emulator
from .test_examples import Example

# The client is a child process: one case per adapter module, over loopback.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60), CHILD_PROCESS]

PROGRAM = """
from relay_anyio import RelayClient

client = RelayClient(contexts=["office"], shutdown_grace={grace})


@client.on_call
async def handle(call):
    await call.answer()
    play = await call.play([{{"type": "silence", "params": {{"duration": {seconds}}}}}])
    await play.wait()
    await call.hangup()
    print("handler done", flush=True)


client.run()
print("run returned", flush=True)
"""


def _program(tmp_path: Path, name: str, grace: float, seconds: float) -> str:
    (tmp_path / "src").mkdir(exist_ok=True)
    path = tmp_path / "src" / name
    path.write_text(PROGRAM.format(grace=grace, seconds=seconds))
    return name


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_running_handler_finishes_before_exit(
    adapter: Any, adapter_spec: tuple[str, ...], tmp_path: Path, signum: signal.Signals
) -> None:
    name = _program(tmp_path, "graceful.py", grace=10.0, seconds=300.0)  # 0.3 s real
    example = Example(name, adapter_spec, tmp_path, source_dir=tmp_path / "src")
    async with emulator() as emu:
        await example.start(emu)
        try:
            call = await emu.place_call(context="office", script=caller(), wait_subscriber=15)
            await call.wait_state("answered", timeout=10)
            await emu.wait_for_journal("calling.play", direction="in", timeout=10)
            output = await example.finish(signum)
            record = call.record
        finally:
            await example.kill()
    assert "handler done" in output
    assert "run returned" in output
    assert record.end_reason == "hangup"
    assert record.hung_up_by == "app"
    assert requests(emu, "signalwire.unreceive")[-1]["contexts"] == ["office"]


async def test_grace_period_is_bounded(
    adapter: Any, adapter_spec: tuple[str, ...], tmp_path: Path
) -> None:
    name = _program(tmp_path, "stuck.py", grace=0.2, seconds=3600.0)  # an hour of silence
    example = Example(name, adapter_spec, tmp_path, source_dir=tmp_path / "src")
    async with emulator() as emu:
        await example.start(emu)
        try:
            call = await emu.place_call(context="office", script=caller(), wait_subscriber=15)
            await call.wait_state("answered", timeout=10)
            await emu.wait_for_journal("calling.play", direction="in", timeout=10)
            output = await example.finish(signal.SIGTERM, limit=10)
        finally:
            await example.kill()
    assert "handler done" not in output
    assert "run returned" in output


async def test_ctrl_c_while_the_server_is_unreachable(
    adapter: Any, adapter_spec: tuple[str, ...], tmp_path: Path
) -> None:
    """run() keeps retrying an unreachable server; Ctrl+C still ends it cleanly."""
    name = _program(tmp_path, "unreachable.py", grace=1.0, seconds=1.0)
    example = Example(name, adapter_spec, tmp_path, source_dir=tmp_path / "src")
    async with emulator() as emu:
        pass  # the port is free again: nothing listens there now
    await example.start(emu)
    process = example.process
    assert process is not None
    assert process.stdout is not None
    try:
        seen = b""
        with anyio.fail_after(15):
            async for chunk in process.stdout:
                seen += chunk
                if b"could not connect" in seen:
                    break
        output = await example.finish(signal.SIGINT)
    finally:
        await example.kill()
    assert "run returned" in output


async def test_run_exits_1_when_authentication_fails(
    adapter: Any, adapter_spec: tuple[str, ...], tmp_path: Path
) -> None:
    name = _program(tmp_path, "badauth.py", grace=1.0, seconds=1.0)
    example = Example(name, adapter_spec, tmp_path, source_dir=tmp_path / "src")
    async with emulator(token="the-right-token") as emu:
        await example.start(emu)
        try:
            output = await example.finish(limit=20, expect=1)
        finally:
            await example.kill()
    # One line and exit status 1, not a traceback (tests/integration/test_run_messages.py).
    assert output.splitlines()[-1].startswith(f"authentication failed at {emu.url}")
    assert "Traceback" not in output
    assert "ExceptionGroup" not in output
    assert "run returned" not in output
    assert len(requests(emu, "signalwire.connect")) == 3
