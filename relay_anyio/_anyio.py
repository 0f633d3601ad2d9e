"""The portable anyio runtime: :class:`~relaykit.client._runtime.Runtime` on anyio's primitives.

Correct on every anyio backend, and what a ``relay_anyio`` client uses under
trio (``anyio.run(..., backend="trio")``).  On asyncio a starting client binds
the asyncio-native runtime of :mod:`relay_anyio._asyncio` instead, which builds
on this one (see :class:`relay_anyio.AnyioRuntime`).  Everything here is a thin
mapping onto anyio; the object model decides everything.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, TypeVar, cast

import anyio
import anyio.abc
import anyio.lowlevel
from anyio.streams.tls import TLSStream

from relaykit._tls import create_tls_context
from relaykit.client._runtime import (
    AsyncEvent,
    AsyncLock,
    LibraryRuntime,
    LibraryStream,
    RawTransport,
    Stream,
    TaskGroup,
    Transport,
    TransportClosed,
)

__all__ = ["AnyioStream", "AnyioTransport", "PortableRuntime"]

T = TypeVar("T")

logger = logging.getLogger("relaykit.anyio")

# Exceptions that mean "this connection is gone", whoever noticed first.
_BROKEN = (anyio.BrokenResourceError, anyio.ClosedResourceError)


class AnyioStream(LibraryStream):
    """A raw :class:`~relaykit.client._runtime.Stream` over an anyio byte stream (TCP or TLS).

    Args:
        stream: A connected anyio byte stream, owned from now on.
    """

    __slots__ = ()

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        super().__init__(
            stream,
            stream.receive,
            stream.send,
            anyio.aclose_forcefully,
            broken=_BROKEN,
            eof=(anyio.EndOfStream,),
        )


class AnyioTransport(RawTransport):
    """Raw TCP, plus TLS for ``wss://``, on anyio's streams (any anyio backend).

    The default transport of a ``relay_anyio`` client under trio; on asyncio
    the client's default is the loop's own TCP/TLS transport instead (pass this
    one explicitly to use anyio's streams there too).  Returns :class:`AnyioStream`.
    """

    async def connect(self, host: str, port: int, *, tls: bool, ca_file: str | None) -> Stream:
        ssl_context = create_tls_context(ca_file) if tls else None
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


class PortableRuntime(LibraryRuntime):
    """The runtime on anyio's own primitives (asyncio or trio underneath).

    Args:
        backend: The event loop :meth:`run` starts (``"asyncio"`` or ``"trio"``).
            With ``"asyncio"``, ``RELAYKIT_UVLOOP=1`` selects uvloop when it is
            installed.
        transport: The transport to open connections with (default:
            :class:`AnyioTransport`).
    """

    name = "anyio"

    def __init__(self, backend: str = "asyncio", transport: Transport | None = None) -> None:
        self.backend = backend
        #: The transport given by the user, if any (kept when a client binds).
        self.transport = transport
        self.default_transport: Transport = AnyioTransport() if transport is None else transport

    # The library's own functions, called without a wrapper.
    current_time = staticmethod(anyio.current_time)
    create_event: Callable[[], AsyncEvent] = staticmethod(anyio.Event)
    sleep_until = staticmethod(anyio.sleep_until)
    checkpoint = staticmethod(anyio.lowlevel.checkpoint)
    cancelled_exc_class = staticmethod(anyio.get_cancelled_exc_class)
    cancel_scope_class = anyio.CancelScope

    def create_lock(self) -> AsyncLock:
        # anyio.Lock hands ownership to the longest waiter: FIFO-fair;
        # fast_acquire: an uncontended acquire does not yield to the loop.
        # cast: the protocol spells __aexit__ as (*exc: object).
        return cast(AsyncLock, anyio.Lock(fast_acquire=True))

    def open_task_group(self) -> AbstractAsyncContextManager[TaskGroup]:
        # anyio's start_soon is typed with TypeVarTuple; the protocol's is looser.
        return cast("AbstractAsyncContextManager[TaskGroup]", anyio.create_task_group())

    def open_signal_receiver(self, *signals: int) -> AbstractContextManager[AsyncIterator[int]]:
        return cast(
            "AbstractContextManager[AsyncIterator[int]]",
            anyio.open_signal_receiver(*map(signal.Signals, signals)),
        )

    def spawn_system_task(self, func: Callable[[], Awaitable[None]], *, name: str) -> None:
        loop = _asyncio_loop()
        if loop is None:  # anyio on trio
            import trio.lowlevel

            trio.lowlevel.spawn_system_task(func, name=name, context=contextvars.copy_context())
            return
        task = loop.create_task(_run_awaitable(func), name=name)
        # The loop keeps only a weak reference to a task: hold it until it ends.
        _system_tasks.add(task)
        task.add_done_callback(_system_tasks.discard)

    def loop_identity(self) -> object:
        # Also from a callback of the loop (outside any task): the loop runs.
        loop = asyncio._get_running_loop()
        if loop is not None:
            return loop
        try:
            import trio.lowlevel

            return trio.lowlevel.current_trio_token()
        except (ImportError, RuntimeError):
            raise RuntimeError("no event loop is running in this thread") from None

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


#: Tasks started by :meth:`PortableRuntime.spawn_system_task` on asyncio, while they run.
_system_tasks: set[asyncio.Task[None]] = set()


def _asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop when called from an asyncio task, else None (trio)."""
    loop = asyncio._get_running_loop()
    if loop is None or asyncio.current_task(loop) is None:
        return None
    return loop


async def _run_awaitable(func: Callable[[], Awaitable[None]]) -> None:
    await func()
