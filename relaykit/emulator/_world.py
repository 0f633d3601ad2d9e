"""The simulated telephone world and its one entry point for requests (sans-IO).

The server (``EmulatorServer``) holds one :class:`World` and hands it every
application request (``calling.*``, ``messaging.*``) of an authenticated
session through :meth:`World.dispatch`; session methods (``signalwire.*``)
never reach it.  The world is made of collaborators that each simulate one
thing and talk to each other through their public methods:

==============  =========================================================
``calls``       :class:`~._lifecycle.Calls` -- registry, states, offers,
                bridging and the plain call methods
``actions``     :class:`~._actions.ActionSim` -- play, record, collect, ...
``rooms``       :class:`~._rooms.Rooms` -- conferences and queues
``dialer``      :class:`~._dial.Dialer` -- dial, begin, connect
``messaging``   :class:`~._messaging.Messaging` -- SMS/MMS
==============  =========================================================

Every request's params are checked against :mod:`._schema` first, with the
platform's two layers of refusal (relay-protocol.md §2 rule 3): a JSON-RPC
``-32602`` for a param of the wrong JSON type, a RELAY ``400`` result for a
missing or unusable value.  A call-scoped method on an unknown call is a
``404``, on an ended one a ``410`` (§6.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ._actions import ACTION_KINDS, ActionSim
from ._dial import Dialer
from ._lifecycle import CallMethod, Calls
from ._messaging import Messaging
from ._model import Host, fail, ok
from ._rooms import Rooms
from ._schema import METHODS, SUBCOMMANDS, check

if TYPE_CHECKING:
    from ._sessions import ServerSession

__all__ = ["Outcome", "World"]

#: What :meth:`World.dispatch` returns: a RELAY result object, ``(-32602, message)``
#: for a JSON-RPC params error, or ``None`` for a method the world does not know.
Outcome = dict[str, Any] | tuple[int, str] | None

#: Methods the emulator accepts and answers, with no further simulation
#: (their effects are outside what a test can observe over RELAY).
_PLAIN: Final = {
    "calling.bind_digit": "Digit binding created",
    "calling.clear_digit_bindings": "Digit bindings cleared",
    "calling.live_transcribe": "Live transcribe updated",
    "calling.live_translate": "Live translate updated",
    "calling.join_room": "Joining room",
    "calling.leave_room": "Leaving room",
    "calling.amazon_bedrock": "Amazon Bedrock started",
    "calling.user_event": "User event sent",
}


class World:
    """Calls, actions, rooms, dialing and messaging behind one ``dispatch``.

    Args:
        host: The server's services; the world never sees a connection.
    """

    def __init__(self, host: Host) -> None:
        self.actions = ActionSim(host)
        self.rooms = Rooms(host)
        self.calls = Calls(host, self.actions, self.rooms)
        self.dialer = Dialer(host, self.calls)
        self.messaging = Messaging(host)
        # One explicit table of the call-scoped methods that are neither actions
        # nor sub-commands: who answers which.
        self._call_methods: dict[str, CallMethod] = {
            **self.calls.methods(),
            **self.dialer.methods(),
            "calling.join_conference": self.rooms.join,
            "calling.leave_conference": self.rooms.leave_request,
            "calling.queue.enter": lambda c, p, t: self.rooms.queue(c, p, t, enter=True),
            "calling.queue.leave": lambda c, p, t: self.rooms.queue(c, p, t, enter=False),
        }

    def dispatch(
        self, session: ServerSession, method: str, params: dict[str, Any], now: float
    ) -> Outcome:
        """Check and run one application method for *session* (see :data:`Outcome`).

        Events the method causes are emitted through the host while this runs;
        the server delivers them after the response (§3.4).
        """
        if method not in METHODS:
            return None
        err = check(method, params)
        if err is not None:
            return (-32602, err.message) if err.layer == "rpc" else fail("400", err.message)
        if method == "messaging.send":
            return self.messaging.send(session, params, now)
        if method == "calling.dial":
            return self.dialer.dial(session, params, now)
        if method == "calling.begin":
            return self.dialer.begin(session, params, now)
        call_id = params["call_id"]
        call = self.calls.calls.get(call_id)
        if call is None:
            if call_id in self.calls.records:
                return fail("410", f"Call {call_id} is gone")
            return fail("404", f"Call {call_id} not found")
        call.record.methods.append(method)
        call.record.transcript.append(f"-> {method}")
        if method in ACTION_KINDS:
            return self.actions.start(call, ACTION_KINDS[method], params, now)
        if method in SUBCOMMANDS:
            return self.actions.subcommand(call, method, params, now)
        if method in _PLAIN:
            return ok(_PLAIN[method])
        handler = self._call_methods.get(method)
        if handler is None:  # in METHODS but answered by nobody: a bug, said plainly
            return fail("501", f"{method} is not simulated")
        return handler(call, params, now)

    def session_forgotten(self, session: ServerSession, now: float) -> None:
        """*session* cannot be resumed any more: end the calls it controlled."""
        self.calls.session_forgotten(session, now)

    def flood_targets(self, call_ids: list[str] | None) -> list[tuple[ServerSession, str, str]]:
        """``(session, call_id, node_id)`` of the live owned calls (all, or *call_ids*)."""
        calls = self.calls.calls
        chosen = [calls[c] for c in call_ids if c in calls] if call_ids else list(calls.values())
        return [(c.session, c.call_id, c.node_id) for c in chosen if c.session is not None]
