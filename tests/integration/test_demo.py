"""``make demo`` (``python -m relaykit.demo``) succeeds and traces the three calls."""

from __future__ import annotations

import subprocess
import sys

import anyio
import pytest

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


# The demo is a relay_anyio program with its own emulator, in a child process:
# what varies is the loop the child runs on, not ours.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
async def test_demo_runs_the_seed_ivr(backend: str) -> None:
    result = await anyio.run_process(
        [sys.executable, "-m", "relaykit.demo", "--backend", backend],
        check=False,
        stderr=subprocess.STDOUT,
    )
    output = result.stdout.decode()
    assert result.returncode == 0, output
    assert "all 3 calls went as scripted" in output
    assert "connect:  -> +15551001000" in output
    # Every call's whole-call recording, and call 2's voicemail too.
    assert output.count("recorded: call (both) https://") == 3
    assert output.count("recorded: voicemail (listen) https://") == 1
    assert '"Invalid option. Goodbye."' in output
    assert "Traceback" not in output
