"""The emulator as the benchmarks drive it.

A thin layer over the public API of :class:`relaykit.emulator.Emulator`:
``offer_calls`` places inbound calls whose far end never hangs up (and never
gives up ringing while the client is busy answering the others), ``flood``
is the emulator's ``flood_events`` benchmark hook.  The emulator's journal is
switched off for the whole measurement: nothing reads it, and keeping it would
add the server's bookkeeping to every frame.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from ._common import CONTEXT, PROJECT, TOKEN, TlsMaterial

__all__ = ["BenchServer", "EmulatorServer", "ServerFactory", "open_emulator"]

#: Simulated seconds a caller keeps ringing: effectively forever (1000 calls are
#: offered at once; the slowest client must not see any of them give up).
_RING_TIMEOUT = 3600.0


class BenchServer(Protocol):
    """What a scenario needs from the server."""

    #: ``127.0.0.1:<port>``: what the clients take as ``host``.
    host: str

    async def offer_calls(self, n: int) -> None:
        """Offer *n* inbound calls on the bench context (they stay up until the end)."""
        ...

    async def flood(self, count: int, *, within: float) -> float:
        """Push *count* events over the held calls; return seconds from first push to last ACK."""
        ...


ServerFactory = Callable[[TlsMaterial], AbstractAsyncContextManager[Any]]


class EmulatorServer:
    """:class:`BenchServer` over a running :class:`relaykit.emulator.Emulator`."""

    def __init__(self, emulator: Any) -> None:
        from relaykit.emulator import Caller

        self.emulator = emulator
        self.host: str = emulator.host
        self._caller = Caller(ring_timeout=_RING_TIMEOUT)

    async def offer_calls(self, n: int) -> None:
        """Place *n* inbound calls on the bench context."""
        for _ in range(n):
            await self.emulator.place_call(CONTEXT, self._caller, wait_subscriber=30.0)

    async def flood(self, count: int, *, within: float) -> float:
        """Run ``flood_events`` with at most one unACKed event per held call on average.

        Raises:
            RuntimeError: not every event was ACKed (a connection was lost).
            TimeoutError: the client did not ACK everything within *within* seconds.
        """
        calls = len(self.emulator.calls)
        window = max(1, calls)
        result = await self.emulator.flood_events(count, window=window, timeout=within)
        if result.acked != count:
            raise RuntimeError(
                f"flood: {result.acked} of {count} events ACKed ({result.sent} sent)"
            )
        return float(result.seconds)


@asynccontextmanager
async def open_emulator(tls: TlsMaterial) -> AsyncIterator[EmulatorServer]:
    """Start a fresh emulator on ``wss://127.0.0.1:<free port>`` with *tls*'s certificate."""
    from relaykit.emulator import Emulator

    async with Emulator(
        project=PROJECT,
        token=TOKEN,
        time_scale=1.0,
        tls_cert=tls.cert_file,
        tls_key=tls.key_file,
        ping_interval=None,
    ) as emu:
        emu.server.journal.enabled = False
        yield EmulatorServer(emu)
