"""The RELAY session over text messages (protocol reference §3).

This layer sits between WebSocket framing (:mod:`._ws`, or a transport that
frames WebSocket itself) and the routing bookkeeping (:mod:`._routing`).  It
receives and sends *text messages* and knows the session rules:

* ``signalwire.connect`` first on every socket, with ``version`` {2,0,0},
  ``agent``, ``event_acks: true``, ``authentication`` and ``contexts``; on a
  reconnect also the ``protocol`` and ``authorization_state`` of the previous
  session so the server resumes it (§3.1, §3.2, §8e).
* Every ``signalwire.event`` with an id is ACKed with exactly that id *before*
  it is processed (§3.3); server ``signalwire.ping`` and
  ``signalwire.disconnect`` are answered (§3.4, §3.5).
* Client pings every ``ping_interval`` (15 s); 3 consecutive failures, or one
  ping timing out (``request_timeout``, 10 s), declare the connection dead
  (§3.8).
* Every request has a timeout (default 10 s).  A request that times out while
  on the wire declares the connection dead (half-open) unless it was
  ``signalwire.connect``.  Each request gets exactly one outcome event.
* Silent-server detection, with the defaults: a server that keeps TCP open
  but answers nothing is noticed within ``request_timeout`` (10 s) of sending
  a request, and within ``ping_interval + request_timeout`` (15 + 10 = 25 s)
  of its last message when idle (the official client's 30 s ping made that
  up to 40 s).  Once the server has sent a ``signalwire.ping`` on this socket,
  the server-ping watchdog also applies: nothing at all received for
  ``server_ping_watchdog`` seconds (15, the official SDKs' value) declares the
  connection dead, as the JS SDK does (the Python SDK only logs).  Any
  message restarts the watchdog, not only a ping: a server that is streaming
  events is plainly alive.
* Requests made while not authenticated wait in a bounded FIFO queue and go
  out exactly once, with their original ids, after the next successful
  ``signalwire.connect``.  Their timeouts keep running while they wait.
* Reconnect backoff: 1 s doubling to 30 s, with jitter ``delay * 0.1 *
  jitter()`` added (still capped at 30 s); it resets only when the lost
  session had stayed authenticated for ``reconnect_reset_after`` seconds (10),
  not when a WebSocket merely opens (see :mod:`._backoff`).
* Redelivered events are ACKed but processed once: a ``signalwire.event``
  whose request id is among the last :data:`~._recent.MAX_RECENT_EVENT_IDS`
  of this session is dropped after its ACK (the window is cleared when a
  session starts afresh, without resume).  An offer (``calling.call.receive``)
  or an inbound message is not put in that window: the router drops its
  redelivery by the call's or the message's own id
  (:meth:`~._routing.Router.drops_redelivery`), and one window per fact keeps
  a held call's memory small.
* ``signalwire.connect`` rejected (or timed out) 3 times in a row before the
  first success is fatal: ``AuthenticationFatal``, state ``FAILED``.

Credentials and ``authorization_state`` are never logged and never put into
an event (see docs/architecture.md, "Logging").
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ._backoff import BACKOFF_MAX, BACKOFF_MIN, BACKOFF_RESET_AFTER, Backoff
from ._credentials import SessionIdentity, check_contexts
from ._errors import LocalProtocolError, QueueFullError
from ._event_base import envelope_timestamp
from ._events import (
    AuthenticationFatal,
    AuthenticationRejected,
    ConnectionClosed,
    ConnectionDead,
    Event,
    ProtocolErrorReceived,
    ReconnectScheduled,
    RequestCancelled,
    RequestFailed,
    RequestTimedOut,
    ResponseReceived,
    ServerDisconnectRequested,
    SessionAuthenticated,
    parse_relay_event,
)
from ._recent import MAX_RECENT_EVENT_IDS, RecentIds
from ._requests import CONNECT, INTERNAL, PING, USER, PendingRequest, RequestTable
from ._routing import Router, is_call_scoped
from ._state import SessionInput, SessionState, SessionStateMachine
from .rpc import (
    Request,
    Response,
    ResponseError,
    decode,
    dumps,
    encode_request,
    encode_result,
    is_success_code,
    result_code,
)

__all__ = [
    "CLOSE_TIMEOUT",
    "DEFAULT_AGENT",
    "DEFAULT_PING_INTERVAL",
    "SERVER_PING_WATCHDOG",
    "ConnectionStats",
    "Session",
]

logger = logging.getLogger("relaykit.core")

DEFAULT_AGENT: Final = "relaykit/0.1.0"
#: How long a user close waits for the server's WebSocket close reply.
CLOSE_TIMEOUT: Final = 5.0
#: Seconds between client pings.  Half the official client's 30 s, so that an
#: idle half-open connection is noticed within 15 + 10 (ping timeout) = 25 s.
DEFAULT_PING_INTERVAL: Final = 15.0
#: Once the server has pinged, this much silence means the connection is dead.
SERVER_PING_WATCHDOG: Final = 15.0
#: Backoff bounds (seconds) and the consecutive-failure limits of §3.8.
MAX_PING_FAILURES: Final = 3
MAX_AUTH_REJECTIONS: Final = 3
#: How many ids of requests cancelled by a user close are remembered, so that
#: their late responses are dropped quietly instead of as protocol errors.
MAX_CANCELLED_IDS: Final = 1024

# Pre-encoded pieces of the reply every server request gets (the ACK of an event,
# the answer to a ping or disconnect): '{"jsonrpc":"2.0","id":<id>,"result":{}}'.
_ACK_HEAD: Final = '{"jsonrpc":"2.0","id":'
_ACK_TAIL: Final = ',"result":{}}'

_S = SessionState
_I = SessionInput
_LIVE_STATES: Final = frozenset({_S.CONNECTING, _S.AUTHENTICATING, _S.READY})
# While the close handshake runs, responses and events still arrive.
_RECEIVING_STATES: Final = _LIVE_STATES | {_S.CLOSING}
_REFUSING_STATES: Final = frozenset({_S.CLOSING, _S.CLOSED, _S.FAILED})


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionStats:
    """A copy of the core's liveness and request counters (:attr:`RelayConnection.stats`).

    Times are on the caller's clock (the ``now`` it passes in); plain values,
    so a copy can be handed to another thread.

    Attributes:
        last_received: When the last message from the server arrived (any
            socket), or None before the first.
        last_ping_rtt: Round trip in seconds of the last answered client
            ``signalwire.ping``, or None before the first answer.
        in_flight: Requests on the wire awaiting their answer (the core's own
            ``signalwire.connect`` and pings included).
        queued: Requests waiting in the offline queue for an authenticated socket.
    """

    last_received: float | None
    last_ping_rtt: float | None
    in_flight: int
    queued: int


def _redacted_excerpt(text: str | bytes) -> str:
    # Never copy server input that may hold authorization_state into an event.
    sample = text[:120] if isinstance(text, str) else text[:120].decode("utf-8", "replace")
    return "<redacted>" if "authorization_state" in sample else sample


class Session:
    """The RELAY session state machine over text messages.

    Args:
        send_text: Queues one outgoing text message on the current socket;
            returns False when nothing can be sent (e.g. WebSocket not open).
        start_close: Starts a polite close of the current socket; returns True
            when the close handshake is now in progress (a reply will follow).
        events: The queue the session (and its router) append events to.
        make_id: Returns a fresh request id (a string unique among pending requests).
        jitter: Returns a float in [0, 1); see the module docstring for its use.
        request_timeout, ping_interval, max_queue, max_active_calls, agent,
        reconnect_min_delay, reconnect_max_delay, reconnect_reset_after,
        server_ping_watchdog, over_capacity:
            As for :class:`~relay_proto.RelayConnection`.

    :class:`~relay_proto.RelayConnection` owns one of these and drives it; the
    methods here mirror its public ones (see there for what to call when).
    """

    def __init__(
        self,
        *,
        send_text: Callable[[str], bool],
        start_close: Callable[[], bool],
        events: deque[Event],
        make_id: Callable[[], str],
        jitter: Callable[[], float],
        request_timeout: float,
        ping_interval: float,
        max_queue: int,
        max_active_calls: int,
        agent: str,
        reconnect_min_delay: float = BACKOFF_MIN,
        reconnect_max_delay: float = BACKOFF_MAX,
        reconnect_reset_after: float = BACKOFF_RESET_AFTER,
        server_ping_watchdog: float = SERVER_PING_WATCHDOG,
        over_capacity: str = "ignore",
    ) -> None:
        self._send_text = send_text
        self._start_close = start_close
        self._events = events
        self._emit = events.append
        self._make_id = make_id
        self.request_timeout = request_timeout
        self.ping_interval = ping_interval
        self.max_queue = max_queue
        self.agent = agent
        self.reconnect_reset_after = reconnect_reset_after
        self.server_ping_watchdog = server_ping_watchdog
        self.router = Router(
            self._emit, max_active_calls, send=self._send_internal, over_capacity=over_capacity
        )
        # The time of the input being handled, for requests the router sends
        # from inside dispatch (the core has no clock of its own).
        self._now = 0.0
        self._machine = SessionStateMachine()
        # Session identity: set by open_session, updated by the server.
        self.credentials: SessionIdentity | None = None
        self.identity: str | None = None
        # Every request until its outcome: by id, the offline FIFO, the timeouts.
        self._table = RequestTable()
        # Per-socket conditions (see _state.py for why they are not states).
        self._dead = False
        self._draining = False
        self._handshake_deadline: float | None = None
        # Liveness pings.
        self._ping_id: str | None = None
        self._next_ping_at: float | None = None
        self._ping_failures = 0
        # Reconnect backoff and the authentication-rejection bound.
        self._backoff = Backoff(jitter, reconnect_min_delay, reconnect_max_delay)
        self._ever_authenticated = False
        self._auth_rejections = 0
        # When the current socket's session authenticated (None before): the
        # backoff resets only for sessions that stayed up reconnect_reset_after.
        self._authenticated_at: float | None = None
        # The server-ping watchdog: armed by the first server ping on a socket,
        # restarted by every message received.
        self._server_pinged = False
        self._last_heard = 0.0
        # For stats(): the last message received (None before any), the last ping's round trip.
        self._last_received: float | None = None
        self._last_ping_rtt: float | None = None
        # Ids of recent signalwire.event requests (redeliveries are dropped).
        self._recent_events = RecentIds(MAX_RECENT_EVENT_IDS)
        self._close_deadline: float | None = None
        # Ids of sent requests that close() cancelled (insertion-ordered, bounded).
        self._cancelled: dict[str, None] = {}

    # ------------------------------------------------------------------ views

    @property
    def state(self) -> SessionState:
        """The current :class:`SessionState`."""
        return self._machine.state

    @property
    def is_ready(self) -> bool:
        """True when requests go out immediately (authenticated, socket healthy)."""
        return self._machine.state is _S.READY and not self._dead and not self._draining

    def stats(self) -> ConnectionStats:
        """Liveness and request counters, copied (see :class:`ConnectionStats`)."""
        table = self._table
        queued = table.queued
        return ConnectionStats(
            last_received=self._last_received,
            last_ping_rtt=self._last_ping_rtt,
            in_flight=len(table) - queued,
            queued=queued,
        )

    # --------------------------------------------------------------- commands

    def open_session(self, credentials: SessionIdentity) -> None:
        """Store credentials, contexts and optional resume state (once, before connecting)."""
        if self.credentials is not None:
            raise LocalProtocolError("open_session() may only be called once")
        if self._machine.state is not _S.IDLE:
            raise LocalProtocolError(
                f"open_session() must come before connection_made() "
                f"(state is {self._machine.state.value})"
            )
        self.credentials = credentials

    def connection_made(self, now: float) -> None:
        """A socket to the server is open: start the WebSocket/RELAY handshake."""
        if self.credentials is None:
            raise LocalProtocolError("call open_session() before connection_made()")
        self._machine.process(_I.CONNECTION_MADE)
        # Per-socket conditions start fresh.  The WebSocket handshake gets the
        # request timeout: a server that accepts TCP and then stalls must not
        # hang the client forever.
        self._dead = False
        self._draining = False
        self._server_pinged = False
        self._authenticated_at = None
        self._backoff.clear()
        self._handshake_deadline = now + self.request_timeout

    def transport_opened(self, now: float) -> None:
        """The WebSocket is open: send ``signalwire.connect``.

        The backoff is *not* reset here (the official client does): see
        :mod:`._backoff` for why only a stable session resets it.
        """
        if not self._machine.can(_I.TRANSPORT_OPENED) or self._dead:
            return
        self._machine.process(_I.TRANSPORT_OPENED)
        self._handshake_deadline = None
        assert self.credentials is not None  # checked by connection_made
        params = self.credentials.connect_params(self.agent)
        request_id = self._new_id()
        # Never log this text: it carries the credentials.
        text = encode_request(request_id, "signalwire.connect", params)
        req = self._register(request_id, "signalwire.connect", text, now, None, CONNECT)
        self._transmit(req)

    def send_request(
        self, method: str, params: Mapping[str, Any], now: float, timeout: float | None = None
    ) -> str:
        """Send (or queue) one request; see :meth:`RelayConnection.send_request`."""
        state = self._machine.state
        if state in _REFUSING_STATES:
            raise LocalProtocolError(f"cannot send requests in state {state.value}")
        if not isinstance(method, str) or not method:
            raise LocalProtocolError("method must be a non-empty string")
        if method == "signalwire.connect":
            raise LocalProtocolError("signalwire.connect is sent by the core; use open_session()")
        if not isinstance(params, Mapping):
            raise LocalProtocolError(f"params of {method} must be a mapping")
        # Only an authenticated, healthy, non-draining socket takes requests now;
        # otherwise they queue, and the queue is bounded so that a long outage
        # cannot eat memory (the caller gets a clear QueueFullError instead).
        online = self.is_ready
        if not online and self._table.queued >= self.max_queue:
            raise QueueFullError(
                -1, f"offline request queue is full ({self.max_queue} requests waiting)"
            )
        request_id = self._new_id()
        # Encode now: the caller may reuse params afterwards, and a queued
        # request must go out exactly as it was asked for.
        try:
            text = encode_request(request_id, method, params)
        except (TypeError, ValueError) as exc:
            raise LocalProtocolError(
                f"params of {method} are not JSON-serialisable: {exc}"
            ) from exc
        req = self._register(request_id, method, text, now, timeout, USER, queue=not online)
        # Register actions/dials before anything can answer them.
        self.router.request_started(request_id, method, params)
        if online:
            self._transmit(req)
        return request_id

    def subscribe(self, contexts: Iterable[str], now: float) -> str:
        """Send ``signalwire.receive`` and remember the contexts for reconnects."""
        new = check_contexts(contexts, allow_empty=False)
        request_id = self.send_request("signalwire.receive", {"contexts": new}, now)
        # Only after the request was accepted (it may raise QueueFullError).
        if self.credentials is not None:
            self.credentials.add_contexts(new)
        return request_id

    def unsubscribe(self, contexts: Iterable[str], now: float) -> str:
        """Send ``signalwire.unreceive`` and forget the contexts."""
        old = check_contexts(contexts, allow_empty=False)
        request_id = self.send_request("signalwire.unreceive", {"contexts": old}, now)
        if self.credentials is not None:
            self.credentials.remove_contexts(old)
        return request_id

    def abandon_dial(self, tag: str, now: float) -> bool:
        """The application gave up on dial *tag*; see :meth:`RelayConnection.abandon_dial`."""
        if not isinstance(tag, str) or not tag:
            raise LocalProtocolError(f"tag must be a non-empty string, got {tag!r}")
        if self._machine.state in _REFUSING_STATES:
            return False
        self._now = now
        router = self.router
        request_id = router.pending_dial_request(tag)
        if request_id is not None:
            req = self._table.take_queued(request_id)
            if req is not None:
                # Never left the client: withdraw it, so nothing ever rings.
                self._emit(
                    RequestCancelled(
                        request_id=req.id, method=req.method, reason="dial abandoned", sent=False
                    )
                )
                router.request_abandoned(req.id, sent=False)
                return True
        return router.abandon_dial(tag)

    def close(self, now: float) -> None:
        """User close: cancel everything pending, close politely, never reconnect."""
        state = self._machine.state
        if state in (_S.CLOSING, _S.CLOSED, _S.FAILED):
            return
        # Only an open, live WebSocket can run a close handshake; without one
        # there is nothing to wait for and the client is closed at once.
        polite = state in (_S.AUTHENTICATING, _S.READY) and not self._dead
        if self.is_ready:
            # Dials end with the client: hang up their known legs now, so the
            # calling.end requests go out before the WebSocket close frame.
            self._now = now
            self.router.fail_all_dials("connection_lost")
        self._machine.process(_I.CLOSE)
        self._cancel_all("connection closed by the client")
        self._ping_id = None
        self._next_ping_at = None
        self._handshake_deadline = None
        self._backoff.clear()
        if polite and self._start_close():
            self._close_deadline = now + CLOSE_TIMEOUT
            return
        self._finish_close("closed by the client")

    # ----------------------------------------------------------------- inputs

    def receive_text(self, text: str, now: float) -> None:
        """Handle one complete text message from the server."""
        if self._dead or self._machine.state not in _RECEIVING_STATES:
            # Late input from a socket we already gave up on.
            return
        self._now = self._last_heard = self._last_received = now
        # decode() never raises: garbage comes back as Invalid with a reason.
        msg = decode(text)
        if isinstance(msg, Request):
            self._on_server_request(msg, now)
        elif isinstance(msg, Response):
            self._on_response(msg.id, msg, now)
        elif isinstance(msg, ResponseError):
            if msg.id is None:
                # A JSON-RPC error about something unparseable we sent (no id to match).
                self.protocol_problem(f"JSON-RPC error without id: {msg.code} {msg.message}")
            else:
                self._on_response(msg.id, msg, now)
        else:
            self.protocol_problem(msg.reason, _redacted_excerpt(text))

    def protocol_problem(self, message: str, data: str = "") -> None:
        """Report server input that was skipped (logged, and a ProtocolErrorReceived)."""
        logger.warning("protocol error from server (skipped): %s", message)
        self._emit(ProtocolErrorReceived(message=message, data=data))

    def transport_dead(self, reason: str, now: float) -> None:
        """The socket is unusable (bad frame, EOF, rejected handshake...)."""
        if self._machine.state is _S.CLOSING:
            self._finish_close(reason)
        else:
            self.declare_dead(reason)

    def transport_closed(self, code: int, reason: str, now: float) -> None:
        """The WebSocket close handshake finished."""
        if self._machine.state is _S.CLOSING:
            self._finish_close("closed by the client")
        else:
            suffix = f": {reason}" if reason else ""
            self.declare_dead(f"server closed the WebSocket (code {code}{suffix})")

    def declare_dead(self, reason: str) -> None:
        """Give up on the current socket: emit ConnectionDead once, then await connection_lost."""
        if self._dead or self._machine.state not in _LIVE_STATES:
            return
        self._dead = True
        logger.info("connection declared dead: %s", reason)
        self._emit(ConnectionDead(reason=reason))

    def connection_lost(self, now: float, reason: str) -> None:
        """The socket is gone: fail what was on the wire, schedule a reconnect."""
        state = self._machine.state
        # In BACKOFF this is either a duplicate report for the socket we already
        # gave up on (before the reconnect time: ignore it), or the adapter's
        # reconnect attempt failed (at/after the reconnect time: back off again).
        if state is _S.BACKOFF and self._backoff.is_stale_report(now):
            return
        self._machine.process(_I.CONNECTION_LOST)
        new_state = self._machine.state
        if new_state is not _S.BACKOFF:
            if state is _S.CLOSING:
                self._finish_close(reason)
            return
        was_connected = state in _LIVE_STATES
        authenticated_at = self._authenticated_at
        if authenticated_at is not None and now - authenticated_at >= self.reconnect_reset_after:
            # The session was stable: this loss is a fresh incident, not one
            # more failed attempt of a flapping server.
            self._backoff.reset()
        # Everything per-socket starts over on the next one.
        self._authenticated_at = None
        self._server_pinged = False
        self._dead = False
        self._draining = False
        self._handshake_deadline = None
        self._ping_id = None
        self._next_ping_at = None
        self._ping_failures = 0
        if was_connected:
            # In-flight requests will never be answered; queued ones wait for the next socket.
            for req in self._table.take_sent():
                if req.kind == USER:
                    self._emit(
                        RequestCancelled(
                            request_id=req.id, method=req.method, reason=reason, sent=True
                        )
                    )
                    self.router.request_abandoned(req.id, sent=True)
                elif req.kind == INTERNAL:
                    self.router.internal_outcome(req.id, False, lost=True)
            self.router.connection_lost(self._table.queued_ids())
            self._emit(ConnectionClosed(reason=reason, will_reconnect=True))
        self._schedule_reconnect(now)

    def handle_timer(self, now: float) -> None:
        """Run everything due at *now*: timeouts, pings, the reconnect and close deadlines."""
        self._now = now
        # Request timeouts first: they may declare the socket dead, which stops pings.
        for req in self._table.take_expired(now):
            self._on_timeout(req, now)
        # A server that accepts TCP but never finishes the WebSocket handshake.
        handshake_deadline = self._handshake_deadline
        if handshake_deadline is not None and now >= handshake_deadline:
            self._handshake_deadline = None
            self.declare_dead("WebSocket handshake timed out")
        # A user close whose WebSocket close reply never came.
        if self._close_deadline is not None and now >= self._close_deadline:
            self._finish_close("close handshake timed out")
        # The server-ping watchdog (JS SDK behaviour): a server that pinged and
        # then fell silent is gone, whether or not anything of ours is pending.
        watchdog = self._watchdog_deadline()
        if watchdog is not None and now >= watchdog:
            self.declare_dead(
                f"server-ping watchdog: nothing received for {self.server_ping_watchdog:g} s "
                "after the server's signalwire.ping"
            )
        # The adapter learnt the reconnect time from ReconnectScheduled; as a
        # timer it only needs to fire once.
        self._backoff.fire(now)
        # The client liveness ping (§3.4): one in flight at a time; its response
        # (or failure) schedules the next one.
        at = self._next_ping_at
        if at is not None and now >= at:
            self._next_ping_at = None
            if self._machine.state is _S.READY and not self._dead and self._ping_id is None:
                request_id = self._new_id()
                text = encode_request(request_id, "signalwire.ping", {})
                req = self._register(request_id, "signalwire.ping", text, now, None, PING)
                self._ping_id = request_id
                self._transmit(req)

    def get_timer(self) -> float | None:
        """The earliest deadline at which :meth:`handle_timer` must run, or None."""
        best = self._table.next_deadline()
        for candidate in (
            self._handshake_deadline,
            self._close_deadline,
            self._backoff.deadline,
            self._next_ping_at,
            self._watchdog_deadline(),
        ):
            if candidate is not None and (best is None or candidate < best):
                best = candidate
        return best

    # -------------------------------------------------------------- internals

    def _watchdog_deadline(self) -> float | None:
        """When the server-ping watchdog fires, or None while it is not armed."""
        if not self._server_pinged or self._dead or self._machine.state not in _LIVE_STATES:
            return None
        return self._last_heard + self.server_ping_watchdog

    def _send_internal(self, method: str, params: Mapping[str, Any]) -> str:
        """Send (or queue) a request on the core's own account (the router's hangups, passes).

        Not bounded by ``max_queue``: these are few (one per orphan leg or
        passed call) and must not fail because the application filled the
        queue.  Their outcomes go back to the router, never to the caller.
        """
        request_id = self._new_id()
        text = encode_request(request_id, method, params)
        online = self.is_ready
        req = self._register(request_id, method, text, self._now, None, INTERNAL, queue=not online)
        if online:
            self._transmit(req)
        return request_id

    def _new_id(self) -> str:
        """A fresh id from the injected ``make_id``, checked: ids key the request table."""
        request_id = self._make_id()
        if not isinstance(request_id, str) or not request_id:
            raise LocalProtocolError(f"make_id() returned {request_id!r}, not a non-empty string")
        if request_id in self._table:
            raise LocalProtocolError(f"make_id() returned {request_id!r}, which is still pending")
        return request_id

    def _register(
        self,
        request_id: str,
        method: str,
        text: str,
        now: float,
        timeout: float | None,
        kind: int,
        *,
        queue: bool = False,
    ) -> PendingRequest:
        """Create and track a request (validating its timeout); the caller sends it."""
        if timeout is None:
            timeout = self.request_timeout
        elif not (isinstance(timeout, (int, float)) and 0 < timeout < float("inf")):
            raise LocalProtocolError(f"timeout must be a positive number, got {timeout!r}")
        deadline = now + timeout
        req = PendingRequest(request_id, method, text, deadline, timeout, kind)
        self._table.add(req, queue=queue)
        return req

    def _transmit(self, req: PendingRequest) -> None:
        """Put *req* on the wire.  Only sent requests can be answered (or half-open)."""
        req.sent = True
        self._send_text(req.text)
        # A sent request is never sent again (a lost socket cancels it), so its
        # text can go now rather than when it is answered.
        req.text = ""

    def _reply(self, request_id: str | int) -> None:
        """Answer a server request with ``{}``, echoing its id exactly (pre-encoded template)."""
        self._send_text(_ACK_HEAD + dumps(request_id) + _ACK_TAIL)

    def _on_server_request(self, msg: Request, now: float) -> None:
        """A request from the server: event, ping, disconnect, or something unknown."""
        method = msg.method
        if method == "signalwire.event":
            # §3.3: ACK first, with exactly the id received, then process.
            # (Inlined _reply: this is the hottest path of the core.)
            event_id = msg.id
            if event_id is not None:
                self._send_text(_ACK_HEAD + dumps(event_id) + _ACK_TAIL)
                # ACKed again (the server must stop resending), processed once.
                if event_id in self._recent_events:
                    logger.debug("dropping redelivered signalwire.event %r", event_id)
                    return
            self._on_event(msg.params, event_id)
        elif method == "signalwire.ping":
            if msg.id is not None:
                self._reply(msg.id)
            self._ping_failures = 0
            self._server_pinged = True
        elif method == "signalwire.disconnect":
            if msg.id is not None:
                self._reply(msg.id)
            restart = msg.params.get("restart") is True
            if restart and self.credentials is not None:
                # A brand-new session on reconnect: forget the resume state.
                self.credentials.forget_resume_state()
            # Not a user close: queue new requests until the next socket is
            # authenticated, and reconnect with normal backoff when the server
            # closes this one.
            self._draining = True
            self._emit(ServerDisconnectRequested(restart=restart))
        else:
            # §2: every server request with an id gets a reply.
            if msg.id is not None:
                self._send_text(encode_result(msg.id, {}))
            self.protocol_problem(f"unknown server method {method!r}")

    def _on_event(self, envelope: dict[str, Any], event_id: str | int | None) -> None:
        """Validate one ``signalwire.event`` envelope, parse it and hand it to the router.

        Bad envelopes are reported and skipped (they were already ACKed: the
        server must not redeliver what we can never understand).  *event_id*
        (the request's id, not seen before) is remembered here unless the
        router drops the event's redeliveries by an id of its own.
        """
        event_type = envelope.get("event_type")
        if not isinstance(event_type, str) or not event_type:
            self._remember_event(event_id)
            self.protocol_problem("signalwire.event without an event_type")
            return
        params = envelope.get("params", {})
        if not isinstance(params, dict):
            self._remember_event(event_id)
            self.protocol_problem(f"params of {event_type} event is not an object")
            return
        # Numbers or numeric strings (the corpus has both); the rest of the
        # envelope (node_id, is_author, context, event_channel...) is not ours.
        timestamp = envelope_timestamp(envelope.get("timestamp"))
        if event_type == "signalwire.authorization.state":
            # §3.2: store a non-empty state for resume; never log or emit it.
            value = params.get("authorization_state")
            if isinstance(value, str) and value and self.credentials is not None:
                self.credentials.authorization_state = value
        event = parse_relay_event(event_type, params, timestamp)
        if event_id is not None and not self.router.drops_redelivery(event):
            self._recent_events.add(event_id)
        self.router.dispatch(event)

    def _remember_event(self, event_id: str | int | None) -> None:
        if event_id is not None:
            self._recent_events.add(event_id)

    def _on_response(
        self, request_id: str | int, msg: Response | ResponseError, now: float
    ) -> None:
        """A response: give the matching request its outcome (or report an unknown id)."""
        req = self._table.take_answered(request_id)
        if req is None:
            if request_id in self._cancelled:
                # The server answers what close() already cancelled: expected.
                del self._cancelled[request_id]
                logger.debug("dropping late response to cancelled request %r", request_id)
                return
            # Unknown, already answered, timed out, or from an earlier socket.
            self.protocol_problem(f"response to unknown request id {request_id!r}")
            return
        kind = req.kind
        if kind == CONNECT:
            self._on_connect_response(msg, now)
        elif kind == PING:
            self._last_ping_rtt = now - (req.deadline - req.timeout)  # deadline = sent + timeout
            self._on_ping_response(msg, now)
        elif kind == INTERNAL:
            code = result_code(msg.result) if isinstance(msg, Response) else msg.code
            ok = isinstance(msg, Response) and is_success_code(code)
            self.router.internal_outcome(req.id, ok, gone=code in (404, 410))
        elif type(msg) is Response:
            result = msg.result
            code = result_code(result)
            if is_success_code(code):
                self._emit(ResponseReceived(request_id=req.id, method=req.method, result=result))
                self.router.request_done(req.id, result)
                return
            message = result.get("message")
            self._fail(req, -1 if code is None else code, message, result)
        else:
            assert isinstance(msg, ResponseError)
            self._fail(req, msg.code, msg.message, None)

    def _fail(
        self, req: PendingRequest, code: int, message: object, result: Mapping[str, Any] | None
    ) -> None:
        """Emit RequestFailed (404/410 on a call-scoped method = call gone, §3.9)."""
        call_gone = code in (404, 410) and is_call_scoped(req.method)
        self._emit(
            RequestFailed(
                request_id=req.id,
                method=req.method,
                code=code,
                message=message if isinstance(message, str) else "",
                call_gone=call_gone,
                result=result,
            )
        )
        self.router.request_failed(req.id, call_gone)

    def _on_connect_response(self, msg: Response | ResponseError, now: float) -> None:
        """The answer to ``signalwire.connect``: authenticated, or rejected."""
        if type(msg) is ResponseError:
            assert isinstance(msg, ResponseError)
            self._auth_rejected(msg.code, msg.message or "authentication failed", now)
            return
        assert isinstance(msg, Response)
        # §2.5: connect results are never code-checked; the result is the session info.
        result = msg.result
        protocol = result.get("protocol")
        assert self.credentials is not None  # a connect was sent
        if isinstance(protocol, str) and protocol:
            self.credentials.protocol = protocol
        identity = result.get("identity")
        self.identity = identity if isinstance(identity, str) else ""
        self._ever_authenticated = True
        self._auth_rejections = 0
        self._authenticated_at = now
        self._machine.process(_I.AUTHENTICATED)
        restored = result.get("session_restored") is True
        if not restored:
            # A brand-new session cannot redeliver the old one's events, and a
            # restarted server may number its events from 1 again.
            self._recent_events.clear()
        self._emit(
            SessionAuthenticated(
                protocol=self.credentials.protocol or "",
                identity=self.identity,
                session_restored=restored,
                result=result,
            )
        )
        self._next_ping_at = now + self.ping_interval
        self._ping_failures = 0
        if not self._draining:
            # Flush the offline queue: FIFO, original ids, exactly once.
            for req in self._table.drain_queue():
                self._transmit(req)
        # Settle dials that were on the wire when the last socket dropped, and
        # resend hangups for legs of abandoned dials (queued while draining).
        self.router.session_started(restored)

    def _auth_rejected(self, code: int, message: str, now: float) -> None:
        """signalwire.connect failed (error or timeout): retry, or give up for good."""
        if self.credentials is not None and self.credentials.protocol is not None:
            # A rejected resume (unknown/expired protocol) must not poison the
            # retries: the next attempt authenticates afresh.
            self.credentials.forget_resume_state()
        attempt = self._auth_rejections + 1
        if not self._ever_authenticated:
            self._auth_rejections = attempt
        self._emit(AuthenticationRejected(code=code, message=message, attempt=attempt))
        if self._ever_authenticated or attempt < MAX_AUTH_REJECTIONS:
            self.declare_dead(f"authentication rejected: {message}")
            return
        logger.error("authentication rejected %d times; giving up", attempt)
        self._machine.process(_I.AUTH_FATAL)
        self._cancel_all("authentication failed")
        self._next_ping_at = None
        self._start_close()
        self._emit(AuthenticationFatal(code=code, message=message))

    def _on_ping_response(self, msg: Response | ResponseError, now: float) -> None:
        """Our ping was answered: reset, or count a failure (3 in a row = dead)."""
        self._ping_id = None
        if type(msg) is Response:
            self._ping_failures = 0
            self._next_ping_at = now + self.ping_interval
            return
        self._ping_failures += 1
        if self._ping_failures >= MAX_PING_FAILURES:
            self.declare_dead(f"{self._ping_failures} consecutive signalwire.ping failures")
        else:
            self._next_ping_at = now + min(2.0**self._ping_failures, BACKOFF_MAX)

    def _on_timeout(self, req: PendingRequest, now: float) -> None:
        """*req* expired (already removed from the table): give its outcome."""
        if req.kind == USER or req.kind == INTERNAL:
            if req.kind == USER:
                self._emit(
                    RequestTimedOut(
                        request_id=req.id, method=req.method, timeout=req.timeout, sent=req.sent
                    )
                )
                self.router.request_abandoned(req.id, sent=req.sent)
            else:
                self.router.internal_outcome(req.id, False, lost=True)
            if req.sent:
                self.declare_dead(f"{req.method} timed out (half-open connection suspected)")
        elif req.kind == CONNECT:
            # §3.8: a connect timeout counts like a rejection.
            self._auth_rejected(-1, "signalwire.connect timed out", now)
        else:
            self._ping_id = None
            self.declare_dead("signalwire.ping timed out (half-open connection suspected)")

    def _cancel_all(self, reason: str) -> None:
        """Give every pending request its final outcome (user close, fatal auth)."""
        cancelled = self._cancelled
        for req in self._table.take_all():
            if req.sent:
                # Its response may still arrive during the close handshake.
                cancelled[req.id] = None
                if len(cancelled) > MAX_CANCELLED_IDS:
                    del cancelled[next(iter(cancelled))]
            if req.kind == USER:
                self._emit(
                    RequestCancelled(
                        request_id=req.id, method=req.method, reason=reason, sent=req.sent
                    )
                )
                self.router.request_abandoned(req.id, sent=req.sent)
            elif req.kind == INTERNAL:
                self.router.internal_outcome(req.id, False, lost=True)
        # The client is done: no dial can complete any more (and nothing more
        # can be sent; a polite close already hung up their legs).
        self.router.fail_all_dials("connection_lost", hang_up=False)

    def _finish_close(self, reason: str) -> None:
        """The user close is over (reply, EOF or timeout): CLOSED, and tell the caller."""
        self._close_deadline = None
        if self._machine.state is _S.CLOSING:
            self._machine.process(_I.CLOSE_COMPLETE)
        self._emit(ConnectionClosed(reason=reason, will_reconnect=False))

    def _schedule_reconnect(self, now: float) -> None:
        """Pick the next backoff delay (see _backoff.py) and announce it."""
        delay, attempt = self._backoff.schedule(now)
        at = now + delay
        # DEBUG: the program is told by the event (relaykit's driver logs its own line).
        logger.debug("reconnect %d scheduled in %.2f s", attempt, delay)
        self._emit(ReconnectScheduled(at=at, delay=delay, attempt=attempt))
