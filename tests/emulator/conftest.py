"""Fixtures for the emulator tests: an emulator per test and a connected mini client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from relaykit.emulator import Emulator

from ._client import MiniClient


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The emulator runs on both anyio backends; every test runs on each."""
    return str(request.param)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(project="p", token="t", time_scale=0.001) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[MiniClient]:
    async with anyio.create_task_group() as tg:
        c = await MiniClient.open(emu.host)
        tg.start_soon(c.run)
        resp = await c.connect(contexts=["ivr"])
        assert resp.__class__.__name__ == "Response", resp
        yield c
        await c.aclose()
        tg.cancel_scope.cancel()
