"""The runtime interface: the only thing an adapter has to provide.

The object model in :mod:`relaykit.client` (``RelayClient``, ``Call``,
``Message``, actions, the connection driver) is written once against this
small interface and imports no event-loop library.  ``relay_anyio`` implements
it with anyio (asyncio or trio underneath), ``relay_trio`` with trio directly;
each implementation is a few hundred lines (compare ``httpcore/_backends/base.py``
and ``anyio/abc/_eventloop.py``).

Conventions every implementation follows:

* Time is the loop's monotonic clock (``current_time``); deadlines are absolute
  on that clock, ``math.inf`` meaning "never".
* Cancellation is the loop's own (anyio/trio cancel scopes).  The object model
  never catches :meth:`Runtime.cancelled_exc_class`; it only uses
  ``move_on_at`` scopes and checks ``cancelled_caught``.
* Stream errors surface as ``OSError`` (including ``ConnectionError``) or
  :class:`TransportClosed`; adapters map their library's exceptions at the
  boundary (compare ``map_exceptions`` in ``httpcore/_exceptions.py``).
* The backend is chosen once per client: a client's class holds a runtime,
  and when the client starts (``connect()``, or ``run()``'s loop) it uses
  ``runtime.bind()`` from then on.  That is where ``relay_anyio`` picks its
  asyncio-native runtime or its anyio one; nothing asks again per operation.
"""

from __future__ import annotations

import logging
import random
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from relay_proto import RelayConnection

__all__ = [
    "AsyncEvent",
    "AsyncLock",
    "CancelScope",
    "GroupTaskPool",
    "Job",
    "LibraryRuntime",
    "LibraryStream",
    "RawTransport",
    "Report",
    "Runtime",
    "Stream",
    "TaskGroup",
    "TaskPool",
    "Transport",
    "TransportClosed",
]

T = TypeVar("T")
A = TypeVar("A")

#: A task of :meth:`TaskPool.start_reported`: ``func(arg)``.
Job = Callable[[A], Awaitable[Any]]
#: How it ends, told to ``report(arg, error)`` (*error*: the ``Exception`` it raised, or None).
Report = Callable[[A, Exception | None], None]

logger = logging.getLogger("relaykit.client")


class TransportClosed(ConnectionError):
    """The stream was closed (by either side) while reading or writing."""


class Stream(Protocol):
    """An open connection as the driver sees it: it moves data between its socket and the core.

    The one shape of every transport's streams.  A raw TCP/TLS stream feeds the
    core bytes (``receive_data``/``data_to_send``: the core frames WebSocket); a
    stream whose library frames WebSocket itself (``httpx-ws``) feeds it whole
    messages (``receive_text``/``texts_to_send``).  Which one is the stream's
    business: the driver only pumps.
    """

    async def receive_into(
        self, conn: RelayConnection, clock: Callable[[], float], max_bytes: int
    ) -> bool:
        """Wait for input, read it once and feed it to *conn* at ``clock()``.

        Args:
            conn: The core.
            clock: The runtime's clock, read after the data arrived.
            max_bytes: The most a raw stream reads in one call.

        Returns:
            False once the stream has ended (a raw stream has then fed the core
            its ``b""``), True otherwise.

        Raises:
            OSError: The connection broke (including :class:`TransportClosed`).
        """
        ...

    def send_from(self, conn: RelayConnection) -> Awaitable[None] | None:
        """Take everything *conn* has queued and write it, in order.

        Returns:
            None when the write is already done (or there was nothing to
            write), else an awaitable that finishes it: the driver awaits it
            only then, so an idle flush costs no coroutine.

        Raises:
            OSError: The connection broke (including :class:`TransportClosed`),
                here or from the awaitable.
        """
        ...

    async def aclose(self) -> None:
        """Close the stream; never raises for an already-broken connection."""
        ...


class Transport(Protocol):
    """How the client reaches the server.

    Attributes:
        frames_websocket: True when the transport's streams do WebSocket
            framing themselves (and feed the core texts); False for raw byte
            streams, where the core's wsproto layer does it.  The client
            configures the core with it (``RelayConnection(websocket=...)``).
    """

    frames_websocket: bool

    async def open(
        self,
        *,
        url: str,
        host: str,
        port: int,
        tls: bool,
        ca_file: str | None,
        task_group: TaskGroup | None = None,
    ) -> Stream:
        """Open a connection to *host*:*port* (``url`` is the full ws/wss URL).

        Drivers pass the connection's long-lived task group as *task_group*:
        a transport whose library keeps the connection inside an ``async with``
        (``httpx_ws.aconnect_ws`` runs its own task group) holds it open in a
        task there, because a task group entered by ``open()`` could not be
        exited by a later ``aclose()`` without breaking cancel-scope nesting.
        Raw TCP/TLS transports ignore it.
        """
        ...


