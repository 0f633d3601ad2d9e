"""The simulated world's records and the interface it uses to reach the server.

The world (calls, actions, dialing, conferences, messaging) never touches a
connection.  Everything it needs from the server -- ids, time, timers, and
delivering an event to a session -- goes through :class:`Host`, a small
explicit interface that ``EmulatorServer`` implements.  This is the seam the
architecture review asked for (structural change 2(c)): the server *holds*
the world, and the world sees only this much of the server.

Records:

* :class:`SimCall` -- one call leg as the platform tracks it: its ids, state
  (§6.1), owner session, bridged peer, running actions and the far end's
  script;
* :class:`SimAction` -- one running action (play, record, ...) keyed by its
  ``control_id`` (§6.3).

Results: :func:`ok` and :func:`fail` build RELAY result objects (``code`` is a
string, §2.5).  :func:`call_event` emits an event about a call and notes it in
the call's readable transcript.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from ._script import Caller, CallRecord, Step

if TYPE_CHECKING:
    from ._sessions import ServerSession
    from ._timers import Timer

__all__ = [
    "NODE_ID",
    "Host",
    "SimAction",
    "SimCall",
    "call_event",
    "fail",
    "ids",
    "ok",
]

#: The node every simulated call lives on (``node_id`` in every call event, §6.2).
NODE_ID: Final = "relaykit-node-1"


class Host(Protocol):
    """What the world may ask of the server (implemented by ``EmulatorServer``)."""

    @property
    def time_scale(self) -> float:
        """Real seconds per simulated second."""
        ...

    def new_id(self, prefix: str) -> str:
        """A fresh ``<prefix>-<id>`` (deterministic with an injected id source)."""
        ...

    def scaled(self, seconds: float) -> float:
        """Real seconds for *seconds* of simulated time."""
        ...

    def timestamp(self, now: float) -> float:
        """Wall-clock seconds for loop time *now* (event ``timestamp``s, queue ``*_ts``)."""
        ...

    def call_later(self, now: float, delay: float, fn: Callable[[float], None]) -> Timer:
        """Run ``fn(now)`` after *delay* real seconds."""
        ...

    def emit(
        self, session: ServerSession, now: float, event_type: str, params: dict[str, Any]
    ) -> None:
        """Send ``signalwire.event`` *event_type* with *params* to *session*."""
        ...

    def pick_subscriber(
        self, context: str, exclude: set[str] | None = None
    ) -> ServerSession | None:
        """Round robin among live subscribers of *context*."""
        ...

    def session_for_context(self, context: str) -> ServerSession | None:
        """The session a messaging context names (its protocol, else a subscriber)."""
        ...


@dataclass(eq=False, slots=True)
class SimAction:
    """One running action on a call (relay-protocol.md §6.3).

    Times are real seconds on the adapter's clock; ``content`` is simulated.
    """

    kind: str  # the action kind: "play", "record", "collect", "pay", ...
    control_id: str
    params: dict[str, Any]  # the start request's params (also echoed in events)
    state: str = "running"
    timer: Timer | None = None
    started: float = 0.0  # real time the current running segment started
    remaining: float = 0.0  # real seconds left when paused (play/record)
    elapsed: float = 0.0  # real seconds accumulated (record)
    content: float = 0.0  # simulated seconds of captured audio (record)
    opened: float = 0.0  # real time the action began (record: the no_input window)
    phase: str = ""  # play_and_collect: "play" then "collect"
    pending_input: tuple[float, dict[str, Any]] | None = None  # (delay, result) until timers start
    final: dict[str, Any] | None = None  # collect: the result due after a partial one


@dataclass(eq=False, slots=True)
class SimCall:
    """A simulated call leg (relay-protocol.md §6)."""

    call_id: str
    direction: str  # "inbound" (offered by the emulator) or "outbound" (dial/connect leg)
    device: dict[str, Any]  # the wire device: {"type": "phone", "params": {...}}
    session: ServerSession | None  # the controlling client; None once nobody owns it
    script: Caller  # what the far end does
    record: CallRecord  # the readable account of the call
    context: str | None = None
    state: str = "created"
    tag: str | None = None
    created_by: str | None = None  # "dial" or "connect" for outbound legs
    peer_ref: dict[str, Any] | None = None  # `peer` field of a connect leg's state events
    peer: SimCall | None = None  # the bridged call
    actions: dict[str, SimAction] = field(default_factory=dict)
    steps: deque[Step] = field(default_factory=deque)  # the script's unconsumed input steps
    timers: list[Timer] = field(default_factory=list)  # ring, answer, hangup timers
    conference: str | None = None  # name of the conference the call is in
    passed: set[str] = field(default_factory=set)  # protocols that passed on the offer
    node_id: str = NODE_ID
    # Real times of the last audio each way, for recordings' no_input: a prompt
    # playing to the caller ("listen") and the caller's digits/speech ("speak").
    prompt_at: float | None = None
    caller_at: float | None = None


def ok(message: str, **extra: Any) -> dict[str, Any]:
    """A RELAY success result: ``{"code": "200", "message": ..., **extra}`` (§2.5)."""
    return {"code": "200", "message": message, **extra}


def fail(code: str, message: str) -> dict[str, Any]:
    """A RELAY failure result (the JSON-RPC response succeeds; ``code`` says no)."""
    return {"code": code, "message": message}


def ids(call: SimCall, action: SimAction | None = None) -> dict[str, Any]:
    """The id fields every call event starts with (plus ``control_id`` for an action)."""
    out: dict[str, Any] = {"call_id": call.call_id, "node_id": call.node_id}
    if action is not None:
        out["control_id"] = action.control_id
    return out


def call_event(
    host: Host, call: SimCall, now: float, event_type: str, params: dict[str, Any]
) -> None:
    """Emit *event_type* about *call* to its owner and note it in the transcript.

    A call nobody owns any more (its session was forgotten, or a pass found no
    taker) still gets the transcript line: the record shows what the platform
    would have said.
    """
    call.record.transcript.append(_summary(event_type, params))
    if call.session is not None:
        host.emit(call.session, now, event_type, params)


def _summary(event_type: str, params: dict[str, Any]) -> str:
    """One transcript line: ``<- calling.call.play playing`` (the most telling field)."""
    result = params.get("result")
    if isinstance(result, dict):
        return f"<- {event_type} {result.get('type')}"
    for key in ("call_state", "state", "connect_state", "dial_state", "status", "for"):
        value = params.get(key)
        if isinstance(value, str):
            return f"<- {event_type} {value}"
    detect = params.get("detect")
    if isinstance(detect, dict):
        return f"<- {event_type} {detect.get('params', {}).get('event')}"
    fax = params.get("fax")
    if isinstance(fax, dict):
        return f"<- {event_type} {fax.get('type')}"
    return f"<- {event_type}"
