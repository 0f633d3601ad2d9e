"""In-memory connections between a client and an in-process :class:`Emulator`.

A memory connection is two bounded one-way pipes.  The client holds a
:class:`MemoryStream` (a byte stream, which the driver reads and writes
through its ``Stream`` wrapper), the emulator the other end, which it serves with the same
per-connection code as an accepted socket.  No socket, no port, no thread:
bytes move when a task awaits, so a test's outcome depends only on the order
the event loop runs its tasks, and under ``trio.testing.MockClock`` only on
virtual time.

The pipes are written with anyio's ``Event`` and ``checkpoint``, which run on
the current event loop: asyncio, or trio (anyio then runs on trio, which is
how a ``relay_trio`` client, which never imports anyio itself, can use them).
Socket-like on purpose:

* **Backpressure**: a pipe holds at most :data:`PIPE_CAPACITY` bytes; a writer
  waits until the reader has made room (a frozen, half-open peer still reads,
  as a kernel would, so only a reader that stops reading blocks the writer).
* **End of stream**: after the peer closed, the reader gets what was already
  written, then ``b""``.
* **Closed**: reading or writing after closing one's own end, or writing after
  the peer closed, raises :class:`~relaykit.client.TransportClosed` on the
  client side (anyio's ``ClosedResourceError``/``BrokenResourceError`` on the
  emulator's side, what its socket code already handles).
* Every read and write is a checkpoint (a cancellation point that lets other
  tasks run), as trio's streams are.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel

from relaykit.client._runtime import LibraryStream, RawTransport, Stream, TransportClosed

if TYPE_CHECKING:
    from relaykit.emulator import Emulator

__all__ = ["PIPE_CAPACITY", "MemoryStream", "MemoryTransport", "memory_stream_pair"]

#: Bytes a pipe holds before its writer waits (about a socket's send buffer).
PIPE_CAPACITY = 256 * 1024


class _ReaderGone(Exception):
    """Written to a pipe whose reading end is closed."""


class _OwnEndClosed(Exception):
    """Read from or written to an end that was closed by its owner."""


class _Pipe:
    """One direction of a memory connection: a bounded byte buffer.

    Any number of tasks may wait on it (the driver's reader and its goodbye, the
    emulator's reader and writer); every state change wakes them all and each
    re-checks what it waits for.
    """

    __slots__ = ("_changed", "buffer", "capacity", "reader_closed", "writer_closed")

    def __init__(self, capacity: int) -> None:
        self.buffer = bytearray()
        self.capacity = capacity
        self.writer_closed = False  # end of stream once the buffer is drained
        self.reader_closed = False  # writes fail; the buffer is dropped
        self._changed: anyio.Event | None = None

    def _notify(self) -> None:
        event, self._changed = self._changed, None
        if event is not None:
            event.set()

    async def _wait(self) -> None:
        if self._changed is None:
            self._changed = anyio.Event()
        await self._changed.wait()

    async def read(self, max_bytes: int) -> bytes:
        """Up to *max_bytes* bytes, or ``b""`` once the writer closed and all was read."""
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, got {max_bytes}")
        await anyio.lowlevel.checkpoint()
        while not self.buffer:
            if self.reader_closed:
                raise _OwnEndClosed
            if self.writer_closed:
                return b""
            await self._wait()
        if self.reader_closed:
            raise _OwnEndClosed
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        self._notify()  # room for a waiting writer
        return data

    async def write(self, data: bytes) -> None:
        """Append all of *data*, waiting for room while the buffer is full."""
        await anyio.lowlevel.checkpoint()
        view = memoryview(data)
        while True:
            if self.writer_closed:
                raise _OwnEndClosed
            if self.reader_closed:
                raise _ReaderGone
            room = self.capacity - len(self.buffer)
            if room > 0 and view:
                self.buffer += view[:room]
                view = view[room:]
                self._notify()
            if not view:
                return
            await self._wait()

    def close_writer(self) -> None:
        self.writer_closed = True
        self._notify()

    def close_reader(self) -> None:
        self.reader_closed = True
        self.buffer.clear()
        self._notify()


class MemoryStream:
    """The client's end of a memory connection, as a byte stream (``receive_some``/``send_all``).

    Made by :class:`MemoryTransport` (or :func:`memory_stream_pair`); a client's
    driver is its only user.
    """

    __slots__ = ("_inbound", "_outbound")

    def __init__(self, inbound: _Pipe, outbound: _Pipe) -> None:
        self._inbound = inbound
        self._outbound = outbound

    async def receive_some(self, max_bytes: int = 65536) -> bytes:
        """Return at least one byte, or ``b""`` once the peer closed and all was read.

        Raises:
            TransportClosed: this end was closed (by :meth:`aclose`).
        """
        try:
            return await self._inbound.read(max_bytes)
        except _OwnEndClosed:
            raise TransportClosed("connection closed while reading") from None

    async def send_all(self, data: bytes) -> None:
        """Write all of *data* (waiting while the pipe is full).

        Raises:
            TransportClosed: this end was closed, or the peer closed its end.
        """
        try:
            await self._outbound.write(data)
        except _OwnEndClosed:
            raise TransportClosed("connection closed while writing") from None
        except _ReaderGone:
            raise TransportClosed("connection lost while writing: the peer closed") from None

    async def aclose(self) -> None:
        """Close both directions at once (the peer reads end of stream); never raises."""
        self._outbound.close_writer()
        self._inbound.close_reader()
        await anyio.lowlevel.checkpoint()


class _ServerEnd:
    """The emulator's end of a memory connection, shaped like an anyio byte stream.

    The emulator serves it with the code it runs for a socket, which expects
    ``receive``/``send``/``aclose`` and anyio's exceptions.
    """

    __slots__ = ("_inbound", "_outbound")

    def __init__(self, inbound: _Pipe, outbound: _Pipe) -> None:
        self._inbound = inbound
        self._outbound = outbound

    async def receive(self, max_bytes: int = 65536) -> bytes:
        try:
            data = await self._inbound.read(max_bytes)
        except _OwnEndClosed:
            raise anyio.ClosedResourceError from None
        if not data:
            raise anyio.EndOfStream
        return data

    async def send(self, item: bytes) -> None:
        try:
            await self._outbound.write(item)
        except _OwnEndClosed:
            raise anyio.ClosedResourceError from None
        except _ReaderGone:
            raise anyio.BrokenResourceError from None

    async def aclose(self) -> None:
        self._outbound.close_writer()
        self._inbound.close_reader()
        await anyio.lowlevel.checkpoint()


def memory_stream_pair(capacity: int = PIPE_CAPACITY) -> tuple[MemoryStream, _ServerEnd]:
    """A connected pair: the client's :class:`MemoryStream` and the server's end.

    The server's end has anyio's byte-stream methods (``receive``, ``send``,
    ``aclose``), which is what :meth:`Emulator.serve_stream` takes.

    Args:
        capacity: Bytes each direction holds before its writer waits.
    """
    if capacity < 1:
        raise ValueError(f"capacity must be at least 1 byte, got {capacity}")
    up, down = _Pipe(capacity), _Pipe(capacity)
    return MemoryStream(down, up), _ServerEnd(up, down)


class MemoryTransport(RawTransport):
    """A :class:`~relaykit.client.Transport` whose connections end in an in-process emulator.

    Every ``open()`` makes a :func:`memory_stream_pair` and hands the emulator's
    end to :meth:`Emulator.serve_stream`, which serves it exactly like an
    accepted socket (same journal, faults, timers).  Get one from
    :attr:`Emulator.transport` and give it to a client together with the
    emulator's URL::

        async with Emulator(project="p", token="t", listen=False) as emu:
            client = RelayClient(
                project="p", token="t", url=emu.url, transport=emu.transport,
                contexts=["office"],
            )

    Args:
        emulator: The emulator to connect to.
        capacity: Bytes each direction of a connection holds before its writer waits.
    """

    def __init__(self, emulator: Emulator, *, capacity: int = PIPE_CAPACITY) -> None:
        self._emulator = emulator
        self._capacity = capacity

    async def connect(self, host: str, port: int, *, tls: bool, ca_file: str | None) -> Stream:
        """Connect to the emulator in memory (what :meth:`open` does with the URL's parts).

        A byte stream, as a TCP socket's (the client's core frames WebSocket).

        Returns:
            The client's end as the driver's :class:`~relaykit.client._runtime.Stream`:
            the shared :class:`~relaykit.client._runtime.LibraryStream` over a
            :class:`MemoryStream` (the same raw-bytes path as a TCP socket).

        Args:
            host: The client URL's host name: it must be the emulator's
                (``emu.url``), so a client cannot silently reach another
                emulator than the one it was pointed at.
            port: The URL's port (checked when the emulator also listens).
            tls: Must be false: memory connections are not encrypted (``ws://``).
            ca_file: Ignored (no TLS).

        Raises:
            ConnectionRefusedError: the emulator is not running (not entered
                yet, or exited), or the URL names another server.
            OSError: ``tls`` was requested.
        """
        emu = self._emulator
        if tls:
            raise OSError(
                f"wss://{host}:{port}: memory connections are plain ws://; point the client at "
                f"{emu.url} (TLS is only served on loopback sockets)"
            )
        if not emu.accepts(host, port):
            raise ConnectionRefusedError(
                errno.ECONNREFUSED, f"ws://{host}:{port} is not this in-memory emulator ({emu.url})"
            )
        client_end, server_end = memory_stream_pair(self._capacity)
        emu.serve_stream(server_end)  # ConnectionRefusedError when not running
        await anyio.lowlevel.checkpoint()
        # MemoryStream raises TransportClosed itself and returns b"" at end of
        # stream, so there is nothing library-specific left to map.
        return LibraryStream(
            client_end, client_end.receive_some, client_end.send_all, MemoryStream.aclose, broken=()
        )

    def __repr__(self) -> str:
        return f"<MemoryTransport to {self._emulator.url}>"
