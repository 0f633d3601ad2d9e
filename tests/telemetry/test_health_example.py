"""examples/health_server.py: /ready is 200 while connected, 503 once the server is gone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest

from relaykit.emulator import Emulator

from .conftest import PROJECT, TOKEN

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "health_server.py"


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class _Output:
    """The example's output, read line by line as it comes."""

    def __init__(self, process: anyio.abc.Process) -> None:
        assert process.stdout is not None
        self._stream = process.stdout
        self.text = ""

    async def wait_for(self, needle: str, timeout: float = 15.0) -> str:  # noqa: ASYNC109
        with anyio.fail_after(timeout):
            while needle not in self.text:
                self.text += (await self._stream.receive()).decode(errors="replace")
        return next(line for line in self.text.splitlines() if needle in line)

    async def rest(self) -> str:
        async for chunk in self._stream:
            self.text += chunk.decode(errors="replace")
        return self.text


async def _wait_status(url: str, status: int) -> dict[str, Any]:
    with anyio.fail_after(20):
        while True:
            code, body = await anyio.to_thread.run_sync(_get, url)
            if code == status:
                return body
            await anyio.sleep(0.05)


@pytest.mark.parametrize("kit_name", ["relay_anyio-asyncio"])
async def test_health_server(kit_name: str) -> None:
    env = dict(os.environ, HEALTH_PORT="0", PYTHONUNBUFFERED="1")
    emu = Emulator(project=PROJECT, token=TOKEN, time_scale=0.001)
    async with emu:
        env.update(
            SIGNALWIRE_RELAY_URL=emu.url,
            SIGNALWIRE_PROJECT_ID=PROJECT,
            SIGNALWIRE_API_TOKEN=TOKEN,
        )
        process = await anyio.open_process(
            [sys.executable, str(EXAMPLE)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            output = _Output(process)
            url = (await output.wait_for("health on ")).split()[-1]
            body = await _wait_status(url, 200)
            assert body["ready"] is True
            assert body["state"] == "connected"
            assert body["last_frame_received"] is not None
            call = await emu.place_call(context="office", wait_subscriber=15)
            record = await call.wait_ended(timeout=10)
            assert record.prompts == ["Thanks for calling. Goodbye."]
            code, _ = await anyio.to_thread.run_sync(_get, url.replace("/ready", "/nope"))
            assert code == 404
        except BaseException:
            await _kill(process)
            raise
    try:
        # The emulator is gone: the worker is reconnecting, and not ready.
        body = await _wait_status(url, 503)
        assert body["ready"] is False
        assert body["state"] in ("reconnecting", "connecting")
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(20):
            text = await output.rest()
            assert await process.wait() == 0, text
    finally:
        await _kill(process)
    assert "connection: Connected" in text
    assert "connection: Disconnected" in text
    assert "drained: True" in text


async def _kill(process: anyio.abc.Process) -> None:
    if process.returncode is None:
        process.kill()
        with anyio.CancelScope(shield=True):
            await process.wait()
