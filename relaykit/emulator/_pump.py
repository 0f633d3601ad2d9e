"""The benchmark flood's pump: sending flood events as fast as the clients ACK them (sans-IO).

A :class:`~._flood.Flood` is the state of one burst (its targets, its window,
what was sent and ACKed, the text templates); :mod:`._flood` also holds the
pure fast-path helpers.  :class:`FloodPump` is what *drives* floods over the
server's connections, and the one place that knows the window discipline:

* at most ``window`` events of a flood are unACKed at any time, so the load
  follows the client's real pace instead of piling up in socket buffers
  (a benchmark of the client, not of the kernel's queues);
* each ACK frees one slot; with the journal off, the ACKs of one socket read
  are counted first and the window is refilled once at the end of the read
  (:meth:`FloodPump.refill`), so a read of a hundred ACKs sends one batch;
* an event whose target's socket is gone or half-open counts as sent and
  done: a flood must always finish, and lost events are what a dead network
  does to them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from relay_proto import rpc

from ._flood import Flood, event_template, flood_params, take_ack

if TYPE_CHECKING:
    from ._connections import Connections
    from ._sessions import Conn, ServerSession

__all__ = ["FloodPump"]

#: ``envelope(session, now, event_type, params)``: the server's event envelope.
Envelope = Callable[["ServerSession", float, str, dict[str, Any]], dict[str, Any]]


class FloodPump:
    """Starts floods and keeps their windows full (see module docstring).

    Args:
        conns: The server's connection table (events are written through it).
        envelope: Builds the outer ``signalwire.event`` params, exactly as the
            server does for every other event (the templates are cut from it).
        timestamp: Loop time -> the wall-clock ``timestamp`` of an event.
    """

    def __init__(
        self, conns: Connections, envelope: Envelope, timestamp: Callable[[float], float]
    ) -> None:
        self.conns = conns
        self.envelope = envelope
        self.timestamp = timestamp
        self.queued: list[Flood] = []  # floods to refill at the end of the current read

    def start(
        self, count: int, targets: list[tuple[ServerSession, str, str]], window: int, now: float
    ) -> Flood:
        """Push *count* events round robin over *targets*, at most *window* unACKed.

        Raises:
            ValueError: A negative *count* or a *window* below 1.
        """
        if count < 0 or window < 1:
            raise ValueError("count must be >= 0 and window >= 1")
        flood = Flood(remaining=count if targets else 0, targets=targets, window=window)
        self.pump(flood, now)
        return flood

    def take_ack(self, conn: Conn, text: str) -> bool:
        """The fast path (journal off): if *text* ACKs a flood event, count it; True if so.

        The flood is queued for :meth:`refill` rather than pumped at once, so
        the ACKs of one read cost one refill.
        """
        flood = take_ack(conn.pending, text)
        if flood is None:
            return False
        if not flood.queued:
            flood.queued = True
            self.queued.append(flood)
        return True

    def refill(self, now: float) -> None:
        """End of a socket read: refill the window of every flood ACKed during it."""
        floods, self.queued = self.queued, []
        for flood in floods:
            flood.queued = False
            self.pump(flood, now)

    def acked(self, flood: Flood, now: float) -> None:
        """The general path's flood ACK (journal on): free one slot and refill at once."""
        flood.in_flight -= 1
        flood.acked += 1
        self.pump(flood, now)

    def pump(self, flood: Flood, now: float) -> None:
        """Send the flood's next events until its window is full or none remain."""
        conns = self.conns
        targets = flood.targets
        count = len(targets)
        # Journal off (benchmarks): each event's text comes from a per-target template,
        # with no params dicts and no JSON encoding of the envelope per event.
        fast = not conns.journal.enabled
        dirty = conns.dirty
        if fast and not flood.templates:
            flood.templates = [None] * (2 * count)
        stamp = ""  # one timestamp per batch: every event of it is sent at *now*
        while flood.remaining > 0 and flood.in_flight < flood.window:
            index = flood.sent % count
            session, call_id, node_id = targets[index]
            conn = session.conn
            flood.remaining -= 1
            flood.sent += 1
            if conn is None or conn.frozen:
                continue
            flood.in_flight += 1
            playing = flood.sent % 2  # alternate playing/finished, as documented
            if fast:
                slot = 2 * index + playing
                template = flood.templates[slot]
                if template is None:
                    params = flood_params(call_id, node_id, playing)
                    envelope = self.envelope(session, now, "calling.call.play", params)
                    template = flood.templates[slot] = event_template(envelope)
                if template:
                    if not stamp:
                        stamp = rpc.dumps(self.timestamp(now))
                    req_id = conns.new_id("s")
                    conn.pending[req_id] = flood.entry
                    head, middle, tail = template
                    conn.ws.send_text(f"{head}{rpc.dumps(req_id)}{middle}{stamp}{tail}")
                    dirty.add(conn.id)
                    continue
            # The general path: journalled, and the text encoded in full.
            conns.request(
                conn,
                now,
                "signalwire.event",
                self.envelope(
                    session, now, "calling.call.play", flood_params(call_id, node_id, playing)
                ),
                flood,
            )
