"""The server's connections as JSON-RPC peers: the socket table and all output (sans-IO).

:class:`Connections` is the bottom of the emulator's stack, the one place that
knows which WebSockets exist and what is written to them.  Above it,
``EmulatorServer`` decides *what* to say (answers, events, pings); everything
it says goes through here, for three reasons that each need one choke point:

* every outgoing message is journalled, in wire order, before it is queued --
  the journal is what tests assert on, so nothing may bypass it;
* every write marks its connection *dirty*, and the adapter writes only the
  connections :meth:`Connections.pending_output` names -- a read that needs no
  reply wakes no writer;
* every server-originated request (event, ping, disconnect) gets its id
  recorded in ``Conn.pending`` so that the client's reply (the ACK of §3.5) can
  be matched to it.

Encoding is :mod:`relay_proto.rpc`'s, the same codec the client uses, so the
emulator cannot drift from the client on JSON-RPC framing (relay-protocol.md §2).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from relay_proto import rpc

from ._sessions import Conn
from ._wsserver import ServerWebSocket

if TYPE_CHECKING:
    from ._flood import Flood
    from ._journal import Journal

__all__ = ["PARAMS_ERROR", "Connections"]

#: ``data`` of a JSON-RPC ``-32602`` (the platform's INVALID_PARAMS, §2 rule 3):
#: both the session methods and the world's param checks send it.
PARAMS_ERROR: Final = {"signalwire_error_code": "INVALID_PARAMS"}


class Connections:
    """Every connection by id, which of them have output, and the JSON-RPC writers.

    Args:
        journal: Where every outgoing message is recorded (the server's journal).
        new_id: The server's id source, ``new_id(prefix)``; ids of
            server-originated requests are ``s-<id>``.
        max_message_size: Largest inbound WebSocket message a new connection accepts.
    """

    def __init__(
        self, journal: Journal, new_id: Callable[[str], str], max_message_size: int
    ) -> None:
        self.journal = journal
        self.new_id = new_id
        self.max_message_size = max_message_size
        self.by_id: dict[int, Conn] = {}
        # Connections that may have output or need closing since the adapter last
        # asked; a set, so that a burst of writes to one socket wakes it once.
        self.dirty: set[int] = set()
        self._ids = itertools.count(1)
        self._lost_answers: set[tuple[int, str | int | None]] = set()

    # ------------------------------------------------------------------ the table
    def open(self) -> Conn:
        """Register a freshly accepted socket; returns its :class:`~._sessions.Conn`."""
        conn = Conn(next(self._ids), ServerWebSocket(self.max_message_size))
        self.by_id[conn.id] = conn
        return conn

    def lost(self, conn_id: int) -> None:
        """The socket of *conn_id* is gone: forget it and release what it held."""
        conn = self.by_id.pop(conn_id, None)
        if conn is not None:
            self.detach(conn)
            self.dirty.discard(conn_id)

    def detach(self, conn: Conn) -> None:
        """Cut *conn* loose from its session and give back its floods' window slots.

        The session survives (it can be resumed on another socket, §3.2); only
        the link is cut.  Events still awaiting an ACK on this socket will never
        be ACKed, so each one a flood sent is taken out of that flood's
        in-flight count -- otherwise the flood would wait for them forever.
        """
        for _method, flood in conn.pending.values():
            if flood is not None:
                flood.in_flight -= 1
        conn.pending.clear()
        session = conn.session
        if session is not None and session.conn is conn:
            session.conn = None
        conn.session = None

    def close(self, conn_id: int, code: int, reason: str) -> None:
        """Start closing *conn_id* with a WebSocket close *code* and *reason*.

        The session is detached at once: nothing more is delivered on a
        closing socket, and later events wait in the session's backlog.
        """
        conn = self.by_id.get(conn_id)
        if conn is not None:
            conn.ws.close(code, reason)
            self.dirty.add(conn_id)
            self.detach(conn)

    def ready(self) -> list[int]:
        """Ids of authenticated connections that are not half-open (in accept order)."""
        return [c.id for c in self.by_id.values() if c.session is not None and not c.frozen]

    # ------------------------------------------------------------------ what the adapter writes
    def data_to_send(self, conn_id: int) -> bytes:
        """Bytes to write to *conn_id* (``b""`` if none, or if the connection is frozen).

        A frozen (half-open) connection's output is drained and dropped: the
        fault simulates a network that silently loses everything.
        """
        conn = self.by_id.get(conn_id)
        if conn is None:
            return b""
        data = conn.ws.data_to_send()
        return b"" if conn.frozen else data

    def pending_output(self) -> list[int]:
        """Connection ids that may have bytes to write or need closing; clears the set."""
        ids = list(self.dirty)
        self.dirty.clear()
        return ids

    def should_close(self, conn_id: int) -> bool:
        """True when the adapter should close the socket (after writing ``data_to_send``)."""
        conn = self.by_id.get(conn_id)
        return conn is None or conn.ws.is_closed

    def close_complete(self, conn_id: int) -> bool:
        """True when a closing connection's handshake finished: drop the socket now."""
        conn = self.by_id.get(conn_id)
        return conn is None or conn.ws.is_finished

    # ------------------------------------------------------------------ JSON-RPC writers
    def send(
        self,
        conn: Conn,
        now: float,
        kind: str,
        method: str | None,
        msg_id: str | int | None,
        data: dict[str, Any],
        text: str,
    ) -> None:
        """Journal one outgoing message (*kind*: request, response, error) and queue *text*.

        An answer marked by :meth:`lose_answer` is dropped instead, unjournalled
        (it never reached the wire): the fault of an answer that died in flight.
        """
        if kind != "request" and self._lost_answers and (conn.id, msg_id) in self._lost_answers:
            self._lost_answers.discard((conn.id, msg_id))
            return
        self.journal.add(now, conn.id, "out", kind, method, msg_id, data)
        conn.ws.send_text(text)
        self.dirty.add(conn.id)

    def lose_answer(self, conn: Conn, req_id: str | int) -> None:
        """Drop the answer to request *req_id* on *conn* when it is written (a fault)."""
        self._lost_answers.add((conn.id, req_id))

    def respond(
        self, conn: Conn, now: float, method: str, req_id: str | int, result: dict[str, Any]
    ) -> None:
        """Answer request *req_id* (of *method*, for the journal) with a JSON-RPC ``result``."""
        self.send(conn, now, "response", method, req_id, result, rpc.encode_result(req_id, result))

    def respond_error(
        self,
        conn: Conn,
        now: float,
        method: str | None,
        req_id: str | int | None,
        code: int,
        message: str,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Answer with a JSON-RPC ``error`` (the protocol-level layer of §2 rule 3).

        *req_id* is ``None`` for a message that could not be parsed far enough
        to find its id, as JSON-RPC 2.0 requires for -32700/-32600.
        """
        err: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            err["data"] = data
        self.send(
            conn, now, "error", method, req_id, err, rpc.encode_error(req_id, code, message, data)
        )

    def request(
        self,
        conn: Conn,
        now: float,
        method: str,
        params: dict[str, Any],
        flood: Flood | None = None,
    ) -> str:
        """Send a server-originated request (event, ping, disconnect); returns its id.

        The id is remembered in ``conn.pending`` with *method* (and the *flood*
        that sent it, if any) until the client replies or the socket goes.
        """
        req_id = self.new_id("s")
        conn.pending[req_id] = (method, flood)
        self.send(
            conn,
            now,
            "request",
            method,
            req_id,
            params,
            rpc.encode_request(req_id, method, params),
        )
        return req_id
