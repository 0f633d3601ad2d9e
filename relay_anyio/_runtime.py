"""The anyio runtime: :class:`relay_proto.api.Runtime` on asyncio or trio via anyio.

Everything here is a thin mapping onto anyio primitives; the object model in
:mod:`relay_proto.api` decides everything.  The one place with some substance is
the default transport, which turns anyio's stream exceptions into the
``OSError``/:class:`~relay_proto.api.TransportClosed` contract at the boundary
(the way ``map_exceptions`` does in ``httpcore/_exceptions.py``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import socket
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, TypeVar, cast

import anyio
import anyio.abc
import anyio.lowlevel
from anyio.streams.tls import TLSStream

from relay_proto.api._runtime import (
    AsyncEvent,
    AsyncLock,
    ByteStream,
    CancelScope,
    MessageStream,
    TaskGroup,
    Transport,
    TransportClosed,
)

__all__ = ["AnyioRuntime", "AnyioStream", "AnyioTransport"]

T = TypeVar("T")

logger = logging.getLogger("relaykit.anyio")

# Exceptions that mean "this connection is gone", whoever noticed first.
_BROKEN = (anyio.BrokenResourceError, anyio.ClosedResourceError)


class AnyioStream:
    """A :class:`~relay_proto.api.ByteStream` over an anyio byte stream (TCP or TLS).

    Args:
        stream: A connected anyio byte stream, owned from now on.
    """

    __slots__ = ("_stream",)

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self._stream = stream

    async def receive_some(self, max_bytes: int = 65536) -> bytes:
        """Return at least one byte, or ``b""`` at end of stream.

        Raises:
            TransportClosed: the stream was closed or broke while reading.
            OSError: any other socket or TLS error.
        """
        try:
            return await self._stream.receive(max_bytes)
        except anyio.EndOfStream:
            return b""
        except _BROKEN as exc:
            raise TransportClosed(f"connection lost while reading: {exc!r}") from exc

    async def send_all(self, data: bytes) -> None:
        """Write all of *data*.

        Raises:
            TransportClosed: the stream was closed or broke while writing.
            OSError: any other socket or TLS error.
        """
        try:
            await self._stream.send(data)
        except _BROKEN as exc:
            raise TransportClosed(f"connection lost while writing: {exc!r}") from exc

    async def aclose(self) -> None:
        """Close the stream without waiting on the peer; never raises for a broken one."""
        # aclose_forcefully skips the TLS close_notify exchange, so closing a dead
        # (half-open) connection cannot block; the WebSocket close handshake has
        # already said goodbye when there was anyone to say it to.
        try:
            await anyio.aclose_forcefully(self._stream)
        except (OSError, *_BROKEN) as exc:
            logger.debug("ignoring error while closing a broken stream: %r", exc)


class AnyioTransport:
    """The default transport: anyio TCP, plus TLS for ``wss://``.

    TLS uses ``ssl.create_default_context()`` (certificate and host name
    verification on); *ca_file* (``SIGNALWIRE_RELAY_CA_FILE``) replaces the
    system trust store with a private CA.  ``TCP_NODELAY`` is set: RELAY frames
    are small and latency-bound, and the core already coalesces writes.
    """

    frames_websocket = False

    async def open(
        self,
        *,
        url: str,
        host: str,
        port: int,
        tls: bool,
        ca_file: str | None,
        task_group: TaskGroup | None = None,
    ) -> ByteStream | MessageStream:
        """Connect to *host*:*port*, doing the TLS handshake when *tls* is true.

        Args:
            url: The full ws/wss URL (unused: the core sends the handshake).
            host: Host name or address; also the TLS server name.
            port: TCP port.
            tls: Whether to wrap the connection in TLS.
            ca_file: PEM file of CA certificates to trust instead of the system store.
            task_group: Unused (a socket needs no background task).

        Returns:
            An :class:`AnyioStream`.

        Raises:
            OSError: connection refused, name resolution failure, TLS handshake or
                certificate verification failure (``ssl.SSLError``), ...
        """
        ssl_context = ssl.create_default_context(cafile=ca_file) if tls else None
        tcp = await anyio.connect_tcp(host, port)  # OSError on failure (all addresses tried)
        sock = tcp.extra(anyio.abc.SocketAttribute.raw_socket)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ssl_context is None:
            return AnyioStream(tcp)
        try:
            # standard_compatible=False: servers commonly drop TLS without
            # close_notify; that is an ordinary EOF for us, not an error.
            stream: anyio.abc.ByteStream = await TLSStream.wrap(
                tcp, hostname=host, ssl_context=ssl_context, standard_compatible=False
            )
        except BaseException as exc:
            await anyio.aclose_forcefully(tcp)
            if isinstance(exc, (*_BROKEN, anyio.EndOfStream)):
                raise TransportClosed(f"TLS handshake with {host}:{port} failed") from exc
            raise
        return AnyioStream(stream)


def _running_on_asyncio() -> bool:
    """True inside an asyncio task (anyio's asyncio backend), False under trio."""
    try:
        return asyncio.current_task() is not None
    except RuntimeError:  # no running asyncio loop: trio
        return False


class _AsyncioEvent:
    """``anyio.Event`` semantics on asyncio, allocating nothing until someone waits.

    Each waiter awaits its own future, so cancelling one waiter (an anyio cancel
    scope cancels its task) never disturbs the others; ``set()`` wakes them all.
    """

    __slots__ = ("_flag", "_waiters")

    def __init__(self) -> None:
        self._flag = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def set(self) -> None:
        if self._flag:
            return
        self._flag = True
        for waiter in self._waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def is_set(self) -> bool:
        return self._flag

    async def wait(self) -> None:
        if self._flag:
            await anyio.lowlevel.checkpoint()  # like anyio.Event: always a checkpoint
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = [waiter]
        else:
            self._waiters.append(waiter)
        try:
            await waiter
        finally:
            self._waiters.remove(waiter)


class AnyioRuntime:
    """:class:`relay_proto.api.Runtime` on anyio (asyncio or trio underneath).

    Args:
        backend: The event loop :meth:`run` starts (``"asyncio"`` or ``"trio"``).
            With ``"asyncio"``, ``RELAYKIT_UVLOOP=1`` selects uvloop when it is
            installed.
        transport: The transport to open connections with (default:
            :class:`AnyioTransport`; see :class:`relay_anyio.HttpxWsTransport`).
    """

    name = "anyio"

    def __init__(self, backend: str = "asyncio", transport: Transport | None = None) -> None:
        self.backend = backend
        self.default_transport: Transport = AnyioTransport() if transport is None else transport

    def make_id(self) -> str:
        return str(uuid.uuid4())

    def jitter(self) -> float:
        return random.random()

    def current_time(self) -> float:
        return anyio.current_time()

    def create_event(self) -> AsyncEvent:
        # Every request, action and call waits on one of these: on asyncio, a
        # lazily allocated future per waiter instead of asyncio.Event's
        # up-front deque (about 0.9 KiB less per live call; see performance.md).
        if _running_on_asyncio():
            return _AsyncioEvent()
        return anyio.Event()

    def create_lock(self) -> AsyncLock:
        # anyio.Lock hands ownership to the longest waiter on release: FIFO-fair.
        # cast: the protocol spells __aexit__ as (*exc: object).
        return cast(AsyncLock, anyio.Lock())

    def move_on_at(
        self, deadline: float, *, shield: bool = False
    ) -> AbstractContextManager[CancelScope]:
        return anyio.CancelScope(deadline=deadline, shield=shield)

    def open_task_group(self) -> AbstractAsyncContextManager[TaskGroup]:
        # anyio's start_soon is typed with TypeVarTuple; the protocol's is looser.
        return cast("AbstractAsyncContextManager[TaskGroup]", anyio.create_task_group())

    async def sleep_until(self, deadline: float) -> None:
        await anyio.sleep_until(deadline)

    async def checkpoint(self) -> None:
        await anyio.lowlevel.checkpoint()

    def cancelled_exc_class(self) -> type[BaseException]:
        return anyio.get_cancelled_exc_class()

    def open_signal_receiver(self, *signals: int) -> AbstractContextManager[AsyncIterator[int]]:
        return cast(
            "AbstractContextManager[AsyncIterator[int]]",
            anyio.open_signal_receiver(*map(signal.Signals, signals)),
        )

    def run(self, func: Callable[[], Awaitable[T]]) -> T:
        """Run *func* on a fresh event loop of :attr:`backend` and return its result."""
        options: dict[str, Any] = {}
        if self.backend == "asyncio" and os.environ.get("RELAYKIT_UVLOOP") == "1":
            try:
                import uvloop  # noqa: F401
            except ImportError:
                # The variable is a preference, not a requirement.
                logger.warning(
                    "RELAYKIT_UVLOOP=1 but uvloop is not installed; using asyncio's loop"
                )
            else:
                options["use_uvloop"] = True
        return anyio.run(func, backend=self.backend, backend_options=options)
