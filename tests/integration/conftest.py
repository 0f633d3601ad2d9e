"""Integration-test fixtures: every test runs on anyio-asyncio, anyio-trio and relay_trio.

The ``adapter`` fixture gives the adapter *module* a user program would import
(``relay_anyio`` or ``relay_trio``: ``adapter.RelayClient``, ``adapter.Call``,
``adapter.EVENT_CALL_PLAY``, ...) and sets the matching ``anyio_backend``.  The
emulator is the real one (``relaykit.emulator``), on loopback, at
``time_scale=0.001`` so simulated seconds take milliseconds.

Emulators and clients are opened inside each test body (``async with``), so
their task groups are entered and left by the same task on every backend.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from relaykit.emulator import Caller, Emulator

PROJECT = "p-test"
TOKEN = "t-test"

ADAPTERS = [
    pytest.param(("relay_anyio", "asyncio"), id="anyio-asyncio"),
    pytest.param(("relay_anyio", "trio"), id="anyio-trio"),
    pytest.param(("relay_trio", "trio"), id="relay_trio"),
    # The same suite over the optional httpx-ws transport (issue 4: "same tests
    # pass on both" transports); the adapter module is relay_anyio, rebound.
    pytest.param(("relay_anyio", "asyncio", "httpx"), id="anyio-asyncio-httpx"),
]


def _bound_module(name: str, backend: str, transport: str = "tcp") -> Any:
    """The adapter module a user program imports (rebound to httpx-ws when asked)."""
    module = importlib.import_module(name)
    if transport == "tcp":
        return module
    from relay_anyio import AnyioRuntime, HttpxWsTransport

    runtime = AnyioRuntime(backend, transport=HttpxWsTransport())
    namespace = types.SimpleNamespace(**{n: getattr(module, n) for n in module.__all__})
    namespace.RelayClient = type("RelayClient", (module.RelayClient,), {"_runtime": runtime})
    namespace.__name__ = name
    return namespace


@pytest.fixture(params=ADAPTERS)
def adapter_spec(request: pytest.FixtureRequest) -> tuple[str, ...]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def anyio_backend(adapter_spec: tuple[str, ...]) -> str:
    return adapter_spec[1]


@pytest.fixture
def adapter(adapter_spec: tuple[str, ...]) -> Any:
    return _bound_module(*adapter_spec)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's real credentials or endpoint."""
    for name in (
        "SIGNALWIRE_PROJECT_ID",
        "SIGNALWIRE_API_TOKEN",
        "SIGNALWIRE_JWT_TOKEN",
        "SIGNALWIRE_SPACE",
        "SIGNALWIRE_RELAY_URL",
        "SIGNALWIRE_RELAY_CA_FILE",
        "RELAY_MAX_ACTIVE_CALLS",
        "RELAY_MAX_CONNECTIONS",
    ):
        monkeypatch.delenv(name, raising=False)


@asynccontextmanager
async def emulator(**kwargs: Any) -> AsyncIterator[Emulator]:
    """A fast emulator accepting PROJECT/TOKEN (override with keyword arguments)."""
    options: dict[str, Any] = {"project": PROJECT, "token": TOKEN, "time_scale": 0.001}
    options.update(kwargs)
    async with Emulator(**options) as emu:
        yield emu


def make_client(adapter: Any, emu: Emulator, contexts: list[str] | None = None, **kw: Any) -> Any:
    """A client of *adapter* pointed at *emu* with short test timeouts."""
    options: dict[str, Any] = {
        "project": PROJECT,
        "token": TOKEN,
        "url": emu.url,
        "contexts": contexts if contexts is not None else ["office"],
        "request_timeout": 2.0,
        "connect_timeout": 2.0,
        "shutdown_grace": 2.0,
    }
    options.update(kw)
    return adapter.RelayClient(**options)


def caller() -> Caller:
    """A far-end script whose call rings long enough for a busy CI machine (10 s real)."""
    return Caller(ring_timeout=10_000.0)
