"""The sans-IO RELAY server: connections, sessions, JSON-RPC, auth, ACKs -- holding a world.

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

    EmulatorServer                  connections, JSON-RPC, ACK bookkeeping, keepalive,
    |                               connection faults, the benchmark flood
    +-- sessions: SessionTable      sessions, authentication and resume, routing
    +-- faults:   FaultPlan         queued request failures, the response delay
    +-- scheduler: Scheduler        every timer
    +-- world:    World             calls, actions, rooms, dialing, messaging
                                    (sees the server only as a _model.Host)

A *connection* is one WebSocket; a *session* is what ``signalwire.connect``
creates and outlives its connection (:mod:`._sessions`, relay-protocol.md
§3.1-§3.2).  Requests are answered before the events they cause: while a
request is handled, emitted events are deferred and flushed right after the
response (§3.4).  Every event is a server request that the client ACKs with an
empty result (§3.5); the ids awaiting an ACK live in ``Conn.pending``.

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

from ._faults import AUTH_ERROR, FaultPlan
from ._flood import Flood, event_template, flood_params, take_ack
from ._journal import Journal
from ._messaging import MessageRecord
from ._model import SimCall
from ._script import Caller, CallRecord
from ._sessions import AuthRejection, Conn, ServerSession, SessionTable
from ._timers import Scheduler, Timer
from ._world import World
from ._wsserver import (
    CLOSE_GOING_AWAY,
    CLOSE_POLICY,
    CLOSE_SERVICE_RESTART,
    ServerWebSocket,
)

__all__ = ["EmulatorServer"]

logger = logging.getLogger("relaykit.emulator")

_MAX_INVALID: Final = 50  # invalid frames tolerated per connection before closing it
_MAX_RATE: Final = 50_000  # requests per second per connection before closing it
#: ``data`` of a JSON-RPC ``-32602`` (the platform's INVALID_PARAMS, §2 rule 3).
_PARAMS_ERROR: Final = {"signalwire_error_code": "INVALID_PARAMS"}
#: The node the emulator reports in ``signalwire.connect`` results.
_NODE: Final = "relaykit-emulator-node-1"


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
        counter = itertools.count(1)
        self._make_id = make_id or (lambda: f"{next(counter):06d}")
        self._time_scale = time_scale
        self.ping_interval = ping_interval
        self.epoch_offset = epoch_offset
        self.max_message_size = max_message_size
        self.journal = Journal(journal_size)
        self.sessions = SessionTable(project, token, frozenset(jwt_tokens), self._make_id)
        self.faults = FaultPlan()
        self.scheduler = Scheduler()
        self.world = World(self)
        self._conns: dict[int, Conn] = {}
        self._conn_ids = itertools.count(1)
        self._dirty: set[int] = set()  # connections that may have output or need closing
        self._to_pump: list[Flood] = []  # floods to refill at the end of the current read
        # Events emitted while a request is handled, delivered after its response.
        self._defer: list[tuple[ServerSession, str, dict[str, Any]]] | None = None
        self.pongs: set[str] = set()  # ids of ping_clients() pings the clients answered
        self._pings_out: set[str] = set()

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
        """A socket was accepted; returns its connection id."""
        conn = Conn(next(self._conn_ids), ServerWebSocket(self.max_message_size))
        self._conns[conn.id] = conn
        return conn.id

    def receive_data(self, conn_id: int, data: bytes, now: float) -> None:
        """Bytes from connection *conn_id* (``b""`` = EOF).  Never raises for bad input."""
        conn = self._conns.get(conn_id)
        if conn is None or conn.frozen:
            return
        for text in conn.ws.receive_data(data):
            self._on_text(conn, text, now)
        if self._to_pump:
            # The ACKs of one read refill their floods' windows in one go.
            floods, self._to_pump = self._to_pump, []
            for flood in floods:
                flood.queued = False
                self._pump_flood(flood, now)
        if conn.ws.has_output or conn.ws.is_closed:
            self._dirty.add(conn_id)  # (a read that needs no reply wakes no writer)
        if conn.ws.is_closed:
            self._detach(conn)

    def connection_lost(self, conn_id: int, now: float) -> None:
        """The socket of *conn_id* is gone."""
        conn = self._conns.pop(conn_id, None)
        if conn is not None:
            self._detach(conn)
            self._dirty.discard(conn_id)

    def _detach(self, conn: Conn) -> None:
        for _method, flood in conn.pending.values():
            if flood is not None:
                flood.in_flight -= 1
        conn.pending.clear()
        session = conn.session
        if session is not None and session.conn is conn:
            session.conn = None
        conn.session = None

    def data_to_send(self, conn_id: int) -> bytes:
        """Bytes to write to *conn_id* (``b""`` if none, or if the connection is frozen)."""
        conn = self._conns.get(conn_id)
        if conn is None:
            return b""
        data = conn.ws.data_to_send()
        return b"" if conn.frozen else data

    def pending_output(self) -> list[int]:
        """Connection ids that may have bytes to write or need closing; clears the set."""
        ids = list(self._dirty)
        self._dirty.clear()
        return ids

    def should_close(self, conn_id: int) -> bool:
        """True when the adapter should close the socket (after writing ``data_to_send``)."""
        conn = self._conns.get(conn_id)
        return conn is None or conn.ws.is_closed

    def close_complete(self, conn_id: int) -> bool:
        """True when a closing connection's handshake finished: drop the socket now."""
        conn = self._conns.get(conn_id)
        return conn is None or conn.ws.is_finished

    @property
    def connection_ids(self) -> list[int]:
        """Ids of the connections the emulator knows."""
        return list(self._conns)

    def ready_connections(self) -> list[int]:
        """Ids of authenticated, live connections."""
        return [c.id for c in self._conns.values() if c.session is not None and not c.frozen]

    def close_connection(self, conn_id: int, code: int, reason: str) -> None:
        """Start closing *conn_id* with a WebSocket close *code* and *reason*."""
        conn = self._conns.get(conn_id)
        if conn is not None:
            conn.ws.close(code, reason)
            self._dirty.add(conn_id)
            self._detach(conn)

    # ------------------------------------------------------------------ sending
    def _send(
        self,
        conn: Conn,
        now: float,
        kind: str,
        method: str | None,
        msg_id: str | int | None,
        data: dict[str, Any],
        text: str,
    ) -> None:
        self.journal.add(now, conn.id, "out", kind, method, msg_id, data)
        conn.ws.send_text(text)
        self._dirty.add(conn.id)

    def _respond(
        self, conn: Conn, now: float, method: str, req_id: str | int, result: dict[str, Any]
    ) -> None:
        self._send(conn, now, "response", method, req_id, result, rpc.encode_result(req_id, result))

    def _respond_error(
        self,
        conn: Conn,
        now: float,
        method: str | None,
        req_id: str | int | None,
        code: int,
        message: str,
        data: dict[str, Any] | None = None,
    ) -> None:
        err: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            err["data"] = data
        self._send(
            conn, now, "error", method, req_id, err, rpc.encode_error(req_id, code, message, data)
        )

    def server_request(
        self,
        conn: Conn,
        now: float,
        method: str,
        params: dict[str, Any],
        flood: Flood | None = None,
    ) -> str:
        """Send a server-originated request (event, ping, disconnect); returns its id."""
        req_id = self.new_id("s")
        conn.pending[req_id] = (method, flood)
        self._send(
            conn,
            now,
            "request",
            method,
            req_id,
            params,
            rpc.encode_request(req_id, method, params),
        )
        return req_id

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
        conn = session.conn
        if conn is None:
            session.queue(event_type, params)  # delivered on resume
            return
        if conn.frozen:
            return  # sent into a half-open socket: lost, as in production
        self.server_request(
            conn, now, "signalwire.event", self._envelope(session, now, event_type, params)
        )

    def _envelope(
        self, session: ServerSession, now: float, event_type: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "event_type": event_type,
            "event_channel": session.protocol,
            "timestamp": self.timestamp(now),
            "project_id": session.project,
            "space_id": "relaykit-emulator",
            "params": params,
        }

    def _timestamp(self, now: float) -> float:
        return round(now + self.epoch_offset, 6)

    # ------------------------------------------------------------------ receiving
    def _on_text(self, conn: Conn, text: str, now: float) -> None:
        if conn.pending and not self.journal.enabled:
            flood = take_ack(conn.pending, text)
            if flood is not None:
                if not flood.queued:  # the window is refilled at the end of the read
                    flood.queued = True
                    self._to_pump.append(flood)
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
                self.close_connection(conn.id, CLOSE_POLICY, "too many invalid messages")
                return
            code = -32700 if msg.reason == "malformed JSON" else -32600
            self._respond_error(
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
        if now - conn.rate_window >= 1.0:
            conn.rate_window, conn.rate_count = now, 0
        conn.rate_count += 1
        if conn.rate_count > _MAX_RATE:
            self.close_connection(conn.id, CLOSE_POLICY, "request flood")
            return
        if self.faults.response_delay > 0:
            self.call_later(
                now, self.faults.response_delay, partial(self._handle_request, conn, msg)
            )
        else:
            self._handle_request(conn, msg, now)

    def _on_reply(self, conn: Conn, msg: rpc.Response | rpc.ResponseError, now: float) -> None:
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
            flood.in_flight -= 1
            flood.acked += 1
            self._pump_flood(flood, now)
        if method == "signalwire.ping" and key in self._pings_out:
            self._pings_out.discard(key)
            self.pongs.add(key)
        elif method == "signalwire.disconnect":
            self.close_connection(conn.id, CLOSE_SERVICE_RESTART, "server disconnect")

    def _handle_request(self, conn: Conn, req: rpc.Request, now: float) -> None:
        """Answer one client request: a queued fault, a session method, or the world's.

        Order matters and is the platform's: injected faults first (they can
        fail even ``signalwire.connect``), then ``signalwire.connect``, then
        "authenticate first" for everything else (``-32000``, §3.1), then the
        session methods, and only then the world.
        """
        if conn.id not in self._conns or conn.ws.is_closed:
            return  # the connection went away while the request was delayed
        req_id = req.id
        if req_id is None:
            return
        method = req.method
        fault = self.faults.take(method)
        if fault is not None:
            how, value = fault.as_reply(method)
            if how == "error":
                code, message, data = value
                self._respond_error(conn, now, method, req_id, code, message, data)
            else:
                self._respond(conn, now, method, req_id, value)
            return
        if method == "signalwire.connect":
            self._connect(conn, req_id, req.params, now)
            return
        session = conn.session
        if session is None:
            self._respond_error(
                conn, now, method, req_id, -32000, "Authentication required", AUTH_ERROR
            )
            return
        if method == "signalwire.ping":
            self._respond(conn, now, method, req_id, {"timestamp": self.timestamp(now)})
            return
        if method in ("signalwire.receive", "signalwire.unreceive"):
            self._receive(conn, session, method, req_id, req.params, now)
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
            self._respond_error(conn, now, method, req_id, -32601, f"Method not found: {method}")
        elif isinstance(outcome, tuple):
            data = _PARAMS_ERROR if outcome[0] == -32602 else None
            self._respond_error(conn, now, method, req_id, outcome[0], outcome[1], data)
        else:
            self._respond(conn, now, method, req_id, outcome)
        for sess, event_type, params in deferred:
            self._deliver(sess, now, event_type, params)

    # ------------------------------------------------------------------ session methods
    def _contexts(
        self, conn: Conn, now: float, method: str, req_id: str | int, value: Any, prefix: str
    ) -> list[str] | None:
        """*value* if it is an array of strings; else answer -32602 (*prefix* + why), None."""
        if isinstance(value, list) and all(isinstance(c, str) for c in value):
            return value
        message = f"{prefix}contexts must be an array of strings"
        self._respond_error(conn, now, method, req_id, -32602, message, _PARAMS_ERROR)
        return None

    def _connect(self, conn: Conn, req_id: str | int, params: dict[str, Any], now: float) -> None:
        """``signalwire.connect``: authenticate, resume or start a session (§3.1-§3.2).

        On success: the result, then ``signalwire.authorization.state``, then a
        ``signalwire.ping``, then the backlog of a resumed session, in that
        order.  Rejections are the platform's (see :mod:`._sessions`).
        """
        method = "signalwire.connect"
        if conn.session is not None:
            self._respond_error(conn, now, method, req_id, -32600, "Already connected")
            return
        contexts = self._contexts(conn, now, method, req_id, params.get("contexts", []), "")
        if contexts is None:
            return
        decided = self.sessions.authenticate(params, contexts)
        if isinstance(decided, AuthRejection):
            logger.info("emulator: connection %d rejected (%d)", conn.id, decided.code)
            self._respond_error(conn, now, method, req_id, decided.code, decided.message)
            return
        session, restored = decided
        old = session.conn
        if old is not None and old is not conn:
            old.session = None  # the resumed session moves to the new socket
        session.conn = conn
        conn.session = session
        for stale in self.sessions.overflow():
            self.forget_session(stale, now)
        logger.info("emulator: connection %d authenticated (restored=%s)", conn.id, restored)
        self._respond(
            conn,
            now,
            method,
            req_id,
            {
                "protocol": session.protocol,
                "identity": session.identity,
                "session_restored": restored,
                "sessionid": session.protocol.rsplit("_", 1)[-1],
                "nodeid": _NODE,
                "master_nodeid": _NODE,
                "authorization": {"project_id": session.project, "signature": session.protocol},
            },
        )
        self.emit(
            session,
            now,
            "signalwire.authorization.state",
            {"authorization_state": session.authorization_state},
        )
        self.server_request(conn, now, "signalwire.ping", {})
        while session.backlog and session.conn is conn:
            event_type, ev_params = session.backlog.popleft()
            self._deliver(session, now, event_type, ev_params)
        if self.ping_interval:
            self.call_later(now, self.ping_interval, partial(self._keepalive, conn))

    def forget_session(self, session: ServerSession, now: float) -> None:
        """Drop a session (restart, pruning): it can no longer be resumed, its calls end."""
        self.sessions.forget(session)
        self.world.session_forgotten(session, now)

    def _keepalive(self, conn: Conn, now: float) -> None:
        if conn.id in self._conns and conn.session is not None and not conn.ws.is_closed:
            if not conn.frozen:
                self.server_request(conn, now, "signalwire.ping", {})
            if self.ping_interval:
                self.call_later(now, self.ping_interval, partial(self._keepalive, conn))

    def _receive(
        self,
        conn: Conn,
        session: ServerSession,
        method: str,
        req_id: str | int,
        params: dict[str, Any],
        now: float,
    ) -> None:
        contexts = self._contexts(conn, now, method, req_id, params.get("contexts"), f"{method}: ")
        if contexts is None:
            return
        if method == "signalwire.receive":
            session.contexts.update(contexts)
            self._respond(conn, now, method, req_id, {"code": "200", "message": "Receiving events"})
        else:
            session.contexts.difference_update(contexts)
            self._respond(
                conn, now, method, req_id, {"code": "200", "message": "Unreceiving events"}
            )

    # ------------------------------------------------------------------ connection faults
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

    @property
    def response_delay(self) -> float:
        """Real seconds every answer is held back (a slow platform; 0 = none)."""
        return self.faults.response_delay

    @response_delay.setter
    def response_delay(self, seconds: float) -> None:
        self.faults.response_delay = seconds

    def freeze(self) -> list[int]:
        """Go half-open on every current connection: no more reading or writing.

        The sockets stay open, as after a silent network failure: only the
        client's own ping timeout can notice (§3.7).
        """
        ids = []
        for conn in self._conns.values():
            conn.frozen = True
            ids.append(conn.id)
        return ids

    def inject_raw(
        self, payload: str | bytes, now: float, conn_id: int | None = None, framed: bool = True
    ) -> int:
        """Send *payload* as one frame (text for str, binary for bytes) to every ready
        connection (or *conn_id*); ``framed=False`` writes raw bytes outside any frame.
        Returns how many connections got it."""
        targets = [conn_id] if conn_id is not None else self.ready_connections()
        sent = 0
        for cid in targets:
            conn = self._conns.get(cid)
            if conn is None or not conn.ws.is_open:
                continue
            excerpt = payload[:120] if isinstance(payload, str) else payload[:120].hex()
            self.journal.add(
                now, cid, "out", "raw", None, None, {"excerpt": excerpt, "size": len(payload)}
            )
            if framed:
                conn.ws.send_raw_frame(payload)
            else:
                conn.ws.send_garbage(payload if isinstance(payload, bytes) else payload.encode())
            self._dirty.add(cid)
            sent += 1
        return sent

    def oversized_frame(self, size: int | None = None) -> str:
        """A valid JSON-RPC event text larger than the client's 10 MiB cap."""
        pad = "x" * (size or self.max_message_size + 1024)
        return rpc.encode_request(
            self.new_id("s"),
            "signalwire.event",
            {"event_type": "relaykit.padding", "params": {"pad": pad}},
        )

    def ping_clients(self, now: float) -> set[str]:
        """Send ``signalwire.ping`` to every ready connection; returns the ping ids
        (a pong moves an id into :attr:`pongs`)."""
        ids = set()
        for cid in self.ready_connections():
            ids.add(self.server_request(self._conns[cid], now, "signalwire.ping", {}))
        self._pings_out |= ids
        return ids

    def server_disconnect(self, now: float, restart: bool = False, grace: float = 2.0) -> int:
        """Send ``signalwire.disconnect`` to every ready connection (§3.6); each socket
        is closed when the client replies (or after *grace* real seconds).  With
        *restart* the sessions are forgotten (the client must start fresh)."""
        ids = self.ready_connections()
        for cid in ids:
            conn = self._conns[cid]
            self.server_request(conn, now, "signalwire.disconnect", {"restart": restart})
            self.call_later(now, grace, partial(self._close_later, cid))
        if restart:
            for session in self.sessions.all():
                self.forget_session(session, now)
        return len(ids)

    def _close_later(self, conn_id: int, now: float) -> None:
        """The grace period after ``signalwire.disconnect`` is over: close (1001)."""
        self.close_connection(conn_id, CLOSE_GOING_AWAY, "server disconnect")

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
        if count < 0 or window < 1:
            raise ValueError("count must be >= 0 and window >= 1")
        flood = Flood(remaining=count if targets else 0, targets=targets, window=window)
        self._pump_flood(flood, now)
        return flood

    # ------------------------------------------------------------------ flood pump
    def _pump_flood(self, flood: Flood, now: float) -> None:
        """Send the flood's next events until its window is full or none remain."""
        targets = flood.targets
        count = len(targets)
        # Journal off (benchmarks): each event's text comes from a per-target template,
        # with no params dicts and no JSON encoding of the envelope per event.
        fast = not self.journal.enabled
        if fast and not flood.templates:
            flood.templates = [None] * (2 * count)
        stamp = ""
        while flood.remaining > 0 and flood.in_flight < flood.window:
            index = flood.sent % count
            session, call_id, node_id = targets[index]
            conn = session.conn
            flood.remaining -= 1
            flood.sent += 1
            if conn is None or conn.frozen:
                continue
            flood.in_flight += 1
            playing = flood.sent % 2
            if fast:
                slot = 2 * index + playing
                template = flood.templates[slot]
                if template is None:
                    params = flood_params(call_id, node_id, playing)
                    envelope = self._envelope(session, now, "calling.call.play", params)
                    template = flood.templates[slot] = event_template(envelope)
                if template:
                    if not stamp:
                        stamp = rpc.dumps(self.timestamp(now))
                    req_id = self.new_id("s")
                    conn.pending[req_id] = flood.entry
                    head, middle, tail = template
                    conn.ws.send_text(f"{head}{rpc.dumps(req_id)}{middle}{stamp}{tail}")
                    self._dirty.add(conn.id)
                    continue
            self.server_request(
                conn,
                now,
                "signalwire.event",
                self._envelope(
                    session, now, "calling.call.play", flood_params(call_id, node_id, playing)
                ),
                flood,
            )
