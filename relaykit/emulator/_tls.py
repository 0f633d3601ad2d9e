"""Server-side TLS for the emulator: every decrypted byte of a socket read at once.

anyio's ``TLSStream.receive`` returns one TLS record per call.  Most WebSocket
clients (the official SDK, ``websockets``) write each small message -- every event
ACK -- in a record of its own, so during a benchmark flood the emulator would go
once through its whole read path (the sans-IO server, waking the writer, one
``send``) per ACK even when a single socket read brought hundreds of them.
:class:`TLSServerStream` decrypts everything a socket read brought and returns it
in one piece, so the emulator handles one batch, and writes one reply, per read.

It does only what the emulator needs: a server-side handshake, ``receive``,
``send`` and ``aclose`` over an anyio byte stream, with ``ssl`` memory BIOs (the
same construction as anyio's ``TLSStream``).  Like ``TLSListener(...,
standard_compatible=False)`` it treats a TCP EOF without ``close_notify`` as a
normal end of stream and sends no ``close_notify`` itself.
"""

from __future__ import annotations

import ssl
from typing import Final

import anyio
import anyio.abc

__all__ = ["TLSServerStream"]

_READ: Final = 65536
HANDSHAKE_TIMEOUT: Final = 30.0  # seconds, as anyio's TLSListener


class TLSServerStream:
    """The server end of a TLS connection over *transport* (see the module docstring).

    Only one task may call :meth:`send` at a time, and one :meth:`receive`; the
    two may run concurrently (``receive`` never writes to the transport: TLS
    records OpenSSL produces while reading, such as a key update, leave with the
    next ``send``, which is also when OpenSSL itself schedules them).

    Args:
        transport: The accepted TCP stream.
        context: The server's SSL context.
    """

    __slots__ = ("_in", "_out", "_ssl", "transport")

    def __init__(self, transport: anyio.abc.ByteStream, context: ssl.SSLContext) -> None:
        self.transport = transport
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._ssl = context.wrap_bio(self._in, self._out, server_side=True)

    async def handshake(self) -> None:
        """Complete the TLS handshake.

        Raises:
            ssl.SSLError: the client's handshake is not acceptable.
            anyio.EndOfStream: the client went away during the handshake.
            OSError / anyio.BrokenResourceError: the socket failed.
        """
        while True:
            try:
                self._ssl.do_handshake()
            except ssl.SSLWantReadError:
                await self._flush()
                self._in.write(await self.transport.receive(_READ))
            else:
                await self._flush()  # the last flight and the TLS 1.3 session tickets
                return

    async def receive(self, max_bytes: int = _READ) -> bytes:
        """All the application data available after one socket read (about *max_bytes*
        at most: whole records are returned).

        Raises:
            anyio.EndOfStream: the client closed the connection (with or without
                ``close_notify``).
            ssl.SSLError: a corrupt record (the connection is unusable).
        """
        tls, incoming = self._ssl, self._in
        while True:
            # Only ask OpenSSL when it has something: an empty read costs an exception.
            if incoming.pending or incoming.eof or tls.pending():
                chunks: list[bytes] = []
                size = 0
                closed = False
                try:
                    while size < max_bytes:
                        chunk = tls.read(max_bytes - size)
                        if not chunk:
                            closed = True
                            break
                        chunks.append(chunk)
                        size += len(chunk)
                        if not incoming.pending and not tls.pending():
                            break  # all read
                except ssl.SSLWantReadError:
                    pass  # the rest of a record is still on its way
                except ssl.SSLZeroReturnError:  # close_notify
                    closed = True
                except ssl.SSLError as exc:
                    if not _is_eof(exc):
                        raise
                    closed = True
                if chunks:
                    return b"".join(chunks)  # EOF, if any, shows on the next call
                if closed:
                    raise anyio.EndOfStream
            try:
                data = await self.transport.receive(_READ)
            except anyio.EndOfStream:
                incoming.write_eof()
            else:
                incoming.write(data)

    async def send(self, item: bytes) -> None:
        """Encrypt and write *item*.

        Raises:
            ssl.SSLError / OSError / anyio.BrokenResourceError: the connection failed.
        """
        self._ssl.write(item)
        await self._flush()

    async def aclose(self) -> None:
        """Close the socket (no ``close_notify``, see the module docstring)."""
        await self.transport.aclose()

    async def _flush(self) -> None:
        if self._out.pending:
            await self.transport.send(self._out.read())


def _is_eof(exc: ssl.SSLError) -> bool:
    # A TCP EOF without close_notify, as anyio's TLSStream recognises it.
    return isinstance(exc, ssl.SSLEOFError) or bool(
        exc.strerror and "UNEXPECTED_EOF_WHILE_READING" in exc.strerror
    )
