"""Faults on demand and the benchmark flood, on top of the session layer (sans-IO).

Every fault is a command on the emulator; the adapter exposes them as
``Emulator.fail_next``, ``go_half_open``, ``server_disconnect``, ... .
"""

from __future__ import annotations

from functools import partial

from relay_proto import rpc

from ._core import Flood, ServerCore, Session
from ._wsserver import CLOSE_GOING_AWAY

__all__ = ["FaultInjection"]


class FaultInjection(ServerCore):
    """Faults and the flood hook (see module docstring)."""

    # ------------------------------------------------------------------ faults
    def fail_next(
        self,
        method: str,
        code: str | int = "500",
        message: str = "Injected failure",
        count: int = 1,
    ) -> None:
        """Answer the next *count* requests of *method* with *code*.

        A string code is a RELAY result code (``{"code": "500", ...}``); an int is a
        JSON-RPC error code.  For ``signalwire.connect`` a string code becomes
        ``-32000`` (connect results are never code-checked).
        """
        self._fail_next.setdefault(method, []).extend([(code, message)] * count)

    def freeze(self) -> list[int]:
        """Go half-open on every current connection: no more reading or writing."""
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
        size = size or self.max_message_size + 1024
        pad = "x" * size
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
        """Send ``signalwire.disconnect`` to every ready connection; each socket is
        closed when the client replies (or after *grace* real seconds).  With
        *restart* the sessions are forgotten (the client must start fresh)."""
        ids = self.ready_connections()
        for cid in ids:
            conn = self._conns[cid]
            self.server_request(conn, now, "signalwire.disconnect", {"restart": restart})
            self.call_later(now, grace, partial(self._close_later, cid))
        if restart:
            for session in list(self._sessions.values()):
                self.forget_session(session, now)
        return len(ids)

    def _close_later(self, conn_id: int, now: float) -> None:
        self.close_connection(conn_id, CLOSE_GOING_AWAY, "server disconnect")

    def start_flood(
        self, count: int, targets: list[tuple[Session, str, str]], window: int, now: float
    ) -> Flood:
        """Push *count* ``calling.call.play`` events round robin over *targets* as fast as
        the clients ACK them, keeping at most *window* unACKed per flood."""
        if count < 0 or window < 1:
            raise ValueError("count must be >= 0 and window >= 1")
        flood = Flood(remaining=count if targets else 0, targets=targets, window=window)
        self._pump_flood(flood, now)
        return flood
