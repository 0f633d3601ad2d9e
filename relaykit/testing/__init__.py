"""Testing a RELAY program in-process: the emulator in memory, on a virtual clock.

A test joins a client to the emulator (:class:`relaykit.emulator.Emulator`) in
the same process, without sockets: the client's transport is a
:class:`MemoryTransport`, whose connections are in-memory pipes into the
emulator's sans-IO server, served by the same code as a socket.  The emulator
takes its time from the event loop, so under trio's ``MockClock`` the whole
exchange runs in virtual time::

    import pytest
    import trio.testing

    from relay_trio import RelayClient  # or relay_anyio
    from relaykit.emulator import Caller
    from relaykit.testing import client_options, open_emulator

    @pytest.fixture
    def anyio_backend():
        return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})

    @pytest.mark.anyio
    async def test_menu():
        async with open_emulator(project="p", token="t") as emu:
            client = RelayClient(contexts=["office"], **client_options(emu))
            ...
            call = await emu.place_call(context="office", script=Caller().press("1"))
            record = await call.wait_ended(timeout=60)  # virtual seconds

What this gives a test:

* **No sockets, no ports**: nothing to collide with other tests or programs.
* **Deterministic by construction** under ``MockClock(autojump_threshold=0)``
  (trio, or anyio on trio -- anyio's pytest plugin takes the clock as a
  backend option, as above): time only moves when every task waits, straight
  to the next deadline.  Simulated seconds cost no wall time, so the emulator
  runs at ``time_scale=1.0`` and a 60 s ring-out or a 1 s reconnect backoff are
  what they say; there is no margin to pick for a slow machine.
* On **asyncio** the same memory connections work on the loop's real clock
  (there is no mock clock): keep a small ``time_scale`` (0.001) there.
* **Faults** work as on sockets: ``emu.drop_connections()`` (the client reads
  end of stream), ``emu.go_half_open()`` (the emulator stops answering; the
  client's pings find out), ``emu.server_disconnect()``, ``emu.fail_next()``,
  ``emu.delay_responses()``.  After the emulator exits, connecting is refused
  (``ConnectionRefusedError``), as with a closed port.
* **Loopback on request**: ``open_emulator(loopback=True)`` listens on
  ``127.0.0.1`` (port 0), for what needs a real socket: TLS (``wss://``), the
  httpx-ws transport, a client in another process.  Use real time then: a mock
  clock would jump while bytes are in a socket.

* **A pytest plugin** (:mod:`relaykit.testing.pytest_plugin`, loaded by pytest
  through relaykit's ``pytest11`` entry point) wraps all of this in two
  fixtures, ``relay_emulator`` and ``relay_client_factory``, with
  :func:`anyio_backend_for` to run a test module on asyncio and on trio in
  virtual time (``docs/testing.md``).

Rules the relaykit suite itself follows (``tests/integration/conftest.py``):
127.0.0.1 and port 0 only; a virtual clock wherever there is no socket; an
absolute timeout on every test (pytest-timeout) and a ``timeout=`` on every wait.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relaykit.emulator import Emulator

    from ._memory import PIPE_CAPACITY, MemoryStream, MemoryTransport, memory_stream_pair

__all__ = [
    "PIPE_CAPACITY",
    "REAL_CLOCK_TIME_SCALE",
    "TEST_PROJECT",
    "TEST_TOKEN",
    "MemoryStream",
    "MemoryTransport",
    "anyio_backend_for",
    "client_options",
    "memory_stream_pair",
    "open_emulator",
]

#: The credentials the pytest plugin's emulator accepts and its clients send.
TEST_PROJECT = "relaykit-test-project"
TEST_TOKEN = "relaykit-test-token"

#: The emulator's ``time_scale`` on a real clock (asyncio; trio without ``MockClock``):
#: a simulated second lasts a real millisecond.  Under a virtual clock it is 1.0.
REAL_CLOCK_TIME_SCALE = 0.001

# The memory transport needs anyio; it is imported on first use, so that importing
# this package (and the pytest plugin, which pytest loads in every run) does not.
_MEMORY_NAMES = frozenset(
    {"PIPE_CAPACITY", "MemoryStream", "MemoryTransport", "memory_stream_pair"}
)


def __getattr__(name: str) -> Any:
    if name in _MEMORY_NAMES:
        return getattr(importlib.import_module("relaykit.testing._memory"), name)
    raise AttributeError(f"module 'relaykit.testing' has no attribute {name!r}")


def anyio_backend_for(name: str) -> str | tuple[str, dict[str, Any]]:
    """The value of an ``anyio_backend`` fixture that runs a test on *name*.

    ``"asyncio"`` as is (asyncio has no mock clock); for ``"trio"``, trio under
    ``trio.testing.MockClock(autojump_threshold=0)``: virtual time, a fresh clock
    per call.  For a test module that runs on both::

        @pytest.fixture(params=["asyncio", "trio"])
        def anyio_backend(request):
            return anyio_backend_for(request.param)

    Raises:
        ValueError: *name* is neither ``"asyncio"`` nor ``"trio"``.
        ModuleNotFoundError: ``"trio"`` without trio installed.
    """
    if name == "asyncio":
        return "asyncio"
    if name != "trio":
        raise ValueError(f"anyio_backend_for() takes 'asyncio' or 'trio', got {name!r}")
    try:
        import trio.testing
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "anyio_backend_for('trio') needs trio: pip install 'relaykit[trio]'", name="trio"
        ) from None
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


@asynccontextmanager
async def open_emulator(*, loopback: bool = False, **options: Any) -> AsyncIterator[Emulator]:
    """Run an :class:`~relaykit.emulator.Emulator` for an ``async with`` block.

    In memory by default (no socket; reach it with :func:`client_options` or
    ``url=emu.url, transport=emu.transport``).

    Args:
        loopback: Listen on a loopback socket instead (``127.0.0.1``, a free port
            unless ``port=`` says otherwise), for TLS, httpx-ws or another process.
        **options: Keyword arguments of :class:`~relaykit.emulator.Emulator`
            (``project``, ``token``, ``time_scale``, ``tls_cert``...).

    Yields:
        The running emulator.

    Raises:
        ValueError: an option needs sockets (``tls_cert``, ``control_port``)
            but ``loopback`` is false, or any invalid emulator option.
    """
    from relaykit.emulator import Emulator

    async with Emulator(listen=loopback, **options) as emu:
        yield emu


def client_options(emu: Emulator) -> dict[str, Any]:
    """The ``RelayClient`` keyword arguments that point a client at *emu*.

    ``url`` always; ``transport`` (its :class:`MemoryTransport`) when *emu* is
    in memory.  Credentials and contexts stay the caller's::

        client = RelayClient(project="p", token="t", contexts=["office"],
                             **client_options(emu))
    """
    if emu.listening:
        return {"url": emu.url}
    return {"url": emu.url, "transport": emu.transport}
