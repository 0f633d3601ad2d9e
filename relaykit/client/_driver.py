"""The connection driver: moves bytes between a transport and the sans-IO core.

One driver serves one :class:`~relay_proto.RelayConnection` for the whole
life of a client (it outlives every socket).  Three tasks, no task per event:

* the **supervisor** opens a socket, calls ``connection_made``, runs the reader
  until the socket dies, calls ``connection_lost`` and sleeps until the
  ``ReconnectScheduled.at`` the core asked for, then starts over;
* the **reader** (inside the supervisor) has the stream read once and feed
  the core (``Stream.receive_into``: ``receive_data(data, now)``, or
  ``receive_text`` for a transport that frames WebSocket itself), drains
  ``next_event()`` and dispatches each event synchronously (waiters are woken
  by setting runtime events), then has the stream write the core's output
  once (``Stream.send_from``): the ACKs of a whole read go out in one write;
* the **timer** sleeps until ``get_timer()`` in a cancel scope whose deadline
  is moved earlier whenever new input brings the next deadline forward (a
  later one is picked up when the timer wakes), then calls ``handle_timer(now)``
  if something is due.

The driver never touches the data itself, so it has one code path for every
transport.  Writes happen under a FIFO lock, and the output is taken from the
core inside the lock, so frames go out in the order the core produced them.
Requests made by user tasks never write themselves: they wake the **writer**
task, so a cancelled user task can never leave half a frame on the wire (and a
burst of requests is coalesced into one write).

On ``ConnectionDead`` the reader is cancelled, the stream aborted and
``connection_lost`` called; ``AuthenticationFatal`` and a finished user close
(``ConnectionClosed(will_reconnect=False)``) stop the supervisor.

Opening a connection is bounded as a whole: ``connect_timeout`` runs from the
first TCP packet through TLS, the WebSocket handshake and ``signalwire.connect``
until ``SessionAuthenticated``.  A server that accepts the socket and then says
nothing is a timeout (``ConnectionRefusedError`` "timed out" from ``connect()``;
a retry with backoff in ``run()``), never an authentication failure.

Failures are sorted: a TLS certificate that cannot be verified is permanent
(it will fail the same way on every retry), so the driver stops with an
``ssl.SSLCertVerificationError`` whose message says to set
``SIGNALWIRE_RELAY_CA_FILE``; refused, reset, unreachable and name resolution
failures are transient and retried with backoff, each failed attempt logged
once at WARNING with its number and the next delay.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from relay_proto import (
    AuthenticationFailed,
    AuthenticationFatal,
    AuthenticationRejected,
    ConnectionClosed,
    ConnectionDead,
    Event,
    ReconnectScheduled,
    RelayConnection,
    SessionAuthenticated,
    SessionState,
)

from ._config import ClientConfig
from ._runtime import AsyncEvent, CancelScope, Runtime, Stream, TaskGroup, Transport

__all__ = ["Driver"]

logger = logging.getLogger("relaykit.client")

# At most one TLS record's worth per pass: a burst (say, 1000 inbound calls) is
# dispatched in batches with the handlers it starts running in between, which
# keeps fewer commands in flight at once; a flood still shares one write of ACKs
# per ~50 events.  (See docs/performance.md.)
_READ_SIZE = 16384


class Driver:
    """Runs one :class:`RelayConnection` over a :class:`Transport`.

    Args:
        conn: The core (``open_session`` already called).
        runtime: The event-loop runtime.
        transport: Opens sockets.
        config: Where to connect.
        dispatch: Called synchronously with every event the core emits.
        connect_timeout: Seconds allowed to open a session: TCP, TLS, the
            WebSocket handshake and ``signalwire.connect``, as a whole.
        fail_fast: When true, a failure to reach the server before the first
            successful authentication stops the driver (``connect()``); when
            false the driver retries with backoff forever (``run()``).
    """

    def __init__(
        self,
        conn: RelayConnection,
        runtime: Runtime,
        transport: Transport,
        config: ClientConfig,
        dispatch: Callable[[Event], None],
        *,
        connect_timeout: float = 10.0,
        fail_fast: bool = True,
    ) -> None:
        self.conn = conn
        self._rt = runtime
        self._transport = transport
        self._config = config
        self._dispatch = dispatch
        self._connect_timeout = connect_timeout
        self._fail_fast = fail_fast
        self._stream: Stream | None = None
        self._write_lock = runtime.create_lock()
        self._wake_writer = runtime.create_event()
        self._read_scope: CancelScope | None = None
        self._timer_scope: CancelScope | None = None
        # The scope of an interruptible wait (opening a socket, reconnect backoff).
        self._sleep_scope: CancelScope | None = None
        self._dead_reason: str | None = None
        # A socket left open by a cancellation, for goodbye().
        self._orphan: Stream | None = None
        self._reconnect: ReconnectScheduled | None = None
        # This socket's session authenticated (its opening deadline is lifted).
        self._authenticated_on_socket = False
        self._stopping = False
        self._processing = False
        self._ever_ready = False
        self._rejected_on_socket = False
        #: Set once the first authentication succeeded, or the driver gave up.
        self.settled = runtime.create_event()
        #: Set when the driver has stopped for good.
        self.finished = runtime.create_event()
        #: Why the driver gave up (fatal authentication, unreachable server).
        self.error: BaseException | None = None
        #: Called before each socket is opened (the connection monitor's ``connecting``).
        self.on_connecting: Callable[[], None] | None = None

    # ------------------------------------------------------------------
    # Public surface used by the client
    # ------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True when the session is authenticated and requests go out at once."""
        return self.conn.is_ready

    async def run(self) -> None:
        """Run until closed or failed (start it in the client's task group)."""
        try:
            async with self._rt.open_task_group() as group:
                group.start_soon(self._timer_loop, name="relaykit timer")
                group.start_soon(self._writer_loop, name="relaykit writer")
                await self._supervise(group)
                group.cancel_scope.cancel()
        except Exception as exc:  # a bug must not leave connect()/disconnect() hanging
            logger.exception("connection driver crashed")
            if self.error is None:
                self.error = exc
        finally:
            self._stopping = True
            self._stream = None
            self.settled.set()
            self.finished.set()

    def kick(self) -> None:
        """After a command on the core: drain its events, re-arm the timer, wake the writer."""
        self.process()
        self._wake_writer.set()

    def close(self) -> None:
        """Start a user close: cancel pending requests, close politely, never reconnect."""
        self.conn.close(self._rt.current_time())
        self.kick()
        if self._sleep_scope is not None:
            self._sleep_scope.cancel()

    def abort(self) -> None:
        """Stop at once (used when a polite close took too long)."""
        self._stopping = True
        self._mark_dead("aborted by the client")
        if self._sleep_scope is not None:
            self._sleep_scope.cancel()

    def process(self) -> None:
        """Drain the core's events, dispatch them, and re-arm the timer (synchronous)."""
        if self._processing:
            return  # re-entered from a dispatch callback: the outer loop drains
        self._processing = True
        try:
            next_event = self.conn.next_event
            dispatch = self._dispatch
            event = next_event()
            while event is not None:
                if type(event) in _DRIVER_EVENTS:
                    self._on_driver_event(event)
                try:
                    dispatch(event)
                except Exception:
                    # User code is guarded where it is called; this is the last
                    # line of defence: one bad event never takes the connection down.
                    logger.exception("error while dispatching %s", type(event).__name__)
                event = next_event()
        finally:
            self._processing = False
        scope = self._timer_scope
        if scope is not None:
            # Only ever move the timer earlier.  A later (or no) deadline leaves
            # the armed one in place: the timer loop then wakes up early, finds
            # nothing due and re-arms with the current deadline.  Re-arming is a
            # timer-handle cancel + reschedule on asyncio, and almost every
            # command moves the deadline (a request's timeout, then back to the
            # ping), so this saves it per command at the price of one spurious
            # wake-up per request-timeout period.
            deadline = self.conn.get_timer()
            if deadline is not None and deadline < scope.deadline:
                scope.deadline = deadline

    async def flush(self) -> None:
        """Write everything the core has queued, in order, under the FIFO lock."""
        stream = self._stream
        if stream is None:
            return
        try:
            async with self._write_lock:
                if self._stream is not stream:
                    return
                # The stream takes the core's output itself (bytes or texts);
                # None: written already, or nothing to write.
                writing = stream.send_from(self.conn)
                if writing is not None:
                    await writing
        except OSError as exc:
            self._mark_dead(f"write failed: {exc!r}")

    # ------------------------------------------------------------------
    # Driver-level events
    # ------------------------------------------------------------------

    def _on_driver_event(self, event: Event) -> None:
        if isinstance(event, ConnectionDead):
            self._mark_dead(event.reason)
        elif isinstance(event, ReconnectScheduled):
            self._reconnect = event
        elif isinstance(event, SessionAuthenticated):
            self._ever_ready = True
            self._authenticated_on_socket = True
            if self._read_scope is not None:
                self._read_scope.deadline = math.inf  # the opening is over
            self.settled.set()
        elif isinstance(event, AuthenticationRejected):
            # A signalwire.connect that was never answered is the server's
            # silence, not a verdict on the credentials: connect() reports it as
            # a timeout instead of retrying it as a rejection.
            if not _is_connect_timeout(event):
                self._rejected_on_socket = True
        elif isinstance(event, AuthenticationFatal):
            self.error = AuthenticationFailed(event.code, event.message)
            self._stop("authentication failed")
        elif isinstance(event, ConnectionClosed) and not event.will_reconnect:
            self._stop(event.reason)

    def _stop(self, reason: str) -> None:
        self._stopping = True
        self.settled.set()
        # Give a polite close frame a chance to be written, then end the reader.
        self._wake_writer.set()
        self._mark_dead(reason)
        if self._sleep_scope is not None:
            self._sleep_scope.cancel()

    def _mark_dead(self, reason: str) -> None:
        if self._dead_reason is None:
            self._dead_reason = reason
        if self._read_scope is not None:
            self._read_scope.cancel()

    # ------------------------------------------------------------------
    # Tasks
    # ------------------------------------------------------------------

    async def _supervise(self, group: TaskGroup) -> None:
        rt = self._rt
        cfg = self._config
        while not self._stopping:
            self._dead_reason = None
            self._rejected_on_socket = False
            self._authenticated_on_socket = False
            # One deadline for the whole opening: TCP, TLS, WebSocket, signalwire.connect.
            deadline = rt.current_time() + self._connect_timeout
            failure = ""
            try:
                stream = await self._open(group, deadline)
                if stream is None:
                    failure = f"timed out after {self._connect_timeout:g} s (connect_timeout)"
            except OSError as exc:
                stream = None
                verification = _certificate_failure(exc)
                if verification is not None and not self._should_stop():
                    self._fail_permanently(verification)
                    return
                failure = str(exc) or repr(exc)
            if self._should_stop():
                # close() arrived while the socket was being opened.
                if stream is not None:
                    await stream.aclose()
                return
            if stream is None:
                if self._fail_fast and not self._ever_ready:
                    logger.warning("could not connect to %s: %s", cfg.url, failure)
                    self.error = ConnectionRefusedError(
                        f"could not connect to {cfg.url}: {failure}"
                    )
                    self.conn.close(rt.current_time())
                    self.process()
                    return
                self.conn.connection_lost(rt.current_time(), f"connect failed: {failure}")
                self.process()
                # A transient failure (refused, reset, unreachable, name
                # resolution, timeout): one WARNING per attempt, with what next.
                retry = self._reconnect
                if retry is not None:
                    logger.warning(
                        "could not connect to %s (attempt %d): %s; retrying in %.3g s",
                        cfg.url,
                        retry.attempt,
                        failure,
                        max(0.0, retry.at - rt.current_time()),
                    )
                else:
                    logger.warning("could not connect to %s: %s", cfg.url, failure)
            else:
                await self._serve(stream, deadline)
                if (
                    self._fail_fast
                    and not self._ever_ready
                    and not self._rejected_on_socket
                    and not self._stopping
                ):
                    # The server accepted TCP but never let us authenticate (bad
                    # WebSocket endpoint, wrong scheme, silence until
                    # connect_timeout...): report it instead of retrying forever
                    # in connect().
                    reason = self._dead_reason or "connection closed"
                    self.error = ConnectionRefusedError(
                        f"could not open a RELAY session at {cfg.url}: {reason}"
                    )
                    self.conn.close(rt.current_time())
                    self.process()
                    return
                retry = self._reconnect
                if retry is not None:
                    # The loss itself was logged (WARNING) when the core reported it.
                    logger.info(
                        "reconnecting to %s (attempt %d) in %.3g s",
                        cfg.url,
                        retry.attempt,
                        max(0.0, retry.at - rt.current_time()),
                    )
            if self._should_stop():
                return
            retry, self._reconnect = self._reconnect, None
            if retry is not None:
                with rt.move_on_at(math.inf) as scope:
                    self._sleep_scope = scope
                    await rt.sleep_until(retry.at)
                self._sleep_scope = None

    def _fail_permanently(self, exc: OSError) -> None:
        """Stop for good on a failure every retry would repeat (``connect()``, ``run()``).

        *exc* is an ``ssl.SSLCertVerificationError``; the error given to the
        caller is one too (the same type, built without importing ``ssl``: the
        object model imports no I/O library), with the verification details
        copied and a message that says what to do.
        """
        cfg = self._config
        error = type(exc)(
            exc.errno or 1,
            f"could not verify the TLS certificate of {cfg.url}: {exc}. Not retrying: this "
            "fails the same way every time. If the server's certificate is signed by a "
            "private CA, set SIGNALWIRE_RELAY_CA_FILE to a PEM file of that CA (it is added "
            "to the system's trusted CAs).",
        )
        for name in ("verify_code", "verify_message", "reason", "library"):
            if hasattr(exc, name):
                setattr(error, name, getattr(exc, name))
        error.__cause__ = exc
        # Said once: run() ends with it (its exit line), and a connect() still
        # waiting raises it; only a client that connected earlier and lost the
        # connection later has nobody else to say it.
        reported = not self._fail_fast or not self.settled.is_set()
        (logger.debug if reported else logger.error)("%s", error)
        self.error = error
        self.conn.close(self._rt.current_time())
        self.process()

    def _should_stop(self) -> bool:
        return self._stopping

    async def _open(self, group: TaskGroup, deadline: float) -> Stream | None:
        """Open a socket before *deadline*; ``None`` when it timed out."""
        cfg = self._config
        stream: Stream | None = None
        if self.on_connecting is not None:
            self.on_connecting()
        with self._rt.move_on_at(deadline) as scope:
            self._sleep_scope = scope  # close() interrupts the attempt
            stream = await self._transport.open(
                url=cfg.url,
                host=cfg.hostname,
                port=cfg.port,
                tls=cfg.tls,
                ca_file=cfg.ca_file,
                task_group=group,
            )
        self._sleep_scope = None
        return stream

    async def _serve(self, stream: Stream, deadline: float) -> None:
        """One socket's life: handshake, read until it dies, report the loss.

        Until the session authenticates, reading stops at *deadline* (the end of
        ``connect_timeout``): a server that never answers is given up on.
        """
        rt = self._rt
        conn = self.conn
        self._stream = stream
        try:
            conn.connection_made(rt.current_time())
            self.process()
            await self.flush()
            while True:
                limit = math.inf if self._authenticated_on_socket else deadline
                with rt.move_on_at(limit) as scope:
                    self._read_scope = scope
                    if self._dead_reason is None:
                        await self._read(stream)
                self._read_scope = None
                if not scope.cancelled_caught or self._dead_reason is not None:
                    break
                if not self._authenticated_on_socket:
                    self._dead_reason = (
                        f"timed out after {self._connect_timeout:g} s (connect_timeout) "
                        "waiting for the server to open the RELAY session (WebSocket "
                        "handshake and signalwire.connect)"
                    )
                    break
                # The deadline fired as the session authenticated: keep reading.
            if self._stopping:
                # Let a final close frame / queued text go out before hanging up.
                await self.flush()
        except BaseException:
            # Cancelled from outside (the caller's scope was cancelled): keep the
            # socket open so that disconnect() can still say goodbye on it.
            self._read_scope = None
            self._stream = None
            self._orphan = stream
            raise
        self._stream = None
        await stream.aclose()
        conn.connection_lost(rt.current_time(), self._dead_reason or "connection closed")
        self.process()

    async def goodbye(self) -> None:
        """Close politely a socket that a cancelled driver left open.

        ``disconnect()`` calls it in a shielded, bounded scope after the driver's
        tasks stopped: the WebSocket close handshake then runs on the caller's
        task.  A no-op when the driver ended normally.
        """
        stream, self._orphan = self._orphan, None
        if stream is None:
            return
        rt = self._rt
        conn = self.conn
        self._stream = stream
        try:
            conn.close(rt.current_time())  # harmless when the close already started
            self.process()
            await self.flush()
            # Wait for the server's close frame.  (A stream that frames
            # WebSocket itself closes it in aclose(); its core never is CLOSING.)
            while conn.state is SessionState.CLOSING:
                more = await stream.receive_into(conn, rt.current_time, _READ_SIZE)
                self.process()
                await self.flush()
                if not more:
                    break
        except OSError as exc:
            logger.debug("goodbye on a broken connection: %r", exc)
        finally:
            self._stream = None
            await stream.aclose()
            conn.connection_lost(rt.current_time(), "closed by the client")
            self.process()

    async def _read(self, stream: Stream) -> None:
        conn = self.conn
        clock = self._rt.current_time
        receive_into = stream.receive_into
        while True:
            try:
                more = await receive_into(conn, clock, _READ_SIZE)
            except OSError as exc:
                self._mark_dead(f"read failed: {exc!r}")
                return
            self.process()
            await self.flush()
            if not more:
                self._mark_dead("server closed the connection")
                return

    async def _timer_loop(self) -> None:
        rt = self._rt
        conn = self.conn
        never: AsyncEvent = rt.create_event()
        while True:
            deadline = conn.get_timer()
            with rt.move_on_at(math.inf if deadline is None else deadline) as scope:
                self._timer_scope = scope
                await never.wait()
            self._timer_scope = None
            now = rt.current_time()
            deadline = conn.get_timer()
            if deadline is not None and now >= deadline:
                conn.handle_timer(now)
                self.process()
                await self.flush()

    async def _writer_loop(self) -> None:
        rt = self._rt
        while True:
            await self._wake_writer.wait()
            self._wake_writer = rt.create_event()
            await self.flush()


def _is_connect_timeout(event: AuthenticationRejected) -> bool:
    """The core's "signalwire.connect timed out" (code -1), not a server's rejection."""
    return event.code == -1 and "timed out" in event.message


def _certificate_failure(exc: BaseException) -> OSError | None:
    """The ``ssl.SSLCertVerificationError`` in *exc* or its causes (a library may wrap it).

    Recognised by its ``verify_code`` attribute, which only that error has:
    the object model does not import ``ssl``.
    """
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return None
        if isinstance(seen, OSError) and hasattr(seen, "verify_code"):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


_DRIVER_EVENTS = frozenset(
    {
        ConnectionDead,
        ReconnectScheduled,
        SessionAuthenticated,
        AuthenticationRejected,
        AuthenticationFatal,
        ConnectionClosed,
    }
)
