"""The runnable RELAY emulator on anyio: connections, TLS, the timer, the control endpoint.

All protocol and simulation logic lives in :mod:`relaykit.emulator`; this
module only accepts connections, moves bytes, ticks the sans-IO timer, and
offers an async API for tests::

    from relaykit.emulator import Caller, Emulator

    async with Emulator(project="p", token="t", time_scale=0.001) as emu:
        ...  # point a client at emu.url / emu.host
        call = await emu.place_call(context="ivr", script=Caller().press("1"))
        record = await call.wait_ended(timeout=5)

Waiting methods take ``timeout=`` like the official SDK's ``wait(timeout=...)``
(hence the ASYNC109 exemptions) and raise :class:`TimeoutError`.

**Loopback or in memory.**  By default it listens on loopback
(``ws://127.0.0.1:PORT``, ``wss://`` with a certificate).  With
``listen=False`` it opens no socket: clients in this process connect through
:attr:`Emulator.transport` (:class:`relaykit.testing.MemoryTransport`), whose
in-memory connections get the same per-connection code, journal and faults as
a socket.  **Time** is always the loop's clock (``anyio.current_time()``): on
trio under ``MockClock(autojump_threshold=0)`` an in-memory emulator and its
clients run in virtual time (use ``time_scale=1.0``); see :mod:`relaykit.testing`.

Self-contained on purpose: it imports only anyio, the standard library,
``relaykit.emulator`` and its two private helpers (``_tls``: the TLS layer,
``_control``: the HTTP control endpoint), not the client object model (the
memory transport, in :mod:`relaykit.testing`, is imported on first use of
:attr:`Emulator.transport`).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import logging
import math
import os
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import anyio
import anyio.abc

from . import (
    Caller,
    CallRecord,
    EmulatorServer,
    Flood,
    JournalEntry,
    MessageRecord,
    NumberBehavior,
)
from ._control import serve_control
from ._serving import ServerStream, StreamService

if TYPE_CHECKING:
    from relaykit.testing import MemoryTransport

__all__ = [
    "CallRecord",
    "Caller",
    "EmulatedCall",
    "Emulator",
    "FloodResult",
    "JournalEntry",
    "MessageRecord",
    "NumberBehavior",
]

logger = logging.getLogger("relaykit.emulator")

# Numbers the host names of in-memory emulators (one URL each in a process).
_memory_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class FloodResult:
    """Outcome of :meth:`Emulator.flood_events`."""

    sent: int
    acked: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        """ACKed events per second of wall time."""
        return self.acked / self.seconds if self.seconds > 0 else math.inf


class EmulatedCall:
    """Handle on a call the emulator simulates (inbound placed calls, dial/connect legs)."""

    def __init__(self, emulator: Emulator, record: CallRecord) -> None:
        self._emu = emulator
        self._record = record

    @property
    def call_id(self) -> str:
        """The call's ``call_id`` on the wire."""
        return self._record.call_id

    @property
    def record(self) -> CallRecord:
        """A snapshot of what happened so far."""
        return self._record.snapshot()

    async def wait_state(self, state: str, timeout: float = 10.0) -> CallRecord:  # noqa: ASYNC109
        """Wait until the call reaches *state* (or a later one); returns a snapshot.

        Raises:
            TimeoutError: if it does not happen within *timeout* seconds.
        """
        order = ("created", "ringing", "answered", "ending", "ended")
        target = order.index(state)
        await self._emu._wait(
            lambda: order.index(self._record.state) >= target,
            timeout,
            f"call {self.call_id} to reach {state!r}",
        )
        return self._record.snapshot()

    async def wait_ended(self, timeout: float = 10.0) -> CallRecord:  # noqa: ASYNC109
        """Wait until the call has ended; returns the final :class:`CallRecord`.

        Raises:
            TimeoutError: if it is still up after *timeout* seconds.
        """
        return await self.wait_state("ended", timeout)

    def __repr__(self) -> str:
        return f"<EmulatedCall {self.call_id} {self._record.state}>"


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _on_server(
    method: Callable[Concatenate[EmulatorServer, _P], _R],
) -> Callable[Concatenate[Emulator, _P], _R]:
    """An :class:`Emulator` method that runs *method* on its sans-IO server as is.

    For the synchronous settings that need no I/O afterwards: one definition
    (signature, checks, docstring) serves both classes.
    """

    @functools.wraps(method)
    def forward(self: Emulator, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return method(self.server, *args, **kwargs)

    return forward


class Emulator:
    """A local RELAY server, on loopback or in memory (async context manager).

    Args:
        project / token: Accepted credentials (``None``: any non-empty pair).
        jwt_tokens: Accepted JWTs.
        time_scale: Multiplies every simulated duration (0.001 in tests on a real
            clock; 1.0 under a virtual clock).
        listen: ``False``: open no socket; clients in this process connect through
            :attr:`transport` (see the module docstring).  No TLS or control
            endpoint then.
        host / port: Where to listen (port 0 = any free port).
        tls_cert / tls_key: PEM files; given both, the server speaks ``wss://``.
        control_port: Port of the HTTP control endpoint (``None``: off; 0: any free port).
        ping_interval: Real seconds between server ``signalwire.ping``s (``None``: only
            the one after connect).
        journal_size: Frames the journal retains.
    """

    def __init__(
        self,
        *,
        project: str | None = None,
        token: str | None = None,
        jwt_tokens: tuple[str, ...] | list[str] = (),
        time_scale: float = 1.0,
        listen: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        control_port: int | None = None,
        ping_interval: float | None = 10.0,
        journal_size: int = 200_000,
    ) -> None:
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if not listen and (tls_cert is not None or control_port is not None):
            raise ValueError(
                "an in-memory emulator (listen=False) serves no TLS and no control "
                "endpoint: both need sockets"
            )
        self.server = EmulatorServer(
            project=project,
            token=token,
            jwt_tokens=tuple(jwt_tokens),
            time_scale=time_scale,
            ping_interval=ping_interval,
            journal_size=journal_size,
        )
        self._listen = listen
        self._bind_host, self._bind_port = host, port
        if not listen:  # reserved (RFC 2606): without the memory transport it never resolves
            self._bind_host = f"relaykit-emulator-{next(_memory_ids)}.invalid"
        self._transport: MemoryTransport | None = None
        self._tls = (tls_cert, tls_key) if tls_cert and tls_key else None
        self._ssl_context: ssl.SSLContext | None = None
        self._control_port = control_port
        self._service = StreamService(self.server, self._changed_now)
        self._tg: anyio.abc.TaskGroup | None = None
        self._changed = anyio.Event()
        self._waiters = 0  # tasks in _wait: only they need _changed
        self._floods: list[tuple[Flood, anyio.Event]] = []
        self._listeners: list[anyio.abc.Listener[Any]] = []
        self.port = 0
        self.control_port: int | None = None
        self._handles: dict[str, EmulatedCall] = {}

    # ------------------------------------------------------------------ addresses
    @property
    def listening(self) -> bool:
        """Whether the emulator listens on a socket (``False``: in memory only)."""
        return self._listen

    @property
    def host(self) -> str:
        """``"127.0.0.1:PORT"`` (in memory ``relaykit-emulator-N.invalid``): a client's ``host``."""
        return f"{self._bind_host}:{self.port}" if self._listen else self._bind_host

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:PORT`` (``wss://`` with TLS; ``ws://relaykit-emulator-N.invalid``
        in memory): what a client takes as its ``url``."""
        return f"{'wss' if self._tls else 'ws'}://{self.host}"

    @property
    def transport(self) -> MemoryTransport:
        """Connects clients of this process to this emulator in memory (no TLS).

        Pass it with :attr:`url`: ``RelayClient(url=emu.url, transport=emu.transport)``.
        """
        if self._transport is None:
            # Imported here: relaykit.testing builds on this module, not the reverse.
            from relaykit.testing import MemoryTransport

            self._transport = MemoryTransport(self)
        return self._transport

    def accepts(self, host: str, port: int) -> bool:
        """Whether a client's *host* and *port* name this emulator (in memory: the host)."""
        if not self._listen:
            return host == self._bind_host
        return host == self._bind_host and port == self.port

    @property
    def control_url(self) -> str | None:
        """``http://127.0.0.1:CONTROL_PORT`` when the control endpoint runs."""
        return (
            None if self.control_port is None else (f"http://{self._bind_host}:{self.control_port}")
        )

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> Emulator:
        self.server.epoch_offset = time.time() - anyio.current_time()
        if not self._listen:
            self._tg = anyio.create_task_group()
            await self._tg.__aenter__()
            self._tg.start_soon(self._service.run_timer)
            logger.info("emulator: in memory at %s", self.url)
            return self
        tcp = await anyio.create_tcp_listener(
            local_host=self._bind_host, local_port=self._bind_port
        )
        self.port = tcp.extra(anyio.abc.SocketAttribute.local_port)
        if self._tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self._tls[0], self._tls[1])
            self._ssl_context = context
        self._listeners.append(tcp)
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(tcp.serve, functools.partial(self._service.accept, self._ssl_context))
        self._tg.start_soon(self._service.run_timer)
        if self._control_port is not None:
            ctl = await anyio.create_tcp_listener(
                local_host=self._bind_host, local_port=self._control_port
            )
            self.control_port = ctl.extra(anyio.abc.SocketAttribute.local_port)
            self._listeners.append(ctl)
            self._tg.start_soon(ctl.serve, functools.partial(serve_control, self))
        logger.info("emulator: listening on %s", self.url)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tg is None:
            return
        self._tg.cancel_scope.cancel()
        try:
            await self._tg.__aexit__(exc_type, exc, tb)
        finally:
            self._tg = None
            for listener in self._listeners:
                with anyio.CancelScope(shield=True):
                    await listener.aclose()
            self._listeners.clear()

    # ------------------------------------------------------------------ I/O plumbing
    def _changed_now(self) -> None:
        """The server took input: wake a finished flood's waiter, and any waiters."""
        for flood, done in self._floods:
            if flood.done:
                done.set()
        if self._waiters:
            self._changed.set()
            self._changed = anyio.Event()

    def serve_stream(self, stream: ServerStream) -> None:
        """Serve *stream*, already connected, as one more client connection.

        How memory connections arrive (:attr:`transport`), served in the
        emulator's task group by the code that serves an accepted socket.

        Raises:
            ConnectionRefusedError: the emulator is not running (before
                ``__aenter__`` or after ``__aexit__``), as a closed port refuses.
        """
        if self._tg is None or self._tg.cancel_scope.cancel_called:
            raise ConnectionRefusedError(
                errno.ECONNREFUSED, f"the emulator at {self.url} is not running"
            )
        self._tg.start_soon(self._service.serve, stream)

    async def _wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ASYNC109
        self._waiters += 1
        try:
            with anyio.fail_after(timeout):
                while not predicate():
                    await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(
                f"emulator: timed out after {timeout} s waiting for {what}"
            ) from None
        finally:
            self._waiters -= 1

    # ------------------------------------------------------------------ calls & messages
    async def wait_for_subscriber(self, context: str, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until a connected client receives *context*.

        Raises:
            TimeoutError: if none does within *timeout* seconds.
        """
        await self._wait(
            lambda: bool(self.server.subscribers(context)),
            timeout,
            f"a client subscribed to {context!r}",
        )

    def subscribed_contexts(self) -> list[str]:
        """The contexts that connected clients receive now, sorted (for error messages)."""
        return self.server.sessions.subscribed_contexts()

    async def place_call(
        self,
        context: str,
        script: Caller | None = None,
        *,
        from_number: str = "+15550000001",
        to_number: str = "+15550000002",
        wait_subscriber: float = 5.0,
    ) -> EmulatedCall:
        """Place an inbound call on *context* whose far end follows *script*.

        Waits up to *wait_subscriber* seconds for a client to receive the context.

        Raises:
            TimeoutError: if no client subscribes in time.
        """
        await self.wait_for_subscriber(context, wait_subscriber)
        call = self.server.place_call(
            context, script or Caller(), anyio.current_time(), from_number, to_number
        )
        self._service.after()
        return self.call(call.call_id)

    def call(self, call_id: str) -> EmulatedCall:
        """A handle on any call the emulator knows (placed, dialed, connected).

        Raises:
            KeyError: for an unknown call id.
        """
        handle = self._handles.get(call_id)
        if handle is None:
            handle = self._handles[call_id] = EmulatedCall(self, self.server.records[call_id])
        return handle

    @property
    def calls(self) -> list[EmulatedCall]:
        """Handles on every call so far, oldest first."""
        return [self.call(cid) for cid in self.server.records]

    async def send_inbound_message(
        self,
        *,
        context: str,
        from_number: str,
        to_number: str,
        body: str = "",
        media: list[str] | None = None,
        wait_subscriber: float = 5.0,
    ) -> str:
        """Deliver an inbound SMS/MMS (``messaging.receive``) to a subscriber; returns its id.

        Raises:
            TimeoutError: if no client subscribes to *context* in time.
            ValueError: without body and media.
        """
        await self.wait_for_subscriber(context, wait_subscriber)
        msg = self.server.send_inbound_message(
            context, from_number, to_number, anyio.current_time(), body, media
        )
        self._service.after()
        return msg.message_id

    @property
    def messages(self) -> list[MessageRecord]:
        """Every message handled so far (outbound sends and injected inbound)."""
        return list(self.server.messages.values())

    async def wait_message_state(
        self,
        message_id: str,
        states: tuple[str, ...] = ("delivered", "undelivered", "failed"),
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> MessageRecord:
        """Wait until message *message_id* reaches one of *states*."""
        await self._wait(
            lambda: (
                message_id in self.server.messages
                and self.server.messages[message_id].state in states
            ),
            timeout,
            f"message {message_id} to reach {states}",
        )
        return self.server.messages[message_id]

    configure_number = _on_server(EmulatorServer.configure_number)
    fail_messages_to = _on_server(EmulatorServer.fail_messages_to)

    # ------------------------------------------------------------------ journal
    def journal(
        self, method: str | None = None, direction: str | None = None
    ) -> list[JournalEntry]:
        """Frames so far matching *method* (a method or an event type) and *direction*."""
        return self.server.journal.query(method, direction)

    def save_journal(self, path: str | os.PathLike[str]) -> int:
        """Write the journal so far to *path* as JSONL, credentials scrubbed.

        The file is what ``relaykit trace`` draws (``docs/trace.md``).  Returns
        how many frames were written.
        """
        from relaykit._trace import dump_journal  # standard library only

        with open(path, "w", encoding="utf-8") as out:
            return dump_journal(self.journal(), out)

    async def wait_for_journal(
        self,
        method: str | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        direction: str | None = None,
    ) -> list[JournalEntry]:
        """Wait until at least *count* frames match; returns them."""
        journal = self.server.journal
        await self._wait(
            lambda: journal.count(method, direction) >= count,
            timeout,
            f"{count} journal entries for {method!r}",
        )
        return journal.query(method, direction)

    # ------------------------------------------------------------------ faults
    async def drop_connections(self) -> int:
        """Abort every client socket (no close frame); returns how many."""
        handles = self._service.abort_all()
        service = self._service
        await self._wait(
            lambda: not any(service.is_live(h) for h in handles), 5.0, "connections to drop"
        )
        return len(handles)

    def go_half_open(self) -> int:
        """Stop reading and answering on every current connection (sockets stay open).
        New connections work normally.  Returns how many connections froze."""
        return len(self.server.freeze())

    async def server_disconnect(self, restart: bool = False, timeout: float = 5.0) -> int:  # noqa: ASYNC109
        """Send ``signalwire.disconnect`` (``restart`` as given) to every client and close
        each socket once the client replies; returns how many were asked."""
        before = set(self.server.ready_connections())
        count = self.server.server_disconnect(anyio.current_time(), restart)
        self._service.after()
        await self._wait(
            lambda: not before & set(self._service.io), timeout, "clients to disconnect"
        )
        return count

    fail_next = _on_server(EmulatorServer.fail_next)
    lose_answer_to_next = _on_server(EmulatorServer.lose_answer_to_next)

    def delay_responses(self, seconds: float) -> None:
        """Handle every later request *seconds* real seconds after it arrives (0 = off)."""
        self.server.response_delay = max(0.0, float(seconds))

    async def inject_raw(self, payload: str | bytes) -> int:
        """Send *payload* to every client as one frame (text for str, binary for bytes)."""
        count = self.server.inject_raw(payload, anyio.current_time())
        self._service.after()
        return count

    async def inject_oversized(self, size: int | None = None) -> int:
        """Send every client a valid text frame over its 10 MiB cap."""
        return await self.inject_raw(self.server.oversized_frame(size))

    async def ping_clients(self, timeout: float = 5.0) -> int:  # noqa: ASYNC109
        """Send ``signalwire.ping`` to every client; returns how many answered in time."""
        ids = self.server.ping_clients(anyio.current_time())
        self._service.after()
        with contextlib.suppress(TimeoutError):
            await self._wait(lambda: ids <= self.server.pongs, timeout, "pongs")
        return len(ids & self.server.pongs)

    async def flood_events(
        self,
        count: int,
        calls: list[str] | None = None,
        window: int = 100,
        timeout: float = 60.0,  # noqa: ASYNC109
    ) -> FloodResult:
        """Benchmark hook: push *count* ``calling.call.play`` events (control ids
        ``flood-<call_id>``, states alternating playing/finished) round robin over the
        live calls (*calls*: their ids; default all), never more than *window* unACKed,
        and return when every event was ACKed (or its connection was lost).

        Raises:
            TimeoutError: if the clients do not ACK everything within *timeout*.
        """
        start = anyio.current_time()
        journal_on = self.server.journal.enabled
        self.server.journal.enabled = False  # keep the benchmark's cost on the client
        try:
            flood = self.server.flood(count, anyio.current_time(), calls, window)
            # A dedicated event that _after sets once the flood is done: the waiter
            # is not woken for every ACK of the flood.
            done = anyio.Event()
            entry = (flood, done)
            self._floods.append(entry)
            try:
                self._service.after()
                with anyio.fail_after(timeout):
                    await done.wait()
            except TimeoutError:
                raise TimeoutError(
                    f"emulator: timed out after {timeout} s waiting for the flood to be ACKed"
                ) from None
            finally:
                self._floods.remove(entry)
        finally:
            self.server.journal.enabled = journal_on
        return FloodResult(flood.sent, flood.acked, anyio.current_time() - start)
