"""How the runner serves connections: bytes between streams and the sans-IO server.

One :class:`StreamService` per :class:`~relaykit.emulator.Emulator`.  For each
connection (an accepted socket, TLS over one, or an in-memory pipe's end) it
runs a reader, which feeds ``EmulatorServer.receive_data`` and wakes what the
input made due, and a writer, which sleeps until the server has output for
that connection; one timer task ticks ``handle_timer``.  Nothing here knows
calls, scripts or faults: the emulator's test-facing API (place a call, wait
for a state, inject a fault) lives in ``_runner.py`` and asks this service to
wake up after it touches the server (:meth:`StreamService.after`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import ssl
from collections.abc import Callable
from typing import Protocol

import anyio
import anyio.abc

from ._core import EmulatorServer
from ._tls import HANDSHAKE_TIMEOUT, TLSServerStream

__all__ = ["ServerStream", "StreamService"]

logger = logging.getLogger("relaykit.emulator")

_CLOSE_LINGER = 2.0  # seconds a closing connection waits for the client's EOF

# Everything a broken or closed stream may raise while reading or writing.
_STREAM_ERRORS = (
    anyio.EndOfStream,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    ssl.SSLError,
    OSError,
)


class ServerStream(Protocol):
    """A connection's byte stream: a socket, TLS over one, or a memory pipe's end.

    anyio's shape and errors (``EndOfStream``, ``BrokenResourceError``...).
    """

    async def receive(self, max_bytes: int = 65536) -> bytes: ...

    async def send(self, item: bytes) -> None: ...

    async def aclose(self) -> None: ...


class _ConnIO:
    """One connection's stream, its writer's wake-up flag and the scope that aborts it."""

    __slots__ = ("scope", "stream", "wake")

    def __init__(self, stream: ServerStream) -> None:
        self.stream = stream
        self.wake = anyio.Event()
        self.scope = anyio.CancelScope()


class StreamService:
    """Serves connections to one sans-IO :class:`EmulatorServer` and ticks its timer.

    Args:
        server: The sans-IO server.
        on_change: Called after every input the server took (reads, timers,
            :meth:`after`): the runner wakes its waiters and floods there.
    """

    def __init__(self, server: EmulatorServer, on_change: Callable[[], None]) -> None:
        self.server = server
        self._on_change = on_change
        #: The live connections by the server's connection id.
        self.io: dict[int, _ConnIO] = {}
        self._timer_wake = anyio.Event()
        self._timer_due = math.inf  # the deadline the timer loop sleeps until

    def abort_all(self) -> list[object]:
        """Abort every connection (no close frame); returns handles to watch them go."""
        ios = list(self.io.values())
        for io in ios:
            io.scope.cancel()
        return list(ios)

    def is_live(self, handle: object) -> bool:
        """Whether the connection behind a handle from :meth:`abort_all` is still served."""
        return any(handle is io for io in self.io.values())

    def after(self) -> None:
        """After any input to the sans-IO server: wake writers, the timer and waiters.

        Called once per read, so it wakes only what has something to do: the timer
        loop if the next deadline moved earlier, a flood's waiter once the flood is
        done, and the generic waiters only while there are any.
        """
        server = self.server
        for cid in server.pending_output():
            io = self.io.get(cid)
            if io is not None:
                io.wake.set()
        deadline = server.get_timer()
        if deadline is not None and deadline < self._timer_due:
            self._timer_wake.set()
        self._on_change()

    async def accept(self, ssl_context: ssl.SSLContext | None, tcp: anyio.abc.ByteStream) -> None:
        """A new socket: the TLS handshake if serving ``wss://``, then the connection."""
        if ssl_context is None:
            await self.serve(tcp)
            return
        # Our own TLS layer rather than anyio's TLSListener: it returns all the records
        # of a socket read at once (see relaykit.emulator._tls).
        tls = TLSServerStream(tcp, ssl_context)
        try:
            with anyio.fail_after(HANDSHAKE_TIMEOUT):
                await tls.handshake()
        except (TimeoutError, *_STREAM_ERRORS) as exc:
            logger.info("emulator: TLS handshake failed: %s", type(exc).__name__)
            with anyio.CancelScope(shield=True), contextlib.suppress(OSError):
                await tcp.aclose()
            return
        await self.serve(tls)

    async def serve(self, stream: ServerStream) -> None:
        """Serve one connected stream until either side closes it."""
        server = self.server
        cid = server.connection_made(anyio.current_time())
        io = _ConnIO(stream)
        self.io[cid] = io
        try:
            with io.scope:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._writer, cid, io)
                    while True:
                        try:
                            data = await stream.receive(65536)
                        except _STREAM_ERRORS:
                            data = b""
                        server.receive_data(cid, data, anyio.current_time())
                        self.after()
                        if not data:
                            break
                    # EOF: flush what is left (a close reply), then stop the writer.
                    tg.cancel_scope.cancel()
                    last = server.data_to_send(cid)
                    if last:
                        with anyio.move_on_after(1.0, shield=True):
                            with contextlib.suppress(*_STREAM_ERRORS):
                                await stream.send(last)
        finally:
            server.connection_lost(cid, anyio.current_time())
            self.io.pop(cid, None)
            self.after()
            with anyio.CancelScope(shield=True):
                with contextlib.suppress(OSError, anyio.BrokenResourceError, ssl.SSLError):
                    await stream.aclose()

    async def _writer(self, cid: int, io: _ConnIO) -> None:
        server = self.server
        while True:
            await io.wake.wait()
            io.wake = anyio.Event()
            # Read the closing flag first: once closing nothing more can be queued, so
            # the data read after it is the last (it carries the close frame).
            closing = server.should_close(cid)
            data = server.data_to_send(cid)
            if data:
                try:
                    await io.stream.send(data)
                except _STREAM_ERRORS:
                    io.scope.cancel()
                    return
            if closing:
                # Keep reading until the client answers our close frame (or goes):
                # dropping the socket with unread input sends a TCP reset that can
                # destroy the close frame before the client reads it.
                with anyio.move_on_after(_CLOSE_LINGER):
                    while not server.close_complete(cid):
                        await io.wake.wait()
                        io.wake = anyio.Event()
                io.scope.cancel()
                return
            if server.should_close(cid):
                io.wake.set()  # it began closing while we were sending: flush once more

    async def run_timer(self) -> None:
        """Tick the server's timer at each deadline it asks for (runs until cancelled)."""
        server = self.server
        while True:
            self._timer_wake = anyio.Event()
            deadline = server.get_timer()
            now = anyio.current_time()
            if deadline is not None and deadline <= now:
                self._timer_due = -math.inf  # running timers: any new one is seen above
                server.handle_timer(now)
                self.after()
                continue
            self._timer_due = math.inf if deadline is None else deadline
            with anyio.move_on_after(self._timer_due - now):
                await self._timer_wake.wait()
            self._timer_due = -math.inf
