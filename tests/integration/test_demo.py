"""``make demo`` (``python -m relaykit.demo``) succeeds and traces the three calls."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from relaykit import _cli
from relaykit.demo import TOKEN

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


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_relaykit_demo_runs_outside_a_checkout(tmp_path: Path) -> None:
    """``python -m relaykit demo`` from another directory: the IVR ships in the package."""
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


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_trace_draws_the_demos_three_calls(tmp_path: Path) -> None:
    """``relaykit demo --journal F`` then ``relaykit trace F``: one section per inbound call."""
    journal = tmp_path / "demo.jsonl"
    result = await anyio.run_process(
        [sys.executable, "-m", "relaykit", "demo", "--journal", str(journal)],
        check=False,
        stderr=subprocess.STDOUT,
    )
    assert result.returncode == 0, result.stdout.decode()
    assert TOKEN not in journal.read_text(encoding="utf-8")  # scrubbed
    page = tmp_path / "demo.html"
    assert _cli.main(["trace", str(journal), "-o", str(page)]) == 0
    headings = re.findall(r"<h2>([^<]*)</h2>", page.read_text(encoding="utf-8"))
    inbound = [h for h in headings if "inbound" in h]
    assert len(inbound) == 3, headings
    # Call 1 pressed 1: the program bridged it to sales, an outbound leg of its own.
    assert any("outbound" in h and "+15551001000" in h for h in headings), headings
