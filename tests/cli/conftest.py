"""Fixtures for the ``relaykit`` command tests: an emulator with its control endpoint
and a mini client subscribed to ``main-ivr``, all in this process (asyncio only: the
command runs in a worker thread, as a user's terminal would beside the emulator)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import anyio
import pytest

from relaykit import _cli
from relaykit.emulator import Emulator
from tests.emulator._client import MiniClient


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def ctl_emu() -> AsyncIterator[Emulator]:
    async with Emulator(time_scale=0.001, control_port=0) as emulator:
        assert emulator.control_url is not None
        yield emulator


@pytest.fixture
async def ivr_client(ctl_emu: Emulator) -> AsyncIterator[MiniClient]:
    """A client connected to *ctl_emu* and receiving ``main-ivr`` (the tests drive it)."""
    async with anyio.create_task_group() as tg:
        client = await MiniClient.open(ctl_emu.host)
        tg.start_soon(client.run)
        await client.connect(project="p", token="t", contexts=["main-ivr"])
        yield client
        await client.aclose()
        tg.cancel_scope.cancel()


async def run_cli(argv: Sequence[str]) -> int:
    """``relaykit ARGV`` in a worker thread (it blocks on HTTP while the loop serves)."""
    return await anyio.to_thread.run_sync(_cli.main, list(argv))