class RawTransport(ABC):
    """Base of the raw byte-stream transports (the bindings' TCP/TLS ones, the memory one).

    relay_anyio's and relay_trio's TCP/TLS transports, and the tests'
    :class:`~relaykit.testing.MemoryTransport` (whose "TLS" is a refusal).

    Their streams feed the core bytes (``frames_websocket = False``: the core
    frames WebSocket and sends the handshake), so :meth:`open` only needs the
    host, port and TLS settings; a subclass connects (:meth:`connect`).  The
    TCP ones' TLS uses :func:`relaykit._tls.create_tls_context`: the system trust
    store with certificate and host name verification on, plus the CAs of
    *ca_file* (``SIGNALWIRE_RELAY_CA_FILE``), which add to the system's and
    never replace them.  ``TCP_NODELAY`` is set: RELAY frames
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
    ) -> Stream:
        """Connect to *host*:*port* (TLS when *tls*); *url* and *task_group* are unused.

        Raises:
            OSError: connection refused, name resolution failure, TLS handshake or
                certificate verification failure (``ssl.SSLError``), ...
        """
        return await self.connect(host, port, tls=tls, ca_file=ca_file)

    @abstractmethod
    async def connect(self, host: str, port: int, *, tls: bool, ca_file: str | None) -> Stream:
        """Open the TCP connection, then the TLS session when *tls* (*host* is the server name)."""


class LibraryStream:
    """A raw :class:`Stream` over an event-loop library's byte stream (anyio's, trio's).

    What the bindings' ``AnyioStream`` and ``TrioStream`` share: one read or
    write of the library stream per call (its bound methods are called
    directly, so a pass costs no extra coroutine), and the library's
    "connection gone" exceptions mapped onto :class:`TransportClosed` at the
    boundary (compare ``map_exceptions`` in ``httpcore/_exceptions.py``).

    Args:
        stream: The connected library stream, owned from now on.
        receive: Its ``receive(max_bytes)`` method, returning at least one byte.
        send: Its ``send(data)`` method.
        close: Closes it without waiting on the peer (``aclose_forcefully``).
        broken: The library's exceptions for a broken or closed stream.
        eof: The exceptions its ``receive`` raises at end of stream (anyio's
            ``EndOfStream``); a library that returns ``b""`` instead has none.
    """

    __slots__ = ("_broken", "_close", "_close_errors", "_eof", "_receive", "_send", "_stream")

    def __init__(
        self,
        stream: Any,
        receive: Callable[[int], Awaitable[bytes]],
        send: Callable[[bytes], Awaitable[None]],
        close: Callable[[Any], Awaitable[None]],
        *,
        broken: tuple[type[BaseException], ...],
        eof: tuple[type[BaseException], ...] = (),
    ) -> None:
        self._stream = stream
        self._receive = receive
        self._send = send
        self._close = close
        self._broken = broken
        self._eof = eof
        self._close_errors: tuple[type[BaseException], ...] = (OSError, *broken)

    async def receive_into(
        self, conn: RelayConnection, clock: Callable[[], float], max_bytes: int
    ) -> bool:
        """Read at most *max_bytes* and feed them (``b""`` at end of stream) to *conn*.

        Raises:
            TransportClosed: the stream was closed or broke while reading.
            OSError: any other socket or TLS error.
        """
        try:
            data = await self._receive(max_bytes)
        except self._eof:
            data = b""
        except self._broken as exc:
            raise TransportClosed(f"connection lost while reading: {exc!r}") from exc
        conn.receive_data(data, clock())
        return bool(data)

    def send_from(self, conn: RelayConnection) -> Awaitable[None] | None:
        """Write ``conn.data_to_send()``: None when empty, else the write to await."""
        data = conn.data_to_send()
        return self._send_all(data) if data else None

    async def _send_all(self, data: bytes) -> None:
        try:
            await self._send(data)
        except self._broken as exc:
            raise TransportClosed(f"connection lost while writing: {exc!r}") from exc

    async def aclose(self) -> None:
        """Close the stream without waiting on the peer; never raises for a broken one."""
        # aclose_forcefully skips the TLS close_notify exchange, so closing a dead
        # (half-open) connection cannot block; the WebSocket close handshake has
        # already said goodbye when there was anyone to say it to.
        try:
            await self._close(self._stream)
        except self._close_errors as exc:
            logger.debug("ignoring error while closing a broken stream: %r", exc)


class AsyncEvent(Protocol):
    """A one-shot flag (``anyio.Event`` / ``trio.Event``)."""

    def set(self) -> None: ...

    def is_set(self) -> bool: ...

    def wait(self) -> Awaitable[None]:
        """Wait until set (returns at once, after a checkpoint, if it is).

        An awaitable, not necessarily a coroutine: ``await event.wait()``.
        """
        ...


class AsyncLock(Protocol):
    """A FIFO-fair lock (used to serialise socket writes)."""

    async def __aenter__(self) -> object: ...

    async def __aexit__(self, *exc: object) -> bool | None: ...


class CancelScope(Protocol):
    """The subset of anyio/trio cancel scopes the object model uses."""

    def cancel(self) -> None: ...

    @property
    def cancel_called(self) -> bool: ...

    @property
    def cancelled_caught(self) -> bool: ...

    @property
    def deadline(self) -> float: ...

    @deadline.setter
    def deadline(self, value: float) -> None: ...


class TaskGroup(Protocol):
    """A nursery / task group: ``start_soon`` plus the group's cancel scope."""

    @property
    def cancel_scope(self) -> CancelScope: ...

    def start_soon(
        self, func: Callable[..., Awaitable[Any]], *args: Any, name: object = None
    ) -> None: ...


