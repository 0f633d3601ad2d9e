"""``run()``'s shutdown (issue 11 §1, §5): calls whose handlers outlive the grace
period are hung up, and a second Ctrl+C during the drain stops at once."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from ._helpers import requests
from .conftest import CHILD_PROCESS, caller, emulator
from .test_examples import Example
from .test_shutdown import _program

# The client is a child process: one case per adapter module, over loopback.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60), CHILD_PROCESS]


async def test_handler_outliving_the_grace_period_has_its_call_hung_up(
    adapter: Any, adapter_spec: tuple[str, ...], tmp_path: Path
) -> None:
    name = _program(tmp_path, "overdue.py", grace=0.2, seconds=3600.0)  # an hour of silence
    example = Example(name, adapter_spec, tmp_path, source_dir=tmp_path / "src")
    async with emulator() as emu:
        await example.start(emu)
        try:
            call = await emu.place_call(context="office", script=caller(), wait_subscriber=15)
            await call.wait_state("answered", timeout=10)
            await emu.wait_for_journal("calling.play", direction="in", timeout=10)
            output = await example.finish(signal.SIGTERM, limit=15)
            record = call.record
        finally:
            await example.kill()
    assert "run returned" in output
    assert "hanging up call" in output  # logged
    assert record.state == "ended"
    assert record.hung_up_by == "app"


async def test_second_ctrl_c_during_the_drain_stops_at_once(
    adapter: Any, adapter_spec: tuple[str, ...], tmp_path: Path
) -> None:
    # A 60 s grace period the test could never wait out within its bound.
    name = _program(tmp_path, "impatient.py", grace=60.0, seconds=3_600_000.0)
    example = Example(name, adapter_spec, tmp_path, source_dir=tmp_path / "src")
    async with emulator() as emu:
        await example.start(emu)
        try:
            call = await emu.place_call(context="office", script=caller(), wait_subscriber=15)
            await call.wait_state("answered", timeout=10)
            await emu.wait_for_journal("calling.play", direction="in", timeout=10)
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
        finally:
            await example.kill()
    assert "again: stopping at once" in output
    assert "handler done" not in output
    assert "run returned" in output
    assert record.hung_up_by == "app", output
    assert requests(emu, "signalwire.unreceive")
