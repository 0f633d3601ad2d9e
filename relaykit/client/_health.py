"""Connection state you can watch: typed connection changes and ``client.health()``.

The core already decides every connection fact and reports it as an event
(``SessionAuthenticated``, ``ConnectionClosed``, ``ReconnectScheduled``,
``AuthenticationRejected``/``AuthenticationFatal``); the driver says when it
opens a socket.  :class:`ConnectionMonitor` turns those into small frozen
dataclasses for the program (``@client.on_connection_state``) and keeps what a
readiness probe needs (:meth:`RelayClient.health`).  It sees only session
events, never the per-call event stream, so it costs nothing per call.

Times are on the client's event-loop clock (``runtime.current_time()``, the
same clock as every timeout), not wall-clock time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from relay_proto import (
    AuthenticationFatal,
    AuthenticationRejected,
    ConnectionClosed,
    ConnectionDead,
    Event,
    ReconnectScheduled,
    RelayConnection,
    SessionAuthenticated,
)

if TYPE_CHECKING:
    from ._dispatch import Dispatcher

__all__ = [
    "AuthenticationAbandoned",
    "AuthenticationRefused",
    "Connected",
    "Connecting",
    "ConnectionChange",
    "ConnectionMonitor",
    "Disconnected",
    "Health",
    "Reconnecting",
    "SessionResumed",
    "SessionStartedFresh",
]

logger = logging.getLogger("relaykit.client")

#: The values of :attr:`Health.state`.
DISCONNECTED = "disconnected"
CONNECTING = "connecting"
CONNECTED = "connected"
RECONNECTING = "reconnecting"
FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionChange:
    """One change of the connection, as ``@client.on_connection_state`` receives it.

    Attributes:
        at: When it happened, on the client's event-loop clock.
    """

    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Connecting(ConnectionChange):
    """A socket is being opened.

    Attributes:
        attempt: 1 for the first attempt since the last session was up, then 2, 3...
    """

    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Connected(ConnectionChange):
    """The session is authenticated: requests go out at once, calls come in.

    Attributes:
        identity: The connection identity the server reported.
        protocol: The server-assigned session protocol (the resume handle).
        session_restored: True when the server resumed the previous session.
    """

    identity: str
    protocol: str
    session_restored: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionResumed(ConnectionChange):
    """After a loss, the server resumed the old session: calls and events carried on.

    Follows the :class:`Connected` of the reconnect.

    Attributes:
        downtime: Seconds from the loss to the new session.
    """

    downtime: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStartedFresh(ConnectionChange):
    """After a loss, the server started a new session: the old one's state is gone.

    Follows the :class:`Connected` of the reconnect.  Events of the old
    session never arrive; pending dials failed (``connection_lost``).

    Attributes:
        downtime: Seconds from the loss to the new session.
    """

    downtime: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnected(ConnectionChange):
    """The connection closed.

    Attributes:
        reason: Why (the core's reason: ``"server closed the connection"``,
            ``"signalwire.ping timed out ..."``, ``"closed by the client"``...).
        will_reconnect: True when a :class:`Reconnecting` follows; False for a
            close for good (``disconnect()``, fatal authentication).
    """

    reason: str
    will_reconnect: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconnecting(ConnectionChange):
    """A reconnect is scheduled.

    Attributes:
        attempt: The core's reconnect attempt number (1, 2, ...; the backoff grows with it).
        delay: Seconds until the next socket is opened.
    """

    attempt: int
    delay: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticationRefused(ConnectionChange):
    """``signalwire.connect`` was rejected (or timed out); the client retries.

    Attributes:
        code: The server's error code (-1 for a connect that timed out).
        message: The server's message (never the credentials).
        attempt: The rejection count (the third before a first success is fatal:
            :class:`AuthenticationAbandoned` follows).
    """

    code: int
    message: str
    attempt: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticationAbandoned(ConnectionChange):
    """Authentication was rejected too often: the client stopped for good.

    ``connect()`` / ``run()`` raise :class:`~relay_proto.AuthenticationFailed`;
    the state is ``"failed"``.

    Attributes:
        code: The last rejection's error code.
        message: The last rejection's message.
    """

    code: int
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    """A snapshot for readiness probes (:meth:`RelayClient.health`).

    Every field is a plain value copied when the snapshot was taken, so the
    object can be handed to another thread.  Times are on the client's
    event-loop clock; the ``seconds_*`` fields are ages at :attr:`at`.

    Attributes:
        at: When the snapshot was taken.
        ready: Connected, the session healthy (not being closed by the server)
            and the client not draining: it takes calls.
        state: ``"disconnected"``, ``"connecting"``, ``"connected"``,
            ``"reconnecting"`` or ``"failed"`` (authentication).
        since: When that state began (None before the first connect).
        seconds_in_state: ``at - since``.
        last_frame_received: When the server last sent anything (None before any).
        seconds_since_last_frame: Its age.
        last_ping_rtt: Seconds the last answered ``signalwire.ping`` took.
        in_flight_requests: Requests on the wire awaiting an answer.
        queued_requests: Requests waiting offline for the next session.
        active_calls: Calls the client tracks (inbound and dialled).
        handlers_running: ``on_call``/``on_message`` handlers still running.
        reconnects: Reconnects scheduled so far (each loss or failed attempt).
        draining: ``drain()`` was called: new calls are passed back.
    """

    at: float
    ready: bool
    state: str
    since: float | None
    seconds_in_state: float | None
    last_frame_received: float | None
    seconds_since_last_frame: float | None
    last_ping_rtt: float | None
    in_flight_requests: int
    queued_requests: int
    active_calls: int
    handlers_running: int
    reconnects: int
    draining: bool

    def as_dict(self) -> dict[str, Any]:
        """The snapshot as a dict of JSON values (for a ``/ready`` body)."""
        return asdict(self)


Listener = Callable[[ConnectionChange], Any]
L = TypeVar("L", bound=Listener)


class ConnectionMonitor:
    """Turns the core's session events into :class:`ConnectionChange` s; builds :class:`Health`.

    One per client (the dispatcher's ``monitor``), living across reconnects
    and restarts.  :meth:`note` is called by the dispatcher for session
    events, :meth:`connecting` by the driver before it opens a socket.
    """

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher
        self._listeners: list[Listener] = []
        self.state = DISCONNECTED
        self.since: float | None = None
        #: Reconnects scheduled so far (ReconnectScheduled events).
        self.reconnects = 0
        self._attempt = 0
        # When the last ready session was lost (None while up, or never up).
        self._down_at: float | None = None

    def add_listener(self, listener: L) -> L:
        """Register *listener* (sync or async) for every change; returns it."""
        if not callable(listener):
            raise TypeError(f"on_connection_state needs a callable, got {listener!r}")
        self._listeners.append(listener)
        return listener

    # ------------------------------------------------------------------ inputs

    def connecting(self) -> None:
        """The driver is about to open a socket."""
        self._attempt += 1
        self._emit(Connecting(at=self._now(), attempt=self._attempt), CONNECTING)

    def note(self, event: Event) -> None:
        """One session event of the core (the dispatcher passes every non-RELAY event)."""
        kind = type(event)
        if kind is SessionAuthenticated:
            assert isinstance(event, SessionAuthenticated)
            now = self._now()
            self._attempt = 0
            self._emit(
                Connected(
                    at=now,
                    identity=event.identity,
                    protocol=event.protocol,
                    session_restored=event.session_restored,
                ),
                CONNECTED,
            )
            down_at, self._down_at = self._down_at, None
            if down_at is not None:
                downtime = max(0.0, now - down_at)
                if event.session_restored:
                    self._emit(SessionResumed(at=now, downtime=downtime), CONNECTED)
                else:
                    self._emit(SessionStartedFresh(at=now, downtime=downtime), CONNECTED)
        elif kind is ConnectionDead:
            if self.state == CONNECTED and self._down_at is None:
                self._down_at = self._now()
        elif kind is ConnectionClosed:
            assert isinstance(event, ConnectionClosed)
            now = self._now()
            if event.will_reconnect:
                if self._down_at is None:
                    self._down_at = now
            else:
                self._down_at = None
            if event.will_reconnect:
                state = RECONNECTING
            else:
                state = FAILED if self.state == FAILED else DISCONNECTED
            change = Disconnected(at=now, reason=event.reason, will_reconnect=event.will_reconnect)
            self._emit(change, state)
        elif kind is ReconnectScheduled:
            assert isinstance(event, ReconnectScheduled)
            self.reconnects += 1
            scheduled = Reconnecting(at=self._now(), attempt=event.attempt, delay=event.delay)
            self._emit(scheduled, RECONNECTING)
        elif kind is AuthenticationRejected:
            assert isinstance(event, AuthenticationRejected)
            self._emit(
                AuthenticationRefused(
                    at=self._now(),
                    code=event.code,
                    message=event.message,
                    attempt=event.attempt,
                ),
                self.state,  # the socket's loss (Disconnected) changes the state
            )
        elif kind is AuthenticationFatal:
            assert isinstance(event, AuthenticationFatal)
            self._emit(
                AuthenticationAbandoned(at=self._now(), code=event.code, message=event.message),
                FAILED,
            )

    # ----------------------------------------------------------------- outputs

    def health(self, conn: RelayConnection | None) -> Health:
        """A :class:`Health` snapshot (call it on the client's event loop)."""
        dispatcher = self._dispatcher
        now = self._now()
        since = self.since
        if conn is not None:
            stats = conn.stats
            last, rtt = stats.last_received, stats.last_ping_rtt
            in_flight, queued = stats.in_flight, stats.queued
            session_ok = conn.is_ready
        else:
            last = rtt = None
            in_flight = queued = 0
            session_ok = False
        draining = dispatcher.draining
        return Health(
            at=now,
            ready=self.state == CONNECTED and session_ok and not draining,
            state=self.state,
            since=since,
            seconds_in_state=None if since is None else max(0.0, now - since),
            last_frame_received=last,
            seconds_since_last_frame=None if last is None else max(0.0, now - last),
            last_ping_rtt=rtt,
            in_flight_requests=in_flight,
            queued_requests=queued,
            active_calls=len(dispatcher.calls),
            handlers_running=dispatcher.handlers_running,
            reconnects=self.reconnects,
            draining=draining,
        )

    # ---------------------------------------------------------------- internals

    def _now(self) -> float:
        return self._dispatcher.runtime.current_time()

    def _emit(self, change: ConnectionChange, state: str) -> None:
        if state != self.state or self.since is None:
            self.state = state
            self.since = change.at
        run = self._dispatcher.run_callback
        for listener in self._listeners:
            run(listener, change, f"connection-state listener {_name(listener)}")


def _name(func: object) -> str:
    return getattr(func, "__qualname__", None) or repr(func)
