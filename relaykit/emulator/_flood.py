"""The benchmark flood's state and its fast path (sans-IO).

:meth:`EmulatorServer.start_flood` pushes ``calling.call.play`` events round robin
over calls as fast as the clients ACK them.  It is the benchmarks' load
generator, so with the journal off (as the benchmarks run it) it avoids the
per-event work the general path does:

* each event's JSON text is a per-(target, state) template with the id and the
  timestamp filled in -- the template is cut from the text the general path's
  encoder produces, so the bytes are the same (the tests compare them);
* an ACK is recognised with one JSON decode and a few type checks, without the
  message objects of :func:`relay_proto.rpc.decode`; everything else takes the
  general path;
* the window is refilled once per read, not once per ACK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from relay_proto import rpc

if TYPE_CHECKING:
    from ._sessions import ServerSession

__all__ = ["Flood", "event_template", "flood_params", "take_ack"]

# Placeholders for the id and the timestamp in a flood event's text template.
_ID_MARK: Final = "relaykit-flood-id-placeholder"
_TS_MARK: Final = "relaykit-flood-timestamp-placeholder"


@dataclass(eq=False, slots=True)
class Flood:
    """A benchmark burst of events (see ``EmulatorServer.start_flood``)."""

    remaining: int
    targets: list[tuple[ServerSession, str, str]]  # (session, call_id, node_id)
    window: int
    in_flight: int = 0
    sent: int = 0
    acked: int = 0
    # The fast path's state (journal off): the pending-table entry every event of
    # this flood shares, the event text templates per (target, state) built on first
    # use (``()``: this target cannot be templated, send it the long way), and
    # whether the flood waits to be pumped at the end of the current read.
    entry: tuple[str, Flood | None] = field(default=("signalwire.event", None), repr=False)
    templates: list[tuple[str, ...] | None] = field(default_factory=list, repr=False)
    queued: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self.entry = ("signalwire.event", self)

    @property
    def done(self) -> bool:
        """True when every event was sent and ACKed (or its connection was lost)."""
        return self.remaining == 0 and self.in_flight == 0


def flood_params(call_id: str, node_id: str, playing: int) -> dict[str, Any]:
    """The ``params`` of a flood's ``calling.call.play`` event."""
    return {
        "call_id": call_id,
        "node_id": node_id,
        "control_id": f"flood-{call_id}",
        "state": "playing" if playing else "finished",
    }


def event_template(envelope: dict[str, Any]) -> tuple[str, ...]:
    """``(head, middle, tail)``: the ``signalwire.event`` request carrying *envelope*
    with id ``i`` at time ``t`` is ``head + JSON(i) + middle + JSON(t) + tail``, as
    :func:`relay_proto.rpc.encode_request` encodes it (``t`` is the rounded
    ``timestamp`` of the envelope).

    Returns:
        The three parts, or ``()`` if the placeholders put in for the id and the
        timestamp are not each found exactly once in that order (a call id that
        contains one): send such events the general way.
    """
    envelope = {**envelope, "timestamp": _TS_MARK}
    text = rpc.encode_request(_ID_MARK, "signalwire.event", envelope)
    id_mark, ts_mark = f'"{_ID_MARK}"', f'"{_TS_MARK}"'
    if text.count(id_mark) != 1 or text.count(ts_mark) != 1:
        return ()
    head, rest = text.split(id_mark)
    if ts_mark not in rest:
        return ()
    middle, tail = rest.split(ts_mark)
    return (head, middle, tail)


def take_ack(pending: dict[str, tuple[str, Flood | None]], text: str) -> Flood | None:
    """If *text* is the success response to a pending flood event, take it.

    Decodes and matches the id as :func:`relay_proto.rpc.decode` and the general
    reply path would; removes the entry from *pending* and counts the ACK on its
    flood, which it returns.  Anything else (another reply, a request, invalid
    JSON) returns ``None`` and is left to the general path.
    """
    try:
        obj = rpc.JSON_LOADS(text)
    except Exception:  # the general path decodes it again and reports what is wrong
        return None
    if type(obj) is not dict or obj.get("method") is not None or "error" in obj:
        return None
    msg_id = obj.get("id")
    if type(msg_id) is not str or "result" not in obj:
        return None
    entry = pending.get(msg_id)
    if entry is None:
        return None
    flood = entry[1]
    if flood is None:
        return None
    del pending[msg_id]
    flood.in_flight -= 1
    flood.acked += 1
    return flood
