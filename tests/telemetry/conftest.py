"""Fixtures for the observability tests: the client against the in-memory emulator.

Each test taking ``kit`` runs twice: ``relay_anyio`` on asyncio (the loop's
real clock, emulator ``time_scale=0.001``) and ``relay_trio`` under
``trio.testing.MockClock(autojump_threshold=0)`` (virtual time,
``time_scale=1.0``), as tests/integration does for its memory cases.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import anyio
import pytest
import trio.testing

from relaykit.emulator import Emulator
from relaykit.testing import client_options, open_emulator

PROJECT = "p-test"
TOKEN = "t-test"


class Kit(NamedTuple):
    """One way to run a test: the adapter module and its emulator time scale."""

    module: Any
    backend: str
    time_scale: float

    @asynccontextmanager
    async def emulator(self, **options: Any) -> AsyncIterator[Emulator]:
        merged = {"project": PROJECT, "token": TOKEN, "time_scale": self.time_scale}
        merged.update(options)
        async with open_emulator(**merged) as emu:
            yield emu

    def client(self, emu: Emulator, contexts: list[str] | None = None, **kw: Any) -> Any:
        options: dict[str, Any] = {
            "project": PROJECT,
            "token": TOKEN,
            "contexts": contexts if contexts is not None else ["office"],
            "request_timeout": 2.0,
            "connect_timeout": 2.0,
            "shutdown_grace": 2.0,
            "reconnect_min_delay": 0.05,
            "reconnect_max_delay": 0.2,
            **client_options(emu),
        }
        options.update(kw)
        return self.module.RelayClient(**options)


KITS = {
    "relay_anyio-asyncio": ("relay_anyio", "asyncio", 0.001),
    "relay_trio-virtual": ("relay_trio", "trio", 1.0),
}


@pytest.fixture(params=list(KITS))
def kit_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def anyio_backend(kit_name: str) -> Any:
    backend = KITS[kit_name][1]
    if backend == "trio":
        return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})
    return backend


@pytest.fixture
def kit(kit_name: str) -> Kit:
    module, backend, scale = KITS[kit_name]
    return Kit(importlib.import_module(module), backend, scale)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SIGNALWIRE_PROJECT_ID", "SIGNALWIRE_API_TOKEN", "SIGNALWIRE_RELAY_URL"):
        monkeypatch.delenv(name, raising=False)


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait for *predicate* to hold, checking after every short sleep (bounded)."""
    with anyio.fail_after(timeout):
        while not predicate():  # noqa: ASYNC110 (a condition on plain state)
            await anyio.sleep(0.01)


async def wait_for(event: anyio.Event, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    with anyio.fail_after(timeout):
        await event.wait()


Handler = Callable[[Any], Awaitable[Any]]
