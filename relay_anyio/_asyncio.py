"""The asyncio-native runtime: what a ``relay_anyio`` client binds when it starts on asyncio.

anyio is a portability layer, and on asyncio its per-operation bookkeeping was
most of relaykit's extra CPU per command (see ``docs/performance.md``).  So on
asyncio (and uvloop) the primitives on the per-command path are asyncio's own,
bound once to the client's loop: the loop's clock, ``asyncio.Lock``, a
future-per-waiter event, a plain-task pool for call handlers, and the loop's
own TCP/TLS transport behind a ``BufferedProtocol`` instead of anyio's streams.
Cancel scopes, task groups, sleeping and signals stay anyio's (inherited from
:class:`~relay_anyio._anyio.PortableRuntime`), so anyio's cancellation
semantics hold throughout.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import socket
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio
import anyio.lowlevel

from relaykit._tls import create_tls_context
from relaykit.client._runtime import (
    AsyncEvent,
    AsyncLock,
    Job,
    RawTransport,
    Report,
    Runtime,
    Stream,
    TaskGroup,
    TaskPool,
    Transport,
    TransportClosed,
)

from ._anyio import PortableRuntime

if TYPE_CHECKING:
    from relay_proto import RelayConnection

__all__ = ["AsyncioRuntime", "AsyncioStream", "AsyncioTransport", "running_loop"]

A = TypeVar("A")


# Read-side flow control of the asyncio stream: stop reading from the socket while
# this much received data waits for the reader, resume once it has taken it all.
_READ_HIGH_WATER = 1 << 18


class _StreamProtocol(asyncio.BufferedProtocol):
    """The asyncio protocol behind :class:`AsyncioStream`: a buffer and two wake-ups.

    The transport reads into one reused 64 KiB buffer (``BufferedProtocol``),
    not a fresh 256 KiB ``bytes`` per read, and received data is only ever
    appended to ``chunks`` here; the reader takes it from there, so a reader
    cancelled while waiting loses nothing.  Reading is paused only while more
    than ``_READ_HIGH_WATER`` bytes wait for the reader, not around every read
    as anyio's socket stream does (two ``epoll_ctl`` calls per read).
    """

    __slots__ = (
        "buffered",
        "chunks",
        "drain_waiter",
        "eof",
        "exc",
        "loop",
        "lost",
        "read_paused",
        "read_waiter",
        "transport",
        "view",
        "write_paused",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.eof = False
        self.lost = False
        self.exc: BaseException | None = None
        self.read_paused = False
        self.write_paused = False
        self.read_waiter: asyncio.Future[None] | None = None
        self.drain_waiter: asyncio.Future[None] | None = None
        self.view = memoryview(bytearray(65536))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(self.view[:nbytes]))

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        waiter = self.read_waiter
        if waiter is not None:
            self.read_waiter = None
            if not waiter.done():
                waiter.set_result(None)
        if self.buffered > _READ_HIGH_WATER and not self.read_paused:
            # The reader is far behind: leave the rest in the kernel for now.
            self.read_paused = True
            assert self.transport is not None
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_all()
        return False  # close the transport: we never write after the peer's EOF

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.exc = exc
        self._wake_all()

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        waiter = self.drain_waiter
        if waiter is not None:
            self.drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _wake_all(self) -> None:
        for waiter in (self.read_waiter, self.drain_waiter):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        self.read_waiter = self.drain_waiter = None


class AsyncioStream:
    """A raw :class:`~relaykit.client._runtime.Stream` straight on an asyncio transport.

    TLS is the loop's own ``ssl=`` transport, as in ``asyncio.open_connection``
    and the official SDK, instead of anyio's ``TLSStream`` over a socket stream,
    which on asyncio costs two extra event-loop passes per write (anyio's
    checkpoints), a pause/resume of the transport per read and a fresh 256 KiB
    receive buffer per read.  Waiting happens on plain futures, so anyio cancel
    scopes cancel a blocked read or write as usual; unlike anyio's streams, a
    call that need not wait does not yield (the driver's read loop waits for
    data on every pass, which is where it yields), and a write the transport
    takes at once is done inside :meth:`send_from`, with no coroutine.

    Args:
        protocol: The connected protocol (its transport is owned from now on).
    """

    __slots__ = ("_protocol", "_transport")

    def __init__(self, protocol: _StreamProtocol) -> None:
        assert protocol.transport is not None
        self._protocol = protocol
        self._transport = protocol.transport

    async def receive_into(
        self, conn: RelayConnection, clock: Callable[[], float], max_bytes: int
    ) -> bool:
        """Wait for data, take at most *max_bytes* of it and feed it to *conn*.

        Returns:
            False at end of stream (after feeding the core its ``b""``).

        Raises:
            TransportClosed: the connection was lost or closed while reading.
        """
        p = self._protocol
        chunks = p.chunks
        if chunks:
            # Data is already here (the reader is behind): still let the other
            # tasks run once before taking it, as a read that waits would.
            # Otherwise a backlog is dispatched batch after batch without a
            # pause, and e.g. a burst of inbound calls spawns every handler
            # before any of them runs (a higher peak of calls in flight).
            await asyncio.sleep(0)
        if not chunks:
            if not (p.eof or p.lost):
                waiter: asyncio.Future[None] = p.loop.create_future()
                p.read_waiter = waiter
                try:
                    await waiter
                finally:
                    p.read_waiter = None
            if not chunks:
                if p.exc is not None:
                    raise TransportClosed(f"connection lost while reading: {p.exc!r}")
                if p.lost and not p.eof and self._transport.is_closing():
                    # aclose() (ours) or an abort without an error: anyio's
                    # ClosedResourceError, not an orderly end of stream.
                    raise TransportClosed("connection closed while reading")
                conn.receive_data(b"", clock())
                return False
        # Whole chunks (socket reads) up to max_bytes, oldest first: no copy of
        # the rest of the buffer per call when the reader is behind.
        first = chunks[0]
        if len(first) > max_bytes:
            data = first[:max_bytes]
            chunks[0] = first[max_bytes:]
        else:
            size, taken = len(first), 1
            while taken < len(chunks) and size + len(chunks[taken]) <= max_bytes:
                size += len(chunks[taken])
                taken += 1
            data = first if taken == 1 else b"".join(chunks[:taken])
            del chunks[:taken]
        p.buffered -= len(data)
        if p.read_paused and not p.buffered and not p.lost:
            p.read_paused = False
            self._transport.resume_reading()
        conn.receive_data(data, clock())
        return True

    def send_from(self, conn: RelayConnection) -> Awaitable[None] | None:
        """Write ``conn.data_to_send()``; wait (the awaitable) only while the buffer is full.

        Raises:
            TransportClosed: the connection was lost or closed.
        """
        data = conn.data_to_send()
        if not data:
            return None
        p = self._protocol
        if p.lost or self._transport.is_closing():
            raise TransportClosed(f"connection lost while writing: {p.exc!r}")
        self._transport.write(data)
        return self._drain() if p.write_paused else None

    async def _drain(self) -> None:
        p = self._protocol
        while p.write_paused and not p.lost:
            waiter: asyncio.Future[None] = p.loop.create_future()
            p.drain_waiter = waiter
            try:
                await waiter
            finally:
                p.drain_waiter = None
        if p.lost:
            raise TransportClosed(f"connection lost while writing: {p.exc!r}")

    async def aclose(self) -> None:
        """Close at once, without waiting on the peer; never raises.

        Like anyio's ``aclose_forcefully`` (and anyio's own socket streams, which
        abort their transport): no TLS close_notify exchange, so closing a dead
        connection cannot block.  The WebSocket close handshake has already said
        goodbye when there was anyone to say it to.
        """
        self._transport.abort()


class AsyncioTransport(RawTransport):
    """Raw TCP, plus TLS for ``wss://``, on the running asyncio loop's own transport.

    The default transport of a ``relay_anyio`` client on asyncio (TLS by the
    loop's ``ssl=`` transport).  Returns :class:`AsyncioStream`.
    """

    async def connect(self, host: str, port: int, *, tls: bool, ca_file: str | None) -> Stream:
        ssl_context = create_tls_context(ca_file) if tls else None
        loop = asyncio.get_running_loop()
        protocol = _StreamProtocol(loop)
        # OSError (refused, unreachable, ssl.SSLError...) propagates; a cancelled
        # connect (the driver's connect timeout) is cleaned up by asyncio itself.
        await loop.create_connection(
            lambda: protocol,
            host,
            port,
            ssl=ssl_context,
            server_hostname=host if ssl_context is not None else None,
        )
        stream = AsyncioStream(protocol)
        assert protocol.transport is not None  # connection_made has run
        sock = protocol.transport.get_extra_info("socket")
        if sock is not None:  # asyncio already sets it; uvloop too, but be explicit
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return stream


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop when called from an asyncio task, else None (trio).

    ``asyncio._get_running_loop`` (public for loop implementers) returns None
    instead of raising under trio, and asking for the current task of a known
    loop skips the second loop lookup of ``asyncio.current_task()``: each
    lookup is a ``getpid`` system call on Python < 3.12.  It runs once per
    client start (:meth:`relay_anyio.AnyioRuntime.bind`), not per operation.
    The task check keeps trio's guest mode (trio code run from asyncio
    callbacks, outside any asyncio task) on the trio side.
    """
    loop = asyncio._get_running_loop()
    if loop is None or asyncio.current_task(loop) is None:
        return None
    return loop


class _AsyncioEvent:
    """``anyio.Event`` semantics on asyncio, allocating nothing until someone waits.

    Every request, action and call has one of these, and thousands may be
    alive at once, so it is kept small: no ``asyncio.Event`` (whose deque
    alone is 760 B), no future until somebody waits, and :meth:`wait` returns
    the waiter's future itself rather than a coroutine wrapping it.  Each
    waiter has its own future, so cancelling one waiter (an anyio cancel scope
    cancels its task, which cancels the future it awaits) never disturbs the
    others; ``set()`` wakes them all.
    """

    __slots__ = ("_flag", "_loop", "_waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._flag = False
        # None, one waiter's future, or a list of them.
        self._waiters: asyncio.Future[None] | list[asyncio.Future[None]] | None = None

    def set(self) -> None:
        if self._flag:
            return
        self._flag = True
        waiters, self._waiters = self._waiters, None
        if waiters is None:
            return
        for waiter in waiters if isinstance(waiters, list) else (waiters,):
            if not waiter.done():  # cancelled waiters are skipped
                waiter.set_result(None)

    def is_set(self) -> bool:
        return self._flag

    def wait(self) -> Awaitable[None]:
        if self._flag:
            return anyio.lowlevel.checkpoint()  # like anyio.Event: always a checkpoint
        waiter: asyncio.Future[None] = self._loop.create_future()
        waiters = self._waiters
        if waiters is None or (not isinstance(waiters, list) and waiters.done()):
            self._waiters = waiter
        elif isinstance(waiters, list):
            if len(waiters) >= 8:  # drop cancelled waiters (timed-out waits) now and then
                waiters[:] = [w for w in waiters if not w.done()]
            waiters.append(waiter)
        else:
            self._waiters = [waiters, waiter]
        return waiter


class _AsyncioTaskPool:
    """Many small tasks (one per call handler) inside an anyio task group, on asyncio.

    anyio 4's ``TaskGroup.start_soon`` gives every task a ``TaskHandle`` with its
    own event, a cancel scope, task-state entries and weak references: about
    3 KB per task, most of the memory a held call costs (see performance.md).
    Here each task is a plain ``loop.create_task`` tracked in one dict, and the
    structure is kept by one supervisor task that runs in the client's anyio
    task group (:meth:`supervise`):

    * cancelling that group cancels the supervisor, which cancels every pool
      task and waits, shielded, until all have finished, so the group never
      exits before them;
    * a task that fails with an exception (other than one that
      ``start_reported`` reports) wakes the supervisor, which raises it in
      the group, as a failing child of the group would;
    * tasks are started in the caller's context (``create_task`` copies it),
      and anyio cancel scopes work inside them as in any asyncio task;
    * ``start_reported`` reports from the task's done callback, so a call's
      handler runs as the handler's own coroutine, with no wrapper.
    """

    __slots__ = ("_closed", "_context", "_done", "_failure", "_loop", "_tasks", "_wake")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        # task -> (report, arg) for start_reported tasks, None for the others.
        self._tasks: dict[asyncio.Task[Any], tuple[Callable[[Any, Any], None], Any] | None] = {}
        self._closed = False
        self._failure: BaseException | None = None
        self._wake: asyncio.Future[None] = self._loop.create_future()
        # One bound method and one (empty) context for every task's done
        # callback, instead of a new bound method and a context copy per task.
        self._done = self._task_done
        self._context = contextvars.Context()

    def start_soon(
        self, func: Callable[..., Awaitable[Any]], *args: Any, name: object = None
    ) -> None:
        self._start(func(*args), None, name)

    def start_reported(self, func: Job[A], arg: A, report: Report[A], *, name: str) -> None:
        self._start(func(arg), (report, arg), name)

    def _start(
        self,
        coro: Awaitable[Any],
        watch: tuple[Callable[[Any, Any], None], Any] | None,
        name: object,
    ) -> None:
        if self._closed:
            if inspect.iscoroutine(coro):
                coro.close()  # never started: no "never awaited" warning
            raise RuntimeError("this task pool's task group has exited; no new tasks")
        task = self._loop.create_task(
            cast("Coroutine[Any, Any, Any]", coro), name=None if name is None else str(name)
        )
        self._tasks[task] = watch
        task.add_done_callback(self._done, context=self._context)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        watch = self._tasks.pop(task, None)
        exc = None if task.cancelled() else task.exception()  # marks it retrieved
        if watch is not None:
            report, arg = watch
            reported = exc if isinstance(exc, Exception) else None
            try:
                report(arg, reported)
            except Exception as report_error:  # a broken report is the pool's failure
                exc = report_error
            else:
                if reported is not None:
                    return
        if exc is not None and self._failure is None:
            self._failure = exc
            if not self._wake.done():
                self._wake.set_result(None)

    async def supervise(self) -> None:
        """Run in the owning task group until it is cancelled or a task fails."""
        try:
            await self._wake
        finally:
            self._closed = True
            for task in self._tasks:
                task.cancel()
            # Shielded: the group is being cancelled, and it must not exit
            # before the pool's tasks have (structured concurrency).
            with anyio.CancelScope(shield=True):
                while self._tasks:
                    await asyncio.wait(tuple(self._tasks))
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure


class AsyncioRuntime(PortableRuntime):
    """The runtime one ``relay_anyio`` client uses on asyncio, bound to its loop.

    Made by :meth:`relay_anyio.AnyioRuntime.bind` when the client starts; the
    loop is known from then on, so no operation looks it up again.

    Args:
        loop: The running loop (asyncio's or uvloop's).
        backend: As :class:`~relay_anyio._anyio.PortableRuntime`.
        transport: The user's transport; by default :class:`AsyncioTransport`.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, backend: str, transport: Transport | None
    ) -> None:
        super().__init__(backend, transport)
        self.loop = loop
        if transport is None:
            self.default_transport = AsyncioTransport()

    def current_time(self) -> float:
        # What anyio.current_time() returns on asyncio, without its backend lookup.
        return self.loop.time()

    def create_event(self) -> AsyncEvent:
        # Every request, action and call waits on one of these: a lazily
        # allocated future per waiter instead of asyncio.Event's up-front deque
        # (about 0.9 KiB less per live call; see performance.md).
        return _AsyncioEvent(self.loop)

    def create_lock(self) -> AsyncLock:
        # The driver takes this lock for every write.  asyncio.Lock: FIFO (a
        # free lock is not taken while others queue), cancelled by anyio scopes
        # like any future wait, and an uncontended acquire costs no loop pass;
        # anyio's Lock looks up the current task three times per acquire/release
        # and checks every enclosing cancel scope.
        return cast(AsyncLock, asyncio.Lock())

    def start_task_pool(self, group: TaskGroup) -> TaskPool:
        # A plain-task pool supervised inside *group*: about 2.7 KB less per
        # live call handler than anyio's start_soon.
        pool = _AsyncioTaskPool(self.loop)
        group.start_soon(pool.supervise, name="relaykit task pool")
        return pool

    def bind(self) -> Runtime:
        return self
