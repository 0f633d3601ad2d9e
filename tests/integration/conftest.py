"""Integration-test fixtures: the object model against the real emulator, per runtime.

Every test that takes the ``adapter`` (or ``adapter_spec``) fixture runs once
per *case*: an adapter module, an event loop, and how the client reaches the
emulator (``relaykit.emulator``, the real one).

* **In memory, by default** (``*-memory`` ids): the emulator opens no socket
  and the client connects through ``emu.transport``
  (:class:`relaykit.testing.MemoryTransport`), on ``relay_anyio`` over asyncio,
  ``relay_anyio`` over trio and ``relay_trio``.  On trio both run under
  ``trio.testing.MockClock(autojump_threshold=0)`` at ``time_scale=1.0``:
  virtual time, so simulated seconds cost nothing and a timeout only fires
  when nothing else can happen first.  asyncio has no mock clock: it runs on
  the loop's clock at ``time_scale=0.001``.
* **Over loopback** (``*-tcp``/``*-httpx`` ids), for every real transport:
  raw TCP on asyncio (the asyncio-native stream), on anyio-trio and on
  relay_trio, and httpx-ws on asyncio.  Real time, ``time_scale=0.001``.
  Tests marked ``@pytest.mark.loopback`` run in memory *and* over loopback (a
  representative set: connection, reconnect, faults, shutdown, call flows);
  ``@pytest.mark.sockets`` ones need a socket (TLS, httpx-ws, another process)
  and run over loopback only; ``@pytest.mark.cases("id", ...)`` picks cases by id.

The rules (compare the top of trio-websocket's ``tests/test_connection.py``):

1. Sockets bind 127.0.0.1, port 0 (the emulator's defaults); nothing else.
2. Virtual time wherever there is no socket; no sleep-and-hope anywhere: wait
   for an event, a journal entry or an emulator state, never for "long enough".
3. Every test has an absolute timeout (``timeout = 60`` in pyproject, tighter
   per module), and every wait a ``timeout=`` or ``fail_after``.  Under the
   virtual clock those are virtual seconds: a hang fails at once, not after
   the timeout's wall time; pytest-timeout still bounds the wall time.
4. No timed assertions (speed belongs in benchmarks/).
5. Emulators and clients are opened inside each test body (``async with``), so
   their task groups are entered and left by the same task on every backend.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import pytest
import trio.testing

from relaykit.client import Transport
from relaykit.emulator import Caller, Emulator

PROJECT = "p-test"
TOKEN = "t-test"


class Case(NamedTuple):
    """One way to run an integration test (``adapter_spec``)."""

    adapter: str  # the module a user program imports: relay_anyio or relay_trio
    backend: str  # the event loop: asyncio or trio
    transport: str  # memory, tcp (raw TCP, TLS for wss://) or httpx (httpx-ws)

    @property
    def id(self) -> str:
        loop = "relay_trio" if self.adapter == "relay_trio" else f"anyio-{self.backend}"
        return f"{loop}-{self.transport}"

    @property
    def memory(self) -> bool:
        return self.transport == "memory"

    @property
    def virtual_time(self) -> bool:
        """Under trio's MockClock: only in memory (a socket needs real time)."""
        return self.memory and self.backend == "trio"

    @property
    def time_scale(self) -> float:
        return 1.0 if self.virtual_time else 0.001


MEMORY_CASES = [
    Case("relay_anyio", "asyncio", "memory"),
    Case("relay_anyio", "trio", "memory"),
    Case("relay_trio", "trio", "memory"),
]
LOOPBACK_CASES = [
    Case("relay_anyio", "asyncio", "tcp"),
    Case("relay_anyio", "trio", "tcp"),
    Case("relay_trio", "trio", "tcp"),
    Case("relay_anyio", "asyncio", "httpx"),
]
ALL_CASES = {case.id: case for case in MEMORY_CASES + LOOPBACK_CASES}

#: For tests whose client runs in a child process: only the adapter module matters
#: there (the child picks its own loop), so one case per adapter, over loopback.
CHILD_PROCESS = pytest.mark.cases("anyio-asyncio-tcp", "relay_trio-tcp")


