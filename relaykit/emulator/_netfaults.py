"""Connection-level faults and the pings that detect them (sans-IO).

The request-level faults (a canned failure, a slow answer) live in
:mod:`._faults`; this module holds the ones that act on *connections*, the
failures a client's connection management exists for (relay-protocol.md §3.8):

* :meth:`NetworkFaults.freeze` -- half-open sockets: nothing is read or
  written any more, yet nothing is closed, as after a silent network failure.
  Only the client's own ping timeout can notice (§3.4);
* :meth:`NetworkFaults.inject_raw` / :meth:`~NetworkFaults.oversized_frame`
  -- frames the client must survive: malformed JSON, binary frames, bytes
  outside any frame, a message over the client's size cap;
* :meth:`NetworkFaults.disconnect_all` -- the platform's own
  ``signalwire.disconnect`` (§3.5): the socket is closed when the client
  replies, or after a grace period if it never does.

And the liveness half: the server's ``signalwire.ping`` keepalive every
``ping_interval`` real seconds (the platform pings its clients, §3.4), and
:meth:`NetworkFaults.ping_clients`, which lets a test see which clients answer.
Both are real seconds, not simulated: they measure the client's network code,
not the telephone world.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from relay_proto import rpc

from ._wsserver import CLOSE_GOING_AWAY, CLOSE_SERVICE_RESTART

if TYPE_CHECKING:
    from ._connections import Connections
    from ._sessions import Conn
    from ._timers import Scheduler

__all__ = ["NetworkFaults"]


class NetworkFaults:
    """Breaks connections on demand and keeps the healthy ones pinged.

    Args:
        conns: The server's connection table (every ping and frame goes through it).
        scheduler: The server's timers (keepalive, the disconnect grace period).
        ping_interval: Real seconds between keepalive pings (``None``: only the
            one ``signalwire.connect`` sends right after authenticating).
    """

    def __init__(
        self, conns: Connections, scheduler: Scheduler, ping_interval: float | None
    ) -> None:
        self.conns = conns
        self.scheduler = scheduler
        self.ping_interval = ping_interval
        self.pongs: set[str] = set()  # ids of ping_clients() pings the clients answered
        # ping_clients() pings not answered yet; keepalive pings are not tracked,
        # so a keepalive reply never counts as the answer to a test's ping.
        self._pings_out: set[str] = set()

    # ------------------------------------------------------------------ keepalive
    def start_keepalive(self, conn: Conn, now: float) -> None:
        """Arm *conn*'s keepalive after it authenticated (nothing without an interval)."""
        if self.ping_interval:
            self.scheduler.call_later(now, self.ping_interval, partial(self._keepalive, conn))

    def _keepalive(self, conn: Conn, now: float) -> None:
        """One keepalive tick: ping *conn* and re-arm, for as long as it stays open.

        A frozen connection keeps its timer (the ping is simply not sent), so
        the keepalive resumes by itself if a test were to thaw it; a closed,
        lost or unauthenticated one ends the chain.
        """
        if conn.id in self.conns.by_id and conn.session is not None and not conn.ws.is_closed:
            if not conn.frozen:
                self.conns.request(conn, now, "signalwire.ping", {})
            if self.ping_interval:
                self.scheduler.call_later(now, self.ping_interval, partial(self._keepalive, conn))

    def ping_clients(self, now: float) -> set[str]:
        """Send ``signalwire.ping`` to every ready connection; returns the ping ids
        (a pong moves an id into :attr:`pongs`)."""
        ids = set()
        for cid in self.conns.ready():
            ids.add(self.conns.request(self.conns.by_id[cid], now, "signalwire.ping", {}))
        self._pings_out |= ids
        return ids

    def reply_received(self, conn: Conn, key: str, method: str | None) -> None:
        """The client answered our request *key* (of *method*): note pongs, finish disconnects.

        A reply to ``signalwire.disconnect`` is the client saying it is ready to
        go, so the socket is closed with 1012 (service restart) right away
        rather than at the end of the grace period.
        """
        if method == "signalwire.ping" and key in self._pings_out:
            self._pings_out.discard(key)
            self.pongs.add(key)
        elif method == "signalwire.disconnect":
            self.conns.close(conn.id, CLOSE_SERVICE_RESTART, "server disconnect")

    # ------------------------------------------------------------------ faults
    def freeze(self) -> list[int]:
        """Go half-open on every current connection: no more reading or writing.

        The sockets stay open, as after a silent network failure: only the
        client's own ping timeout can notice (§3.4).  Connections accepted
        later are healthy, so the client's reconnect (and resume) can succeed.
        """
        ids = []
        for conn in self.conns.by_id.values():
            conn.frozen = True
            ids.append(conn.id)
        return ids

    def inject_raw(
        self, payload: str | bytes, now: float, conn_id: int | None = None, framed: bool = True
    ) -> int:
        """Send *payload* as one frame (text for str, binary for bytes) to every ready
        connection (or *conn_id*); ``framed=False`` writes raw bytes outside any frame.
        Returns how many connections got it."""
        targets = [conn_id] if conn_id is not None else self.conns.ready()
        sent = 0
        for cid in targets:
            conn = self.conns.by_id.get(cid)
            if conn is None or not conn.ws.is_open:
                continue
            # The journal keeps an excerpt: a test's garbage may be megabytes.
            excerpt = payload[:120] if isinstance(payload, str) else payload[:120].hex()
            self.conns.journal.add(
                now, cid, "out", "raw", None, None, {"excerpt": excerpt, "size": len(payload)}
            )
            if framed:
                conn.ws.send_raw_frame(payload)
            else:
                conn.ws.send_garbage(payload if isinstance(payload, bytes) else payload.encode())
            self.conns.dirty.add(cid)
            sent += 1
        return sent

    def oversized_frame(self, size: int | None = None) -> str:
        """A valid JSON-RPC event text larger than the client's 10 MiB cap.

        Valid on purpose: the client must refuse it for its size alone, not
        because it fails to parse.  The default is just over the server's own
        inbound limit, which matches the client's.
        """
        pad = "x" * (size or self.conns.max_message_size + 1024)
        return rpc.encode_request(
            self.conns.new_id("s"),
            "signalwire.event",
            {"event_type": "relaykit.padding", "params": {"pad": pad}},
        )

    def disconnect_all(self, now: float, restart: bool, grace: float) -> int:
        """Send ``signalwire.disconnect {"restart": restart}`` to every ready connection (§3.5).

        Each socket is closed when its client replies (:meth:`reply_received`),
        or with 1001 (going away) after *grace* real seconds if it never does.
        Forgetting the sessions, which *restart* also means, is the server's
        part (sessions are not a connection matter).  Returns how many
        connections were asked to go.
        """
        ids = self.conns.ready()
        for cid in ids:
            conn = self.conns.by_id[cid]
            self.conns.request(conn, now, "signalwire.disconnect", {"restart": restart})
            self.scheduler.call_later(now, grace, partial(self._close_later, cid))
        return len(ids)

    def _close_later(self, conn_id: int, now: float) -> None:
        """The grace period after ``signalwire.disconnect`` is over: close (1001)."""
        self.conns.close(conn_id, CLOSE_GOING_AWAY, "server disconnect")
