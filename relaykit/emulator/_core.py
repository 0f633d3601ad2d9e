"""Server side of the RELAY session, sans-IO: connections, auth, resume, routing, faults.

Theory of operation
-------------------
The adapter accepts sockets and calls :meth:`connection_made` (which returns a
connection id), feeds bytes with :meth:`receive_data`, writes whatever
:meth:`data_to_send` returns for every id in :meth:`pending_output`, closes
sockets for which :meth:`should_close` is true, and calls
:meth:`handle_timer` whenever ``now >= get_timer()``.  Nothing here reads a
clock: every entry point takes ``now`` (the adapter's loop clock, seconds).

A *connection* is one WebSocket.  A *session* is what ``signalwire.connect``
creates: it has a ``protocol`` string, contexts and calls, and outlives its
connection so that a reconnect with ``protocol`` (+ ``authorization_state``)
resumes it (§3.1, §8e).  Events for a session without a live connection wait
in a bounded backlog and are delivered on resume.

Requests are answered before the events they cause: while a request is being
handled, emitted events are deferred and flushed right after the response.

Simulated durations are multiplied by ``time_scale``; fault delays
(``delay_responses``) and keepalive pings are real seconds.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

from relay_proto import rpc

from ._flood import Flood, event_template, flood_params, take_ack
from ._journal import Journal
from ._wsserver import CLOSE_POLICY, CLOSE_SERVICE_RESTART, ServerWebSocket

__all__ = ["Flood", "ServerCore"]

logger = logging.getLogger("relaykit.emulator")

_MAX_INVALID: Final = 50  # invalid frames tolerated per connection before closing it
_MAX_RATE: Final = 50_000  # requests per second per connection before closing it
_BACKLOG: Final = 1000  # events kept for a detached session
_MAX_SESSIONS: Final = 10_000  # past this, the oldest detached sessions are forgotten
_AUTH_ERROR: Final = {"signalwire_error_code": "AUTH_REQUIRED"}
_PARAMS_ERROR: Final = {"signalwire_error_code": "INVALID_PARAMS"}


class _Timer:
    __slots__ = ("cancelled", "fn")

    def __init__(self, fn: Callable[[float], None]) -> None:
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass(eq=False, slots=True)
class Session:
    """A RELAY session (what ``signalwire.connect`` creates)."""

    protocol: str
    identity: str
    project: str
    authorization_state: str
    contexts: set[str]
    conn: Conn | None = None
    backlog: deque[tuple[str, dict[str, Any]]] = field(default_factory=deque)


@dataclass(eq=False, slots=True)
class Conn:
    """One WebSocket connection."""

    id: int
    ws: ServerWebSocket
    session: Session | None = None
    frozen: bool = False
    invalid: int = 0
    rate_window: float = 0.0
    rate_count: int = 0
    # ids of server-originated requests awaiting a reply -> (method, flood or None)
    pending: dict[str, tuple[str, Flood | None]] = field(default_factory=dict)


class ServerCore:
    """Connections, sessions, timers, journal and faults (the call simulation subclasses it).

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
        self.project, self.token = project, token
        self.jwt_tokens = frozenset(jwt_tokens)
        self.time_scale = time_scale
        self.ping_interval = ping_interval
        self.epoch_offset = epoch_offset
        self.max_message_size = max_message_size
        self.journal = Journal(journal_size)
        self._conns: dict[int, Conn] = {}
        self._conn_ids = itertools.count(1)
        self._sessions: dict[str, Session] = {}
        self._rr: dict[str, int] = {}
        self._timers: list[tuple[float, int, _Timer]] = []
        self._timer_seq = itertools.count()
        self._dirty: set[int] = set()
        self._to_pump: list[Flood] = []
        self._defer: list[tuple[Session, str, dict[str, Any]]] | None = None
        self._fail_next: dict[str, list[tuple[str | int, str]]] = {}
        self.response_delay = 0.0
        self.pongs: set[str] = set()
        self._pings_out: set[str] = set()

    # ------------------------------------------------------------------ ids & time
    def new_id(self, prefix: str) -> str:
        """A fresh id ``<prefix>-<id>`` from the injected id source."""
        return f"{prefix}-{self._make_id()}"

    def scaled(self, seconds: float) -> float:
        """Real seconds for *seconds* of simulated time."""
        return seconds * self.time_scale

    def call_later(self, now: float, delay: float, fn: Callable[[float], None]) -> _Timer:
        """Run ``fn(now)`` at ``now + delay`` (real seconds); returns a cancellable handle."""
        timer = _Timer(fn)
        heapq.heappush(self._timers, (now + delay, next(self._timer_seq), timer))
        return timer

    def get_timer(self) -> float | None:
        """The next deadline, or ``None``."""
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def handle_timer(self, now: float) -> None:
        """Run every timer due at *now*."""
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                try:
                    timer.fn(now)
                except Exception:  # a bug must not stop the world; say where it was
                    logger.exception("emulator: simulation timer failed")

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

    def emit(self, session: Session, now: float, event_type: str, params: dict[str, Any]) -> None:
        """Send a ``signalwire.event`` to *session* (deferred while a request is handled)."""
        if self._defer is not None:
            self._defer.append((session, event_type, params))
            return
        self._deliver(session, now, event_type, params)

    def _deliver(
        self, session: Session, now: float, event_type: str, params: dict[str, Any]
    ) -> None:
        conn = session.conn
        if conn is None:
            if len(session.backlog) >= _BACKLOG:
                session.backlog.popleft()
            session.backlog.append((event_type, params))
            return
        if conn.frozen:
            return  # sent into a half-open socket: lost, as in production
        self.server_request(
            conn, now, "signalwire.event", self._envelope(session, now, event_type, params)
        )

    def _envelope(
        self, session: Session, now: float, event_type: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "event_type": event_type,
            "event_channel": session.protocol,
            "timestamp": self._timestamp(now),
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
        if self.response_delay > 0:
            self.call_later(now, self.response_delay, partial(self._handle_request, conn, msg))
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
        if conn.id not in self._conns or conn.ws.is_closed:
            return
        req_id = req.id
        if req_id is None:
            return
        method = req.method
        fault = self._take_fault(method)
        if fault is not None:
            code, message = fault
            if isinstance(code, int):
                self._respond_error(conn, now, method, req_id, code, message)
            elif method == "signalwire.connect":
                self._respond_error(conn, now, method, req_id, -32000, message, _AUTH_ERROR)
            else:
                self._respond(conn, now, method, req_id, {"code": code, "message": message})
            return
        if method == "signalwire.connect":
            self._connect(conn, req_id, req.params, now)
            return
        session = conn.session
        if session is None:
            self._respond_error(
                conn, now, method, req_id, -32000, "Authentication required", _AUTH_ERROR
            )
            return
        if method == "signalwire.ping":
            self._respond(conn, now, method, req_id, {"timestamp": now + self.epoch_offset})
            return
        if method in ("signalwire.receive", "signalwire.unreceive"):
            self._receive(conn, session, method, req_id, req.params, now)
            return
        self._defer = []
        try:
            outcome = self.dispatch(session, method, req.params, now)
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

    def dispatch(
        self, session: Session, method: str, params: dict[str, Any], now: float
    ) -> dict[str, Any] | tuple[int, str] | None:
        """Handle one application method.  Returns the result object, ``(-32602, message)``
        for a JSON-RPC params error, or ``None`` for an unknown method.  Overridden."""
        return None

    def _take_fault(self, method: str) -> tuple[str | int, str] | None:
        queue = self._fail_next.get(method)
        if not queue:
            return None
        fault = queue.pop(0)
        if not queue:
            del self._fail_next[method]
        return fault

    # ------------------------------------------------------------------ session methods
    def _credentials_ok(self, auth: Any) -> bool:
        if not isinstance(auth, dict):
            return False
        jwt = auth.get("jwt_token")
        if isinstance(jwt, str) and jwt:
            return jwt in self.jwt_tokens
        project, token = auth.get("project"), auth.get("token")
        if not isinstance(project, str) or not isinstance(token, str) or not project or not token:
            return False
        if self.project is None and self.token is None:
            return True
        return project == self.project and token == self.token

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
        method = "signalwire.connect"
        if conn.session is not None:
            self._respond_error(conn, now, method, req_id, -32600, "Already connected")
            return
        contexts = self._contexts(conn, now, method, req_id, params.get("contexts", []), "")
        if contexts is None:
            return
        resumed = self._sessions.get(params.get("protocol") or "")
        state_ok = (
            resumed is not None and params.get("authorization_state") == resumed.authorization_state
        )
        auth = params.get("authentication")
        if not state_ok and not self._credentials_ok(auth):
            logger.info("emulator: connection %d failed authentication", conn.id)
            self._respond_error(
                conn, now, method, req_id, -32000, "Authentication failed", _AUTH_ERROR
            )
            return
        if resumed is not None:
            session = resumed
            old = session.conn
            if old is not None and old is not conn:
                old.session = None  # the resumed session moves to the new socket
            session.contexts.update(contexts)
        else:
            project = auth.get("project", "") if isinstance(auth, dict) else ""
            project = project if isinstance(project, str) and project else (self.project or "jwt")
            sig = self._make_id()
            protocol = f"signalwire_{sig}_{self._make_id()}"
            session = Session(
                protocol=protocol,
                identity=f"{project}@relay-emulator",
                project=project,
                authorization_state=self._auth_state(protocol),
                contexts=set(contexts),
            )
            self._sessions[protocol] = session
            if len(self._sessions) > _MAX_SESSIONS:
                self._prune_sessions(now)
        session.conn = conn
        conn.session = session
        logger.info(
            "emulator: connection %d authenticated (restored=%s)", conn.id, resumed is not None
        )
        self._respond(
            conn,
            now,
            method,
            req_id,
            {
                "protocol": session.protocol,
                "identity": session.identity,
                "session_restored": resumed is not None,
                "sessionid": session.protocol.rsplit("_", 1)[-1],
                "nodeid": "relaykit-emulator-node-1",
                "master_nodeid": "relaykit-emulator-node-1",
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

    def forget_session(self, session: Session, now: float) -> None:
        """Drop a session (restart, pruning): it can no longer be resumed (calls end)."""
        self._sessions.pop(session.protocol, None)

    def _prune_sessions(self, now: float) -> None:
        """Forget the oldest detached sessions so reconnect churn cannot grow memory."""
        for session in list(self._sessions.values()):
            if len(self._sessions) <= _MAX_SESSIONS // 2:
                break
            if session.conn is None:
                self.forget_session(session, now)

    def _auth_state(self, protocol: str) -> str:
        blob = base64.b64encode(f"relaykit:{protocol}:{self._make_id()}".encode()).decode()
        tag = base64.b64encode(self._make_id().encode()).decode()
        return f"{blob}:{tag}"

    def _keepalive(self, conn: Conn, now: float) -> None:
        if conn.id in self._conns and conn.session is not None and not conn.ws.is_closed:
            if not conn.frozen:
                self.server_request(conn, now, "signalwire.ping", {})
            if self.ping_interval:
                self.call_later(now, self.ping_interval, partial(self._keepalive, conn))

    def _receive(
        self,
        conn: Conn,
        session: Session,
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

    # ------------------------------------------------------------------ routing
    def subscribers(self, context: str) -> list[Session]:
        """Sessions with a live connection subscribed to *context*, in a stable order."""
        return [
            s
            for s in self._sessions.values()
            if s.conn is not None and not s.conn.frozen and context in s.contexts
        ]

    def pick_subscriber(self, context: str, exclude: set[str] | None = None) -> Session | None:
        """Round robin among the subscribers of *context* (skipping *exclude* protocols)."""
        subs = [s for s in self.subscribers(context) if not exclude or s.protocol not in exclude]
        if not subs:
            return None
        index = self._rr.get(context, 0)
        self._rr[context] = index + 1
        return subs[index % len(subs)]

    def session_for_context(self, context: str) -> Session | None:
        """The session a messaging context names: its protocol, else a subscriber."""
        session = self._sessions.get(context)
        return session if session is not None else self.pick_subscriber(context)

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
                        stamp = rpc.dumps(self._timestamp(now))
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