def _cases_for(definition: pytest.Item) -> list[Case]:
    chosen = definition.get_closest_marker("cases")
    if chosen is not None:
        unknown = set(chosen.args) - set(ALL_CASES)
        if unknown:
            raise pytest.UsageError(f"unknown integration cases {sorted(unknown)}")
        return [ALL_CASES[name] for name in chosen.args]
    if definition.get_closest_marker("sockets") is not None:
        return LOOPBACK_CASES
    if definition.get_closest_marker("loopback") is not None:
        return MEMORY_CASES + LOOPBACK_CASES
    return MEMORY_CASES


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "adapter_spec" in metafunc.fixturenames:
        cases = _cases_for(metafunc.definition)
        metafunc.parametrize("adapter_spec", cases, ids=[c.id for c in cases], indirect=True)


class _Current:
    """The case of the running test, for :func:`emulator` (called without fixtures)."""

    case: Case | None = None


@pytest.fixture
def adapter_spec(request: pytest.FixtureRequest) -> Iterator[Case]:
    case: Case = request.param
    _Current.case = case
    try:
        yield case
    finally:
        _Current.case = None


@pytest.fixture
def mock_clock(adapter_spec: Case) -> trio.testing.MockClock | None:
    """The test's virtual clock (``None`` on a real clock)."""
    return trio.testing.MockClock(autojump_threshold=0) if adapter_spec.virtual_time else None


@pytest.fixture
def anyio_backend(adapter_spec: Case, mock_clock: trio.testing.MockClock | None) -> Any:
    if mock_clock is not None:
        return ("trio", {"clock": mock_clock})
    return adapter_spec.backend


def _bound_module(case: Case) -> Any:
    """The adapter module a user program imports (rebound to httpx-ws when asked)."""
    module = importlib.import_module(case.adapter)
    if case.transport != "httpx":
        return module
    from relay_anyio import AnyioRuntime, HttpxWsTransport

    runtime = AnyioRuntime(case.backend, transport=HttpxWsTransport())
    namespace = types.SimpleNamespace(**{n: getattr(module, n) for n in module.__all__})
    namespace.RelayClient = type("RelayClient", (module.RelayClient,), {"_runtime": runtime})
    namespace.__name__ = case.adapter
    return namespace


@pytest.fixture
def adapter(adapter_spec: Case) -> Any:
    return _bound_module(adapter_spec)


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
    """The emulator for the running test's case, accepting PROJECT/TOKEN.

    In memory for a ``*-memory`` case (at ``time_scale`` 1.0 under the virtual
    clock), on loopback otherwise, and on loopback outside any case (tests
    without the ``adapter`` fixture drive a child process or a blocking socket).
    Keyword arguments override (``tls_cert=`` needs a loopback case).
    """
    case = _Current.case
    options: dict[str, Any] = {
        "project": PROJECT,
        "token": TOKEN,
        "time_scale": 0.001 if case is None else case.time_scale,
        "listen": case is None or not case.memory,
    }
    options.update(kwargs)
    async with Emulator(**options) as emu:
        yield emu


def transport_for(emu: Emulator) -> Transport | None:
    """The transport that reaches *emu*: its memory transport, or ``None`` (the default)."""
    return None if emu.listening else emu.transport


def make_client(adapter: Any, emu: Emulator, contexts: list[str] | None = None, **kw: Any) -> Any:
    """A client of *adapter* pointed at *emu* (in memory when *emu* is).

    The timeouts are short for a test, not for a busy machine: 2 s is a
    virtual 2 s in memory on trio, and a generous round trip on loopback.
    """
    options: dict[str, Any] = {
        "project": PROJECT,
        "token": TOKEN,
        "url": emu.url,
        "contexts": contexts if contexts is not None else ["office"],
        "request_timeout": 2.0,
        "connect_timeout": 2.0,
        "shutdown_grace": 2.0,
        "transport": transport_for(emu),
    }
    options.update(kw)
    return adapter.RelayClient(**options)


def caller() -> Caller:
    """The default far end: answers when asked, rings 60 simulated seconds otherwise.

    The emulator never lets an unanswered call ring fewer than 10 real seconds
    at a small time scale (``Caller.ring_timeout``), so a client on a real
    clock cannot lose its call to a race; in virtual time 60 s is 60 s.
    """
    return Caller()
