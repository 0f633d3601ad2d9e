"""Conferences and queues: the places where several calls meet (sans-IO).

* ``calling.join_conference`` / ``calling.leave_conference`` (relay-protocol.md
  §6.7): the first participant starts the conference (``conference-start``),
  each join and leave is a ``participant-*`` status, and the last one out ends
  it (``conference-end``, ``reason_ended: last-participant-left``).  Every
  ``calling.conference`` event carries ``call_id``, ``name``,
  ``conference_id``, ``status`` and ``size``, as in the corpus (SWML docs'
  status callbacks); participant events add the participant's flags.
* ``calling.queue.enter`` / ``calling.queue.leave``: ``calling.call.queue``
  events with ``status`` ``enqueue`` or ``leave``, the queue's ``id``,
  ``name``, ``position`` and ``size``, ``avg_time`` and the three timestamps
  in microseconds (``enqueue_ts``, ``dequeue_ts``, ``leave_ts``; 0 when not
  yet), as the 2025 capture in the corpus shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._model import Host, SimCall, call_event, fail, ok

__all__ = ["Rooms"]


@dataclass(eq=False, slots=True)
class _Conference:
    """One running conference: its wire id and the call ids in it."""

    conference_id: str
    members: set[str] = field(default_factory=set)


class Rooms:
    """Every conference and queue of the world, by name.

    Args:
        host: The server's services (ids, timers, event delivery).
    """

    def __init__(self, host: Host) -> None:
        self.host = host
        # Conferences by name: joining a name that does not exist creates it
        # (§5.4 has no create method: the first join starts the conference).
        self._conferences: dict[str, _Conference] = {}
        self._queues: dict[str, list[str]] = {}  # name -> call ids, in queue order
        self._enqueued_at: dict[str, int] = {}  # call id -> enqueue time (µs)

    # ------------------------------------------------------------------ conferences
    def _conference_event(
        self, call: SimCall, now: float, name: str, status: str, **extra: Any
    ) -> None:
        """Emit one ``calling.conference`` event about *call* (see module docstring)."""
        conf = self._conferences[name]
        params = {
            "call_id": call.call_id,
            "name": name,
            "conference_id": conf.conference_id,
            "status": status,
            "size": len(conf.members),
            **extra,
        }
        call_event(self.host, call, now, "calling.conference", params)

    def join(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.join_conference``: start the conference if needed, then join it."""
        name = params["name"]
        # One conference at a time per call: a second join is a conflict (409).
        if call.conference is not None:
            return fail("409", f"call is already in conference {call.conference!r}")
        conf = self._conferences.get(name)
        if conf is None:
            conf = self._conferences[name] = _Conference(self.host.new_id("conf"))
            self._conference_event(call, now, name, "conference-start")
        conf.members.add(call.call_id)
        call.conference = name
        # The participant flags of the corpus's participant-join event; only
        # ``muted`` follows the request, the rest are the platform defaults.
        flags = {
            "muted": bool(params.get("muted", False)),
            "hold": False,
            "start_on_join": True,
            "end_on_leave": False,
            "coaching": False,
        }
        self._conference_event(call, now, name, "participant-join", **flags)
        return ok("Joining conference", conference_id=conf.conference_id, call_id=call.call_id)

    def leave_request(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.leave_conference``: the call must be in the conference it names."""
        name = call.conference
        if name is None or self._conferences[name].conference_id != params["conference_id"]:
            return fail("400", "calling.leave_conference: call is not in that conference")
        self.leave(call, now)
        return ok("Leaving conference")

    def leave(self, call: SimCall, now: float) -> None:
        """Take *call* out of its conference (on request or because it ends)."""
        name = call.conference
        if name is None:
            return
        conf = self._conferences[name]
        conf.members.discard(call.call_id)
        call.conference = None
        self._conference_event(call, now, name, "participant-leave")
        if not conf.members:
            # The last one out ends it; the name is free for a new conference.
            self._conference_event(
                call,
                now,
                name,
                "conference-end",
                reason_ended="last-participant-left",
                call_id_ending_conf=call.call_id,
            )
            del self._conferences[name]

    # ------------------------------------------------------------------ queues
    def queue(
        self, call: SimCall, params: dict[str, Any], now: float, enter: bool
    ) -> dict[str, Any]:
        """``calling.queue.enter`` (*enter*) or ``calling.queue.leave``.

        The position reported is the call's place before it leaves (1-based;
        0 when it was not in the queue).
        """
        name = params["queue_name"]
        members = self._queues.setdefault(name, [])
        # The corpus's queue timestamps are integer microseconds since the epoch.
        stamp = int(self.host.timestamp(now) * 1_000_000)
        if enter and call.call_id not in members:
            members.append(call.call_id)
            self._enqueued_at[call.call_id] = stamp
        # Read before a leave removes the call, so a leave reports where it was.
        position = members.index(call.call_id) + 1 if call.call_id in members else 0
        enqueued = self._enqueued_at.get(call.call_id, 0)
        if not enter and call.call_id in members:
            members.remove(call.call_id)
            self._enqueued_at.pop(call.call_id, None)
        # Nobody ever dequeues a caller here (no agents), so ``dequeue_ts``
        # stays 0 and ``avg_time`` has no samples.
        event = {
            "status": "enqueue" if enter else "leave",
            "id": f"queue-{name}",
            "name": name,
            "position": position,
            "size": len(members),
            "avg_time": 0,
            "enqueue_ts": enqueued,
            "dequeue_ts": 0,
            "leave_ts": 0 if enter else stamp,
            "status_url": str(params.get("status_url", "")),
            "control_id": params["control_id"],
            "call_id": call.call_id,
            "node_id": call.node_id,
        }
        call_event(self.host, call, now, "calling.call.queue", event)
        return ok("Entered queue" if enter else "Left queue", call_id=call.call_id)
