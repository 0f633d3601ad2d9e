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

Rules the relaykit suite itself follows (``tests/integration/conftest.py``):
127.0.0.1 and port 0 only; a virtual clock wherever there is no socket; an
absolute timeout on every test (pytest-timeout) and a ``timeout=`` on every wait.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from ._memory import PIPE_CAPACITY, MemoryStream, MemoryTransport, memory_stream_pair

if TYPE_CHECKING:
    from relaykit.emulator import Emulator

__all__ = [
    "PIPE_CAPACITY",
    "MemoryStream",
    "MemoryTransport",
    "client_options",
    "memory_stream_pair",
    "open_emulator",
]


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
