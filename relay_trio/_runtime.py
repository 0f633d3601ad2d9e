"""The trio runtime: :class:`~relaykit.client._runtime.Runtime` on trio's own primitives.

Nurseries, ``trio.CancelScope``, ``trio.Event``, ``trio.StrictFIFOLock`` and
trio's streams, with nothing in between, so tracebacks and cancellation are
trio's.  This module (and everything ``relay_trio`` imports) must never import
anyio; a test checks it.
"""

from __future__ import annotations

import contextvars
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TypeVar, cast

import trio
import trio.lowlevel

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

__all__ = ["TrioRuntime", "TrioStream", "TrioTransport"]

T = TypeVar("T")

_BROKEN = (trio.BrokenResourceError, trio.ClosedResourceError)


class TrioStream(LibraryStream):
    """A raw :class:`~relaykit.client._runtime.Stream` over a ``trio.abc.Stream`` (TCP or TLS).

    Args:
        stream: A connected ``trio.SocketStream`` or ``trio.SSLStream``, owned from now on.
    """

    __slots__ = ()

    def __init__(self, stream: trio.abc.Stream) -> None:
        # trio returns b"" at end of stream (no EOF exception), and its
        # aclose_forcefully skips the TLS close_notify exchange.  cast: an
        # SSLStream may hand back a bytearray; the core only reads it, so no copy.
        receive = cast("Callable[[int], Awaitable[bytes]]", stream.receive_some)
        super().__init__(stream, receive, stream.send_all, trio.aclose_forcefully, broken=_BROKEN)


class TrioTransport(RawTransport):
    """The default transport: ``trio.open_tcp_stream``, plus ``trio.SSLStream`` for ``wss://``.

    Returns :class:`TrioStream` (``TCP_NODELAY``: trio sets it by default; we
    say so explicitly because latency matters here).
    """

    async def connect(self, host: str, port: int, *, tls: bool, ca_file: str | None) -> Stream:
        ssl_context = create_tls_context(ca_file) if tls else None
        tcp = await trio.open_tcp_stream(host, port)
        tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        if ssl_context is None:
            return TrioStream(tcp)
        # https_compatible: a server dropping TLS without close_notify is an
        # ordinary EOF for us, not an error.
        tls_stream = trio.SSLStream(tcp, ssl_context, server_hostname=host, https_compatible=True)
        try:
            await tls_stream.do_handshake()
        except BaseException as exc:
            await trio.aclose_forcefully(tcp)
            if isinstance(exc, _BROKEN):
                # trio wraps the ssl error; surface it so the user reads
                # "certificate verify failed" rather than "broken resource".
                if isinstance(exc.__cause__, ssl.SSLError):
                    raise exc.__cause__ from exc
                raise TransportClosed(f"TLS handshake with {host}:{port} failed") from exc
            raise
        return TrioStream(tls_stream)


class TrioRuntime(LibraryRuntime):
    """:class:`~relaykit.client._runtime.Runtime` on trio.

    Args:
        transport: The transport to open connections with (default: :class:`TrioTransport`).
    """

    name = "trio"

    def __init__(self, transport: Transport | None = None) -> None:
        self.default_transport: Transport = TrioTransport() if transport is None else transport

    # The library's own functions, called without a wrapper.
    current_time = staticmethod(trio.current_time)
    create_event: Callable[[], AsyncEvent] = staticmethod(trio.Event)
    sleep_until = staticmethod(trio.sleep_until)
    checkpoint = staticmethod(trio.lowlevel.checkpoint)
    cancel_scope_class = trio.CancelScope

    def create_lock(self) -> AsyncLock:
        # cast: the protocol spells __aexit__ as (*exc: object).
        return cast(AsyncLock, trio.StrictFIFOLock())

    def open_task_group(self) -> AbstractAsyncContextManager[TaskGroup]:
        return cast("AbstractAsyncContextManager[TaskGroup]", trio.open_nursery())

    def cancelled_exc_class(self) -> type[BaseException]:
        return trio.Cancelled

    def spawn_system_task(self, func: Callable[[], Awaitable[None]], *, name: str) -> None:
        trio.lowlevel.spawn_system_task(func, name=name, context=contextvars.copy_context())

    def loop_identity(self) -> object:
        return trio.lowlevel.current_trio_token()

    def open_signal_receiver(self, *signals: int) -> AbstractContextManager[AsyncIterator[int]]:
        return cast(
            "AbstractContextManager[AsyncIterator[int]]", trio.open_signal_receiver(*signals)
        )

    def run(self, func: Callable[[], Awaitable[T]]) -> T:
        """Run *func* with ``trio.run`` and return its result."""
        return trio.run(func)