class TaskPool(Protocol):
    """Where the client starts its many small tasks (see :meth:`Runtime.start_task_pool`)."""

    def start_soon(
        self, func: Callable[..., Awaitable[Any]], *args: Any, name: object = None
    ) -> None:
        """As :meth:`TaskGroup.start_soon`: an exception fails the pool's group."""
        ...

    def start_reported(self, func: Job[A], arg: A, report: Report[A], *, name: str) -> None:
        """Run ``func(arg)`` as a task and call ``report(arg, error)`` when it ends.

        *report* runs exactly once, however the task ends: *error* is the
        ``Exception`` it raised -- which then does not fail the pool -- or
        ``None`` (it returned, was cancelled, or raised a ``BaseException``
        such as ``KeyboardInterrupt``, which still fails the pool's group).
        This is how the client runs one handler per call without a wrapper
        coroutine per call.
        """
        ...


class GroupTaskPool:
    """A :class:`TaskPool` that runs every task in a task group (trio's nursery).

    ``start_reported`` wraps each task in one small coroutine that reports it.
    """

    __slots__ = ("_group",)

    def __init__(self, group: TaskGroup) -> None:
        self._group = group

    def start_soon(
        self, func: Callable[..., Awaitable[Any]], *args: Any, name: object = None
    ) -> None:
        self._group.start_soon(func, *args, name=name)

    def start_reported(self, func: Job[A], arg: A, report: Report[A], *, name: str) -> None:
        self._group.start_soon(_run_reported, func, arg, report, name=name)


async def _run_reported(func: Job[A], arg: A, report: Report[A]) -> None:
    error: Exception | None = None
    try:
        await func(arg)
    except Exception as exc:
        error = exc
    finally:
        report(arg, error)


