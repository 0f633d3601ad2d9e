"""The session-layer methods: ``signalwire.connect``, ``ping``, ``receive``, ``unreceive``.

These are the requests that act on the client's *session* rather than on the
telephone world (relay-protocol.md §3); the server hands every other
application method to :class:`~._world.World`.  :class:`SessionMethods`
answers them over the connection they came in on:

* ``signalwire.connect`` (§3.1-§3.2) decides -- through
  :meth:`~._sessions.SessionTable.authenticate` -- whether to resume, start
  fresh or reject, then attaches the session to this socket and follows the
  result with the session's first events in a fixed order;
* ``signalwire.ping`` (§3.4) is answered with the server's timestamp;
* ``signalwire.receive`` / ``unreceive`` (§3.6) add or drop inbound contexts.

Malformed ``contexts`` are a JSON-RPC ``-32602``, as for any param of the
wrong JSON type (§2 rule 3).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ._connections import PARAMS_ERROR
from ._sessions import AuthRejection

if TYPE_CHECKING:
    from ._connections import Connections
    from ._netfaults import NetworkFaults
    from ._sessions import Conn, ServerSession, SessionTable

__all__ = ["SESSION_METHODS", "SessionMethods"]

logger = logging.getLogger("relaykit.emulator")

#: The methods :meth:`SessionMethods.answer` takes once a session is authenticated.
SESSION_METHODS: Final = frozenset(
    {"signalwire.ping", "signalwire.receive", "signalwire.unreceive"}
)
#: The node the emulator reports in ``signalwire.connect`` results.
_NODE: Final = "relaykit-emulator-node-1"

#: ``deliver(session, now, event_type, params)``: put an event on the session's
#: socket at once (or in its backlog): never deferred, these follow the answer.
Deliver = Callable[["ServerSession", float, str, dict[str, Any]], None]


class SessionMethods:
    """Answers the ``signalwire.*`` requests of a connection (see module docstring).

    Args:
        conns: Where answers and the post-connect ping are written.
        sessions: Who decides authentication and resume.
        net: Arms a connection's keepalive once it is authenticated.
        timestamp: Loop time -> wall-clock seconds (the ping answer).
        deliver: The server's immediate event delivery.
        forget: The server's ``forget_session`` (a pruned session's calls end).
    """

    def __init__(
        self,
        conns: Connections,
        sessions: SessionTable,
        net: NetworkFaults,
        timestamp: Callable[[float], float],
        deliver: Deliver,
        forget: Callable[[ServerSession, float], None],
    ) -> None:
        self.conns = conns
        self.sessions = sessions
        self.net = net
        self.timestamp = timestamp
        self.deliver = deliver
        self.forget = forget

    def _contexts(
        self, conn: Conn, now: float, method: str, req_id: str | int, value: Any, prefix: str
    ) -> list[str] | None:
        """*value* if it is an array of strings; else answer -32602 (*prefix* + why), None."""
        if isinstance(value, list) and all(isinstance(c, str) for c in value):
            return value
        message = f"{prefix}contexts must be an array of strings"
        self.conns.respond_error(conn, now, method, req_id, -32602, message, PARAMS_ERROR)
        return None

    def connect(self, conn: Conn, req_id: str | int, params: dict[str, Any], now: float) -> None:
        """``signalwire.connect``: authenticate, resume or start a session (§3.1-§3.2).

        On success: the result, then ``signalwire.authorization.state``, then a
        ``signalwire.ping``, then the backlog of a resumed session, in that
        order.  Rejections are the platform's (see :mod:`._sessions`).
        """
        method = "signalwire.connect"
        # One session per socket: a second connect on an authenticated socket
        # is a malformed use of the protocol (§3.1: "the first request").
        if conn.session is not None:
            self.conns.respond_error(conn, now, method, req_id, -32600, "Already connected")
            return
        contexts = self._contexts(conn, now, method, req_id, params.get("contexts", []), "")
        if contexts is None:
            return
        decided = self.sessions.authenticate(params, contexts)
        if isinstance(decided, AuthRejection):
            logger.info("emulator: connection %d rejected (%d)", conn.id, decided.code)
            self.conns.respond_error(conn, now, method, req_id, decided.code, decided.message)
            return
        session, restored = decided
        # A resume may arrive while the old socket still looks alive (the
        # client gave up on it first): the session follows the new socket.
        old = session.conn
        if old is not None and old is not conn:
            old.session = None  # the resumed session moves to the new socket
        session.conn = conn
        conn.session = session
        # A new session may push the table past its bound: the oldest detached
        # ones go, and their calls end (nobody could ever resume them).
        for stale in self.sessions.overflow():
            self.forget(stale, now)
        logger.info("emulator: connection %d authenticated (restored=%s)", conn.id, restored)
        # The result's shape is the connect result schema (§3.1): ``protocol``
        # is ``signalwire_<signature>_<suffix>``, and the JS SDK checks that
        # ``authorization.signature`` is its middle part.
        self.conns.respond(
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
        self.deliver(
            session,
            now,
            "signalwire.authorization.state",
            {"authorization_state": session.authorization_state},
        )
        # A ping right away: it starts the client's server-ping watchdog (§3.8).
        self.conns.request(conn, now, "signalwire.ping", {})
        # Events kept while the session had no socket, in their order; the
        # loop stops if delivering one moved the session away again.
        while session.backlog and session.conn is conn:
            event_type, ev_params = session.backlog.popleft()
            self.deliver(session, now, event_type, ev_params)
        self.net.start_keepalive(conn, now)

    def answer(
        self,
        conn: Conn,
        session: ServerSession,
        method: str,
        req_id: str | int,
        params: dict[str, Any],
        now: float,
    ) -> None:
        """Answer one of :data:`SESSION_METHODS` for authenticated *session*."""
        if method == "signalwire.ping":
            # §3.4: the server's answer to a client ping carries its timestamp.
            self.conns.respond(conn, now, method, req_id, {"timestamp": self.timestamp(now)})
            return
        self._receive(conn, session, method, req_id, params, now)

    def _receive(
        self,
        conn: Conn,
        session: ServerSession,
        method: str,
        req_id: str | int,
        params: dict[str, Any],
        now: float,
    ) -> None:
        """``signalwire.receive`` / ``unreceive`` (§3.6): add or drop inbound contexts.

        Contexts are additive across connect and receive, and a session's set
        survives resumes; the result texts are the platform's.
        """
        contexts = self._contexts(conn, now, method, req_id, params.get("contexts"), f"{method}: ")
        if contexts is None:
            return
        if method == "signalwire.receive":
            session.contexts.update(contexts)
            self.conns.respond(
                conn, now, method, req_id, {"code": "200", "message": "Receiving events"}
            )
        else:
            session.contexts.difference_update(contexts)
            self.conns.respond(
                conn, now, method, req_id, {"code": "200", "message": "Unreceiving events"}
            )
