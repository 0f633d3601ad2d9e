"""The sans-IO RELAY server: sessions, JSON-RPC requests, auth, ACKs -- holding a world.

Theory of operation
-------------------
The adapter accepts sockets and calls :meth:`EmulatorServer.connection_made`
(which returns a connection id), feeds bytes with :meth:`~EmulatorServer.receive_data`,
writes whatever :meth:`~EmulatorServer.data_to_send` returns for every id in
:meth:`~EmulatorServer.pending_output`, closes sockets for which
:meth:`~EmulatorServer.should_close` is true, and calls
:meth:`~EmulatorServer.handle_timer` whenever ``now >= get_timer()``.  Nothing
here reads a clock: every entry point takes ``now`` (the adapter's loop
clock, seconds).

Who holds whom::

    EmulatorServer                       decoding and routing requests, event delivery
    +-- conns:           Connections     the socket table, journalled JSON-RPC output
    +-- session_methods: SessionMethods  signalwire.connect / ping / receive / unreceive
    +-- sessions:        SessionTable    sessions, authentication and resume, routing
    +-- faults:          FaultPlan       queued request failures, the response delay
    +-- net:             NetworkFaults   half-open, raw frames, server disconnect, pings
    +-- pump:            FloodPump       the benchmark flood (load generator)
    +-- scheduler:       Scheduler       every timer
    +-- world:           World           calls, actions, rooms, dialing, messaging
                                         (sees the server only as a _model.Host)

A *connection* is one WebSocket; a *session* is what ``signalwire.connect``
creates and outlives its connection (:mod:`._sessions`, relay-protocol.md
§3.1-§3.2).  Requests are answered before the events they cause: while a
request is handled, emitted events are deferred and flushed right after the
response, so a client never sees the outcome of a request it has no answer
to yet (§8's sequences show this order).  Every event is a server request
that the client ACKs with an empty result (§3.3); the ids awaiting an ACK
live in ``Conn.pending``.

Simulated durations are multiplied by ``time_scale``; fault delays
(``response_delay``) and keepalive pings are real seconds.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, Final

from relay_proto import rpc

from ._connections import PARAMS_ERROR, Connections
from ._faults import AUTH_ERROR, FaultPlan
from ._flood import Flood
from ._journal import Journal
from ._messaging import MessageRecord
from ._model import SimCall
from ._netfaults import NetworkFaults
from ._pump import FloodPump
from ._script import Caller, CallRecord
from ._sessions import Conn, ServerSession, SessionTable
from ._signalwire import SESSION_METHODS, SessionMethods
from ._timers import Scheduler, Timer
from ._world import World
from ._wsserver import CLOSE_POLICY

__all__ = ["EmulatorServer"]

logger = logging.getLogger("relaykit.emulator")

# Abuse limits: past them the connection is closed with 1008 (policy) instead
# of answering forever -- the platform protects itself the same way, and a
# client bug that loops must show up as a close, not as a hung test.
_MAX_INVALID: Final = 50  # invalid frames tolerated per connection before closing it
_MAX_RATE: Final = 50_000  # requests per second per connection before closing it


class EmulatorServer:
    """The sans-IO RELAY emulator: sessions, calls, messaging, faults, journal.

    Args:
        project / token: The accepted project+token pair; ``None`` accepts any non-empty pair.
        jwt_tokens: JWTs accepted as ``authentication.jwt_token``.
        time_scale: Factor applied to every simulated duration.
        make_id: Source of unique id strings (a counter by default).
        ping_interval: Real seconds between server ``signalwire.ping``s (``None``: only
            the one right after connect).
        epoch_offset: Added to ``now`` for event ``timestamp``s (wall clock - loop clock).
        max_message_size: Largest inbound WebSocket message.
        journal_size: Entries the journal retains.

    Raises:
        ValueError: A non-positive *time_scale*.
    """

    def __init__(
        self,
        *,
        project: str | None = None,
        token: str | None = None,
        jwt_tokens: tuple[str, ...] | list[str] = (),
        time_scale: float = 1.0,
        make_id: Callable[[], str] | None = None,
        ping_interval: float | None = None,
        epoch_offset: float = 0.0,
        max_message_size: int = 10 * 1024 * 1024,
        journal_size: int = 200_000,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        # A counter, not uuid4: the core imports no randomness, and tests that
        # inject nothing still get ids that are stable from run to run.
        counter = itertools.count(1)
        self._make_id = make_id or (lambda: f"{next(counter):06d}")
        self._time_scale = time_scale
        self.epoch_offset = epoch_offset
        self.max_message_size = max_message_size
        self.journal = Journal(journal_size)
        self.conns = Connections(self.journal, self.new_id, max_message_size)
        self.sessions = SessionTable(project, token, frozenset(jwt_tokens), self._make_id)
        self.faults = FaultPlan()
        self.scheduler = Scheduler()
        self.net = NetworkFaults(self.conns, self.scheduler, ping_interval)
        self.session_methods = SessionMethods(
            self.conns, self.sessions, self.net, self.timestamp, self._deliver, self.forget_session
        )
        self.pump = FloodPump(self.conns, self._envelope, self.timestamp)
        self.world = World(self)
        # Events emitted while a request is handled, delivered after its response.
        self._defer: list[tuple[ServerSession, str, dict[str, Any]]] | None = None

    # ------------------------------------------------------------------ the Host interface
    @property
    def time_scale(self) -> float:
        """Real seconds per simulated second."""
        return self._time_scale

    def new_id(self, prefix: str) -> str:
        """A fresh id ``<prefix>-<id>`` from the injected id source."""
        return f"{prefix}-{self._make_id()}"

    def scaled(self, seconds: float) -> float:
        """Real seconds for *seconds* of simulated time."""
        return seconds * self._time_scale

    def timestamp(self, now: float) -> float:
        """Wall-clock seconds (rounded to µs) for loop time *now*: event ``timestamp``s."""
        return round(now + self.epoch_offset, 6)

    def call_later(self, now: float, delay: float, fn: Callable[[float], None]) -> Timer:
        """Run ``fn(now)`` at ``now + delay`` (real seconds); returns a cancellable handle."""
        return self.scheduler.call_later(now, delay, fn)

    def pick_subscriber(
        self, context: str, exclude: set[str] | None = None
    ) -> ServerSession | None:
        """Round robin among the live subscribers of *context* (skipping *exclude*)."""
        return self.sessions.pick_subscriber(context, exclude)

    def session_for_context(self, context: str) -> ServerSession | None:
        """The session a messaging context names: its protocol, else a subscriber."""
        return self.sessions.session_for_context(context)

    def subscribers(self, context: str) -> list[ServerSession]:
        """Sessions with a live connection subscribed to *context*, in a stable order."""
        return self.sessions.subscribers(context)

    # ------------------------------------------------------------------ timers
    def get_timer(self) -> float | None:
        """The next deadline, or ``None``.  Next: call :meth:`handle_timer` then."""
        return self.scheduler.get_timer()

    def handle_timer(self, now: float) -> None:
        """Run every timer due at *now*.  Next: write :meth:`pending_output`."""
        self.scheduler.handle_timer(now)

    # ------------------------------------------------------------------ connections
    def connection_made(self, now: float) -> int:
        """A socket was accepted; returns its connection id.  Next: :meth:`receive_data`."""
        return self.conns.open().id

    def receive_data(self, conn_id: int, data: bytes, now: float) -> None:
        """Bytes from connection *conn_id* (``b""`` = EOF).  Never raises for bad input.

        Next: write :meth:`pending_output`.  Bytes for a frozen (half-open)
        connection are dropped unread, as a dead network would.
        """
        conn = self.conns.by_id.get(conn_id)
        if conn is None or conn.frozen:
            return
        for text in conn.ws.receive_data(data):
            self._on_text(conn, text, now)
        if self.pump.queued:
            self.pump.refill(now)  # the ACKs of one read refill their floods in one go
        if conn.ws.has_output or conn.ws.is_closed:
            self.conns.dirty.add(conn_id)  # (a read that needs no reply wakes no writer)
        if conn.ws.is_closed:
            self.conns.detach(conn)

    def connection_lost(self, conn_id: int, now: float) -> None:
        """The socket of *conn_id* is gone (its session stays resumable)."""
        self.conns.lost(conn_id)

    def data_to_send(self, conn_id: int) -> bytes:
        """Bytes to write to *conn_id* (``b""`` if none, or if the connection is frozen)."""
        return self.conns.data_to_send(conn_id)

    def pending_output(self) -> list[int]:
        """Connection ids that may have bytes to write or need closing; clears the set."""
        return self.conns.pending_output()

    def should_close(self, conn_id: int) -> bool:
        """True when the adapter should close the socket (after writing ``data_to_send``)."""
        return self.conns.should_close(conn_id)

    def close_complete(self, conn_id: int) -> bool:
        """True when a closing connection's handshake finished: drop the socket now."""
        return self.conns.close_complete(conn_id)

    @property
    def connection_ids(self) -> list[int]:
        """Ids of the connections the emulator knows."""
        return list(self.conns.by_id)

    def ready_connections(self) -> list[int]:
        """Ids of authenticated, live connections."""
        return self.conns.ready()

    def close_connection(self, conn_id: int, code: int, reason: str) -> None:
        """Start closing *conn_id* with a WebSocket close *code* and *reason*."""
        self.conns.close(conn_id, code, reason)

    # ------------------------------------------------------------------ sending events
    def server_request(
        self,
        conn: Conn,
        now: float,
        method: str,
        params: dict[str, Any],
        flood: Flood | None = None,
    ) -> str:
        """Send a server-originated request (event, ping, disconnect); returns its id."""
        return self.conns.request(conn, now, method, params, flood)

    def emit(
        self, session: ServerSession, now: float, event_type: str, params: dict[str, Any]
    ) -> None:
        """Send a ``signalwire.event`` to *session* (deferred while a request is handled)."""
        if self._defer is not None:
            self._defer.append((session, event_type, params))
            return
        self._deliver(session, now, event_type, params)

    def _deliver(
        self, session: ServerSession, now: float, event_type: str, params: dict[str, Any]
    ) -> None:
        """Put one event on *session*'s socket now, or in its backlog if it has none.

        A detached session (socket lost, not yet resumed) keeps the event for
        the resume (§3.2: calls survive a reconnect, so must their events).  A
        frozen socket swallows it: that is the half-open fault being simulated.
        """
        conn = session.conn
        if conn is None:
            session.queue(event_type, params)  # delivered on resume
            return
        if conn.frozen:
            return  # sent into a half-open socket: lost, as in production
        self.conns.request(
            conn, now, "signalwire.event", self._envelope(session, now, event_type, params)
        )

    def _envelope(
        self, session: ServerSession, now: float, event_type: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """The outer ``signalwire.event`` params around *params* (§3.3's envelope).

        ``event_channel`` is the session's protocol, as the corpus's events
        show it; ``space_id`` is fixed (clients treat it as informational).
        """
        return {
            "event_type": event_type,
            "event_channel": session.protocol,
            "timestamp": self.timestamp(now),
            "project_id": session.project,
            "space_id": "relaykit-emulator",
            "params": params,
        }

    # ------------------------------------------------------------------ receiving
    def _on_text(self, conn: Conn, text: str, now: float) -> None:
        """Handle one inbound text message: an ACK, a reply, a request, or garbage.

        Invalid JSON-RPC is answered (-32700 parse error, -32600 invalid
        request, with a ``null`` id as JSON-RPC 2.0 requires) and counted;
        it never closes the connection until :data:`_MAX_INVALID` is passed.
        """
        if conn.pending and not self.journal.enabled and self.pump.take_ack(conn, text):
            # The flood's fast path (journal off): a flood ACK is recognised
            # without building message objects (see _flood.take_ack).
            return
        msg = rpc.decode(text)
        if isinstance(msg, rpc.Invalid):
            self.journal.add(
                now,
                conn.id,
                "in",
                "invalid",
                None,
                None,
                {"reason": msg.reason, "excerpt": msg.excerpt},
            )
            conn.invalid += 1
            if conn.invalid > _MAX_INVALID:
                self.conns.close(conn.id, CLOSE_POLICY, "too many invalid messages")
                return
            code = -32700 if msg.reason == "malformed JSON" else -32600
            self.conns.respond_error(
                conn,
                now,
                None,
                None,
                code,
                "Parse error" if code == -32700 else f"Invalid Request: {msg.reason}",
            )
            return
        if isinstance(msg, rpc.Response | rpc.ResponseError):
            self._on_reply(conn, msg, now)
            return
        self.journal.add(now, conn.id, "in", "request", msg.method, msg.id, msg.params)
        if msg.id is None:
            return  # a notification: JSON-RPC says no response; RELAY defines none
        # A fixed one-second window: cheap, and enough to stop a runaway client.
        if now - conn.rate_window >= 1.0:
            conn.rate_window, conn.rate_count = now, 0
        conn.rate_count += 1
        if conn.rate_count > _MAX_RATE:
            self.conns.close(conn.id, CLOSE_POLICY, "request flood")
            return
        if self.faults.response_delay > 0:
            self.call_later(
                now, self.faults.response_delay, partial(self._handle_delayed_request, conn, msg)
            )
        else:
            self._handle_request(conn, msg, now)

    def _handle_delayed_request(self, conn: Conn, req: rpc.Request, now: float) -> None:
        """A request held back by ``delay_responses``, unless its connection went away meanwhile."""
        if conn.id not in self.conns.by_id or conn.ws.is_closed:
            return
        self._handle_request(conn, req, now)

    def _on_reply(self, conn: Conn, msg: rpc.Response | rpc.ResponseError, now: float) -> None:
        """The client answered one of our requests: an event ACK, a pong, a disconnect reply.

        A reply to an id we never sent (or already saw) is journalled and
        otherwise ignored, as §2 rule 1 says a peer must.
        """
        key = str(msg.id)
        entry = conn.pending.pop(key, None)
        method = entry[0] if entry else None
        if isinstance(msg, rpc.Response):
            self.journal.add(now, conn.id, "in", "response", method, msg.id, msg.result)
        else:
            self.journal.add(
                now,
                conn.id,
                "in",
                "error",
                method,
                msg.id,
                {"code": msg.code, "message": msg.message},
            )
        if entry is None:
            return
        flood = entry[1]
        if flood is not None:
            self.pump.acked(flood, now)
        self.net.reply_received(conn, key, method)

    def _handle_request(self, conn: Conn, req: rpc.Request, now: float) -> None:
        """Answer one client request: a queued fault, a session method, or the world's.

        Order matters and is the platform's: injected faults first (they can
        fail even ``signalwire.connect``), then ``signalwire.connect``, then
        "authenticate first" for everything else (``-32000``, §3.1), then the
        session methods, and only then the world.

        A request that arrived ahead of the client's close frame (in the same
        read) is handled too, as a server runs what it received; its response
        then goes nowhere.
        """
        req_id = req.id
        if req_id is None:
            return
        method = req.method
        if self.faults.take_lost_answer(method):
            self.conns.lose_answer(conn, req_id)  # it runs; its answer goes nowhere
        fault = self.faults.take(method)
        if fault is not None:
            how, value = fault.as_reply(method)
            if how == "error":
                code, message, data = value
                self.conns.respond_error(conn, now, method, req_id, code, message, data)
            else:
                self.conns.respond(conn, now, method, req_id, value)
            return
        if method == "signalwire.connect":
            self.session_methods.connect(conn, req_id, req.params, now)
            return
        session = conn.session
        if session is None:
            self.conns.respond_error(
                conn, now, method, req_id, -32000, "Authentication required", AUTH_ERROR
            )
            return
        if method in SESSION_METHODS:
            self.session_methods.answer(conn, session, method, req_id, req.params, now)
            return
        self._defer = []
        try:
            outcome = self.world.dispatch(session, method, req.params, now)
        except Exception:  # last-resort guard: one bad request must not stop the server
            logger.exception("emulator: internal error handling %s", method)
            outcome = (-32603, f"Internal error in {method}")
        finally:
            deferred, self._defer = self._defer, None
        if outcome is None:
            self.conns.respond_error(
                conn, now, method, req_id, -32601, f"Method not found: {method}"
            )
        elif isinstance(outcome, tuple):
            data = PARAMS_ERROR if outcome[0] == -32602 else None
            self.conns.respond_error(conn, now, method, req_id, outcome[0], outcome[1], data)
        else:
            self.conns.respond(conn, now, method, req_id, outcome)
        for sess, event_type, params in deferred:
            self._deliver(sess, now, event_type, params)

    # ------------------------------------------------------------------ sessions
    def forget_session(self, session: ServerSession, now: float) -> None:
        """Drop a session (restart, pruning): it can no longer be resumed, its calls end."""
        self.sessions.forget(session)
        self.world.session_forgotten(session, now)

    # ------------------------------------------------------------------ faults
    def fail_next(
        self,
        method: str,
        code: str | int = "500",
        message: str = "Injected failure",
        count: int = 1,
    ) -> None:
        """Answer the next *count* requests of *method* with *code* (see :class:`FaultPlan`).

        A string code is a RELAY result code (``{"code": "500", ...}``); an int is a
        JSON-RPC error code.  For ``signalwire.connect`` a string code becomes
        ``-32000`` (connect results are never code-checked).
        """
        self.faults.fail_next(method, code, message, count)

    def lose_answer_to_next(self, method: str, count: int = 1) -> None:
        """Run the next *count* requests of *method* but lose their answers (:class:`FaultPlan`)."""
        self.faults.lose_answer_to_next(method, count)

    @property
    def response_delay(self) -> float:
        """Real seconds every answer is held back (a slow platform; 0 = none)."""
        return self.faults.response_delay

    @response_delay.setter
    def response_delay(self, seconds: float) -> None:
        self.faults.response_delay = seconds

    @property
    def ping_interval(self) -> float | None:
        """Real seconds between keepalive pings (``None``: only the one after connect)."""
        return self.net.ping_interval

    @property
    def pongs(self) -> set[str]:
        """Ids of :meth:`ping_clients` pings the clients answered."""
        return self.net.pongs

    def freeze(self) -> list[int]:
        """Go half-open on every current connection (see :meth:`NetworkFaults.freeze`)."""
        return self.net.freeze()

    def inject_raw(
        self, payload: str | bytes, now: float, conn_id: int | None = None, framed: bool = True
    ) -> int:
        """Send *payload* as one frame (text for str, binary for bytes) to every ready
        connection (or *conn_id*); ``framed=False`` writes raw bytes outside any frame.
        Returns how many connections got it."""
        return self.net.inject_raw(payload, now, conn_id, framed)

    def oversized_frame(self, size: int | None = None) -> str:
        """A valid JSON-RPC event text larger than the client's 10 MiB cap."""
        return self.net.oversized_frame(size)

    def ping_clients(self, now: float) -> set[str]:
        """Send ``signalwire.ping`` to every ready connection; returns the ping ids
        (a pong moves an id into :attr:`pongs`)."""
        return self.net.ping_clients(now)

    def server_disconnect(self, now: float, restart: bool = False, grace: float = 2.0) -> int:
        """Send ``signalwire.disconnect`` to every ready connection (§3.5); each socket
        is closed when the client replies (or after *grace* real seconds).  With
        *restart* the sessions are forgotten (the client must start fresh)."""
        count = self.net.disconnect_all(now, restart, grace)
        if restart:
            for session in self.sessions.all():
                self.forget_session(session, now)
        return count

    # ------------------------------------------------------------------ the world, for tests
    @property
    def calls(self) -> dict[str, SimCall]:
        """Live simulated calls by id."""
        return self.world.calls.calls

    @property
    def records(self) -> dict[str, CallRecord]:
        """Every call's record by id, ended calls included."""
        return self.world.calls.records

    @property
    def messages(self) -> dict[str, MessageRecord]:
        """Every message the emulator handled, by id."""
        return self.world.messaging.messages

    def configure_number(
        self,
        number: str,
        behavior: str = "answer",
        answer_after: float = 1.0,
        script: Caller | None = None,
    ) -> None:
        """How *number* (E.164 or SIP URI) behaves when dialed or connected to.

        Args:
            number: The dialed number or SIP URI.
            behavior: ``answer``, ``busy``, ``no-answer`` or ``decline``.
            answer_after: Simulated seconds of ringing before *behavior* happens.
            script: Drives the callee once it answers (default: a silent caller).

        Raises:
            ValueError: An unknown *behavior*.
        """
        self.world.dialer.configure_number(number, behavior, answer_after, script)

    def fail_messages_to(self, number: str, state: str = "undelivered") -> None:
        """Messages sent to *number* end in *state*: ``undelivered`` (after ``sent``) or ``failed``.

        Raises:
            ValueError: Another *state*.
        """
        self.world.messaging.fail_messages_to(number, state)

    def place_call(
        self,
        context: str,
        script: Caller,
        now: float,
        from_number: str = "+15550000001",
        to_number: str = "+15550000002",
    ) -> SimCall:
        """Offer an inbound call on *context* (round robin) that follows *script*.

        Raises:
            LookupError: if no connected client is subscribed to *context*.
        """
        return self.world.calls.place_call(context, script, now, from_number, to_number)

    def send_inbound_message(
        self,
        context: str,
        from_number: str,
        to_number: str,
        now: float,
        body: str = "",
        media: list[str] | None = None,
    ) -> MessageRecord:
        """Deliver an inbound SMS/MMS to a subscriber of *context* (round robin).

        Raises:
            LookupError: if no connected client is subscribed to *context*.
            ValueError: if there is neither body nor media.
        """
        return self.world.messaging.send_inbound(context, from_number, to_number, now, body, media)

    def on_call_ended(self, hook: Callable[[CallRecord], None]) -> None:
        """Register ``hook(record)``, called whenever a call ends (adapters wake waiters)."""
        self.world.calls.on_call_ended(hook)

    # ------------------------------------------------------------------ the benchmark flood
    def flood(
        self, count: int, now: float, call_ids: list[str] | None = None, window: int = 100
    ) -> Flood:
        """Start pushing *count* ``calling.call.play`` events over live calls (all, or
        *call_ids*) as fast as clients ACK them, at most *window* unACKed at a time."""
        return self.start_flood(count, self.world.flood_targets(call_ids), window, now)

    def start_flood(
        self, count: int, targets: list[tuple[ServerSession, str, str]], window: int, now: float
    ) -> Flood:
        """Push *count* ``calling.call.play`` events round robin over *targets* as fast as
        the clients ACK them, keeping at most *window* unACKed per flood.

        Raises:
            ValueError: A negative *count* or a *window* below 1.
        """
        return self.pump.start(count, targets, window, now)