class Runtime(Protocol):
    """Everything the object model needs from an event loop."""

    #: Short name for logs and reprs: ``"anyio"`` or ``"trio"``.
    name: str

    #: The default transport (raw TCP/TLS streams feeding the core's wsproto layer).
    default_transport: Transport

    def bind(self) -> Runtime:
        """The runtime a client uses from its start until it stops.

        Called once per start, inside the running event loop, by the client
        (from ``connect()``, or from ``run()`` once its loop runs).  A runtime
        made for one kind of loop returns itself; a portable one may return a
        runtime specialised for the loop it finds (``relay_anyio`` on asyncio
        returns its asyncio-native runtime, bound to that loop).  The
        portable runtime itself stays correct everywhere.
        """
        ...

    def current_time(self) -> float:
        """The loop's monotonic clock, in seconds."""
        ...

    def create_event(self) -> AsyncEvent: ...

    def create_lock(self) -> AsyncLock: ...

    def move_on_at(
        self, deadline: float, *, shield: bool = False
    ) -> AbstractContextManager[CancelScope]:
        """A cancel scope that silently cancels its body at *deadline*.

        With ``shield=True`` the body is also protected from cancellation
        outside the scope (``anyio.CancelScope(shield=True)``), so a bounded
        goodbye (``disconnect()``'s close handshake) still runs when the caller's
        scope was cancelled.  Enter it *after*, and leave it *before*, any task
        group that the cleanup then exits, to keep scopes nested.
        """
        ...

    def open_task_group(self) -> AbstractAsyncContextManager[TaskGroup]: ...

    def start_task_pool(self, group: TaskGroup) -> TaskPool:
        """Where the client starts its many small, independent tasks.

        One task per inbound call handler (plus coroutine callbacks) can mean
        thousands alive at once, so an adapter may run them more cheaply than
        as direct children of *group*, as long as they stay inside it
        (structured concurrency): the pool's tasks run while *group* is open,
        cancelling *group* cancels them all and *group* does not exit before
        they have finished; a task failing with an exception (other than one
        that :meth:`TaskPool.start_reported` reports) is the pool's failure,
        raised inside *group* like a child's.  ``GroupTaskPool(group)`` is a
        correct implementation (trio's nurseries are cheap).
        """
        ...

    def spawn_system_task(self, func: Callable[[], Awaitable[None]], *, name: str) -> None:
        """Run ``await func()`` as a task owned by the event loop, outside every caller's scope.

        What a client started by a plain ``await client.connect()`` runs its
        task group in, so that the caller may wrap ``connect()`` and
        ``disconnect()`` in any timeout or cancel scope (``asyncio.wait_for``,
        ``anyio.fail_after``, ``trio.move_on_after``...).  *func* must catch
        every exception but the loop's cancellation (trio turns one into
        ``TrioInternalError``); it runs in a copy of the caller's context.
        """
        ...

    def loop_identity(self) -> object:
        """The running event loop, as an object compared by identity.

        Raises:
            RuntimeError: No event loop of this runtime runs in this thread.
        """
        ...

    async def sleep_until(self, deadline: float) -> None: ...

    async def checkpoint(self) -> None:
        """Yield to the scheduler once (a cancellation point)."""
        ...

    def cancelled_exc_class(self) -> type[BaseException]: ...

    def open_signal_receiver(self, *signals: int) -> AbstractContextManager[AsyncIterator[int]]:
        """Receive *signals* (SIGINT, SIGTERM) as an async iterator, as anyio/trio do."""
        ...

    def run(self, func: Callable[[], Awaitable[T]]) -> T:
        """Run *func* to completion on a fresh event loop (blocking ``client.run()``)."""
        ...

    def make_id(self) -> str:
        """A fresh unique id (UUIDv4 string) for requests, control ids, dial tags.

        Injected here because :mod:`relay_proto` may not import ``uuid``.
        """
        ...

    def jitter(self) -> float:
        """A random float in ``[0, 1)`` for reconnect backoff (``random.random``)."""
        ...


class LibraryRuntime(Runtime):
    """Base of the runtimes on an event-loop library's own primitives (anyio's, trio's).

    What relay_anyio's ``PortableRuntime`` and relay_trio's ``TrioRuntime``
    share, written once: a runtime made for one library binds to itself, runs
    its many small tasks straight in the group (:class:`GroupTaskPool`),
    makes its timeouts from the library's cancel scope, and draws ids and
    jitter from :mod:`uuid` and :mod:`random`.  A subclass names that
    scope (:attr:`cancel_scope_class`) and supplies the rest of :class:`Runtime`,
    which is where the libraries differ.
    """

    #: The library's cancel scope, called as ``cancel_scope_class(deadline=..., shield=...)``.
    cancel_scope_class: Callable[..., AbstractContextManager[CancelScope]]

    def bind(self) -> Runtime:
        return self  # made for one library: nothing to choose

    def make_id(self) -> str:
        return str(uuid.uuid4())

    def jitter(self) -> float:
        return random.random()

    def move_on_at(
        self, deadline: float, *, shield: bool = False
    ) -> AbstractContextManager[CancelScope]:
        return self.cancel_scope_class(deadline=deadline, shield=shield)

    def start_task_pool(self, group: TaskGroup) -> TaskPool:
        # A library's task group (a nursery) is cheap enough to hold them all.
        return GroupTaskPool(group)
