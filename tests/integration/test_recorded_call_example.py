"""examples/test_recorded_call.py (in docs/testing.md) passes when a user runs pytest on it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_recorded_call_example_runs_under_pytest(tmp_path: Path) -> None:
    name = "test_recorded_call.py"
    (tmp_path / name).write_text((EXAMPLES / name).read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNALWIRE_", "PYTEST_"))}
    env.pop("RELAYKIT_RECORD", None)
    with anyio.fail_after(50):
        result = await anyio.run_process(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name],
            cwd=tmp_path,
            env=env,
            check=False,
        )
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, output
    assert "4 passed" in output, output  # 2 tests, on asyncio and on trio
