"""Blocking ``client.run()``: Ctrl+C / SIGTERM stop taking calls, let handlers finish
within the grace period, close the socket and return (exit status 0).  Calls whose
handlers outlive the grace period are hung up, and a second Ctrl+C during the drain
stops at once (issue 11 §1, §5)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import anyio
import pytest

from relaykit.emulator import EmulatedCall, Emulator

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


def _program(
    adapter_spec: tuple[str, ...], tmp_path: Path, name: str, grace: float, seconds: float
) -> Example:
    """PROGRAM as *name*, with its grace period and the silence its handler plays."""
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / name).write_text(PROGRAM.format(grace=grace, seconds=seconds))
    return Example(name, adapter_spec, tmp_path, source_dir=tmp_path / "src")


async def _call_in_its_handler(emu: Emulator) -> EmulatedCall:
    """A call the program has answered and is playing silence to."""
    call = await emu.place_call(context="office", script=caller(), wait_subscriber=15)
    await call.wait_state("answered", timeout=10)
    await emu.wait_for_journal("calling.play", direction="in", timeout=10)
    return call


@pytest.mark.parametrize(
    ("signum", "grace", "seconds", "finishes"),
    [
        pytest.param(signal.SIGINT, 10.0, 300.0, True, id="ctrl-c"),  # 0.3 s of silence
        pytest.param(signal.SIGTERM, 10.0, 300.0, True, id="sigterm"),
        # An hour of silence: the handler outlives the 0.2 s grace period.
        pytest.param(signal.SIGTERM, 0.2, 3600.0, False, id="grace-period-bounded"),
    ],
)
async def test_handlers_finish_within_the_grace_period_and_overdue_calls_are_hung_up(
    adapter: Any,
    adapter_spec: tuple[str, ...],
    tmp_path: Path,
    signum: signal.Signals,
    grace: float,
    seconds: float,
    finishes: bool,
) -> None:
    example = _program(adapter_spec, tmp_path, "handler.py", grace=grace, seconds=seconds)
    async with emulator() as emu, example.running(emu):
        call = await _call_in_its_handler(emu)
        output = await example.finish(signum)
        record = call.record
    assert ("handler done" in output) is finishes, output
    assert ("hanging up call" in output) is not finishes, output  # logged
    assert "run returned" in output
    assert record.state == "ended"
    assert record.hung_up_by == "app"
    assert requests(emu, "signalwire.unreceive")[-1]["contexts"] == ["office"]
    if finishes:
        assert record.end_reason == "hangup"


async def test_second_ctrl_c_during_the_drain_stops_at_once(
    adapter: Any, adapter_spec: tuple[str, ...], tmp_path: Path
) -> None:
    # A 60 s grace period the test could never wait out within its bound.
    example = _program(adapter_spec, tmp_path, "impatient.py", grace=60.0, seconds=3_600_000.0)
    async with emulator() as emu, example.running(emu):
        call = await _call_in_its_handler(emu)
        assert example.process is not None
        example.process.send_signal(signal.SIGINT)
        await emu.wait_for_journal("signalwire.unreceive", direction="in", timeout=10)
        output = await example.finish(signal.SIGINT, limit=10)
        # The hang-up left ahead of the close frame; the emulator may read it
        # after the child exited.
        try:
            record = await call.wait_ended(timeout=5)
        except TimeoutError:
            sent = requests(emu, "calling.end")
            raise AssertionError(f"not hung up (sent: {sent}):\n{output}") from None
    assert "again: stopping at once" in output
    assert "handler done" not in output
    assert "run returned" in output
    assert record.hung_up_by == "app", output
    assert requests(emu, "signalwire.unreceive")


async def test_ctrl_c_while_the_server_is_unreachable(
    adapter: Any, adapter_spec: tuple[str, ...], tmp_path: Path
) -> None:
    """run() keeps retrying an unreachable server; Ctrl+C still ends it cleanly."""
    example = _program(adapter_spec, tmp_path, "unreachable.py", grace=1.0, seconds=1.0)
    async with emulator() as emu:
        pass  # the port is free again: nothing listens there now
    async with example.running(emu):
        process = example.process
        assert process is not None
        assert process.stdout is not None
        seen = b""
        with anyio.fail_after(15):
            async for chunk in process.stdout:
                seen += chunk
                if b"could not connect" in seen:
                    break
        output = await example.finish(signal.SIGINT)
    assert "run returned" in output


async def test_run_exits_1_when_authentication_fails(
    adapter: Any, adapter_spec: tuple[str, ...], tmp_path: Path
) -> None:
    example = _program(adapter_spec, tmp_path, "badauth.py", grace=1.0, seconds=1.0)
    async with emulator(token="the-right-token") as emu, example.running(emu):
        output = await example.finish(limit=20, expect=1)
    # One line and exit status 1, not a traceback (tests/integration/test_run_messages.py).
    assert output.splitlines()[-1].startswith(f"authentication failed at {emu.url}")
    assert "Traceback" not in output
    assert "ExceptionGroup" not in output
    assert "run returned" not in output
    assert len(requests(emu, "signalwire.connect")) == 3
