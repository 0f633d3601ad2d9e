"""``make demo`` (``python -m relaykit.demo``) succeeds and traces the three calls."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import anyio
import pytest

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_demo_runs_the_seed_ivr(adapter: Any, adapter_spec: tuple[str, str]) -> None:
    if adapter_spec[0] != "relay_anyio":
        pytest.skip("the demo is relay_anyio's")
    result = await anyio.run_process(
        [sys.executable, "-m", "relaykit.demo", "--backend", adapter_spec[1]],
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


async def test_relaykit_demo_runs_outside_a_checkout(
    adapter_spec: tuple[str, ...], tmp_path: Any
) -> None:
    """``python -m relaykit demo`` from another directory: the IVR ships in the package."""
    if adapter_spec != ("relay_anyio", "asyncio"):
        pytest.skip("one run is enough: the demo's own test covers the backends")
    result = await anyio.run_process(
        [sys.executable, "-m", "relaykit", "demo"],
        check=False,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    output = result.stdout.decode()
    assert result.returncode == 0, output
    assert "relaykit demo: running examples/relay_ivr.py (contexts ['main-ivr'])" in output
    assert "all 3 calls went as scripted" in output
