"""Call, action and dial bookkeeping: pure logic shared by every adapter.

The session layer hands every parsed RELAY event to :meth:`Router.dispatch`,
and tells the router about requests as they start and end.  The router then
emits the event (or drops it) followed by whatever it *means* for the
object model: a call that dropped past the cap, an action that reached its
terminal state, a dial that resolved.  Adapters never re-derive any of this.

Routing rules (protocol reference §3.3 and §3.8, the official client's order):

1. ``calling.call.receive`` registers the call, unless the registry already
   holds ``max_active_calls`` calls: then the call is dropped (the event was
   already ACKed by the session) and :class:`~relay_proto.CallDropped` is emitted
   instead.  No ``calling.pass`` or hangup is sent, like the official client.
2. ``calling.call.dial`` is routed by ``tag`` to a pending dial; ``answered``
   and ``failed`` resolve it (:class:`~relay_proto.DialCompleted`).
3. ``calling.call.state`` for an unknown ``call_id`` whose ``tag`` belongs to a
   pending dial registers that dial leg.  Dial legs are never refused, but
   they count towards the cap.
4. Every other ``calling.call.*`` event must name a known ``call_id``;
   events for unknown calls are dropped with a debug log (the official client
   does the same, e.g. for the far leg of ``calling.connect``).  An event
   with no ``call_id`` at all that names a tracked action's ``control_id``
   belongs to that action (the docs' stream status bodies).  After
   ``call_state == "ended"`` the call leaves the registry and its pending
   actions complete with ``reason="call_ended"``.
5. ``messaging.state`` is routed by ``message_id`` (protocol reference §7,
   §8(d)).  ``send_request("messaging.send", ...)`` is tracked; its result's
   ``message_id`` registers the message, and the terminal state (delivered,
   undelivered, failed) emits :class:`~relay_proto.MessageCompleted` after the
   state event.  States can race the send result, so while a
   ``messaging.send`` is unanswered, states for unknown ids are held (at most
   :data:`MAX_EARLY_MESSAGES` ids, the oldest released first) and released
   right after the ``ResponseReceived`` that names their id.  States for ids
   this connection never sent (another client on the same context) still
   pass through as plain events.  Messages survive reconnects: only a terminal
   state completes one.
6. ``calling.conference``, ``calling.error``, ``messaging.receive`` and
   unknown event types are passed through untouched.

Call state is decided here, once: :attr:`CallInfo.state` only moves forward
(created → ringing → answered → ending → ended), and every emitted
:class:`~relay_proto.CallStateChanged` / :class:`~relay_proto.CallReceived`
carries that tracked value in ``state``, so nobody downstream has to re-derive
it from ``call_state`` (which can arrive late, out of order).

What starts an action and what ends it is in the action table
(:data:`~relay_proto.ACTION_SPECS`, :mod:`._actions`); each action completes
exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from sys import intern
from typing import Any, Final

from ._actions import ACTION_KINDS, ACTION_SPECS, ACTION_SPECS_BY_METHOD, ActionSpec
from ._events import (
    ActionCompleted,
    CallDropped,
    CallReceived,
    CallStateChanged,
    DialCompleted,
    DialStateChanged,
    Event,
    MessageCompleted,
    MessageStateChanged,
    RelayEvent,
)

__all__ = [
    "ACTION_KINDS",
    "MAX_EARLY_MESSAGES",
    "MESSAGE_TERMINAL_STATES",
    "CallInfo",
    "Router",
    "is_call_scoped",
]

logger = logging.getLogger("relaykit.core.routing")

#: Call states in their (monotonic) order; later states never go back.
_CALL_STATE_RANK: Final[Mapping[str, int]] = {
    "created": 0,
    "ringing": 1,
    "answered": 2,
    "ending": 3,
    "ended": 4,
}

# Event types whose ending event may lack a control_id, and the row that says
# how to find the action instead (queue: by call and queue name).
_MATCH_BY_KEY: Final[Mapping[str, ActionSpec]] = {
    spec.event_type: spec for spec in ACTION_SPECS.values() if spec.match_key is not None
}

_NOT_CALL_SCOPED: Final = frozenset({"calling.dial", "calling.begin"})

#: ``message_state`` values that end a message (protocol reference §7.2).
MESSAGE_TERMINAL_STATES: Final = frozenset({"delivered", "undelivered", "failed"})
#: Most message ids whose early ``messaging.state`` events are held while a
#: ``messaging.send`` is unanswered (§8(d)); past it the oldest id is released.
MAX_EARLY_MESSAGES: Final = 256
# Most early states held for one id (a message has about five states in all).
_MAX_EARLY_STATES: Final = 16


def is_call_scoped(method: str) -> bool:
    """True for methods that act on an existing call (404/410 then mean "call gone")."""
    return method.startswith("calling.") and method not in _NOT_CALL_SCOPED


class CallInfo:
    """What the core knows about one live call (read-only for callers).

    Attributes:
        call_id: The call's id.
        node_id: The node that owns it (copy it into call-scoped requests).
        state: The furthest call state seen (``created`` ... ``ended``).
        direction: ``inbound`` or ``outbound``.
        tag: The dial/connect tag that created it, or ``""``.
        context: The context an inbound call arrived on, or ``""``.
    """

    __slots__ = ("call_id", "context", "direction", "node_id", "state", "tag")

    def __init__(self, params: Mapping[str, Any], call_id: str) -> None:
        self.call_id = call_id
        self.node_id = _s(params, "node_id")
        # Few distinct values, held for every live call: share one string each.
        self.state = intern(_s(params, "call_state") or "created")
        self.direction = intern(_s(params, "direction"))
        self.tag = _s(params, "tag")
        self.context = intern(_s(params, "context"))

    def __repr__(self) -> str:
        return f"CallInfo(call_id={self.call_id!r}, state={self.state!r})"


def _s(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    return value if isinstance(value, str) else ""


class _Action:
    """One running action: its row, ids, and (for :attr:`ActionSpec.match_key`) its key."""

    __slots__ = ("call_id", "control_id", "key", "request_id", "spec")

    def __init__(
        self, spec: ActionSpec, call_id: str, control_id: str, request_id: str, key: str
    ) -> None:
        self.spec = spec
        self.call_id = call_id
        self.control_id = control_id
        self.request_id = request_id
        self.key = key


class Router:
    """Routes parsed RELAY events and derives call/action/dial outcomes.

    Args:
        emit: Where events go (the connection's event queue ``append``).
        max_active_calls: Cap on the call registry (inbound calls + dial legs).

    The session calls :meth:`request_started` from ``send_request``,
    :meth:`request_failed` / :meth:`request_abandoned` / :meth:`request_done`
    when a request's outcome is known, :meth:`dispatch` for every event after
    ACKing it, and :meth:`connection_lost` when the socket goes away.
    """

    def __init__(self, emit: Callable[[Event], None], max_active_calls: int) -> None:
        self._emit = emit
        self.max_active_calls = max_active_calls
        #: call_id -> CallInfo for every live call.
        self.calls: dict[str, CallInfo] = {}
        # control_id -> action, and call_id -> {control_id: action} for call end.
        self._actions: dict[str, _Action] = {}
        self._call_actions: dict[str, dict[str, _Action]] = {}
        # request_id -> the action/dial it starts, while the start is unanswered.
        self._starts: dict[str, _Action] = {}
        self._dial_requests: dict[str, str] = {}
        # Pending dials: tag -> the request id that started it.
        self._dials: dict[str, str] = {}
        # Unanswered messaging.send requests, the message ids they returned
        # (until a terminal state), and states that arrived before their id
        # was known: message_id -> states, oldest id first.
        self._message_sends: set[str] = set()
        self._messages: set[str] = set()
        self._early_states: dict[str, list[MessageStateChanged]] = {}

    # -- requests -----------------------------------------------------------

    def request_started(self, request_id: str, method: str, params: Mapping[str, Any]) -> None:
        """Register what an outgoing request starts (an action or a dial)."""
        spec = ACTION_SPECS_BY_METHOD.get(method)
        if spec is not None:
            control_id = _s(params, "control_id")
            if not control_id:
                # Nothing could ever name this action in an event: don't track it.
                return
            call_id = _s(params, "call_id")
            key = _s(params, spec.match_key[0]) if spec.match_key is not None else ""
            action = _Action(spec, call_id, control_id, request_id, key)
            self._actions[control_id] = action
            self._call_actions.setdefault(call_id, {})[control_id] = action
            self._starts[request_id] = action
        elif method == "calling.dial":
            tag = _s(params, "tag")
            if tag:
                self._dials[tag] = request_id
                self._dial_requests[request_id] = tag
        elif method == "messaging.send":
            self._message_sends.add(request_id)

    def request_done(self, request_id: str, result: Mapping[str, Any]) -> None:
        """The request succeeded (its ``ResponseReceived`` was just emitted).

        An action or dial now waits for its events.  A ``messaging.send``
        registers the ``message_id`` of *result* and releases the states that
        arrived for it early.
        """
        if self._starts:
            self._starts.pop(request_id, None)
        if self._dial_requests:
            self._dial_requests.pop(request_id, None)
        if self._message_sends and request_id in self._message_sends:
            message_id = result.get("message_id")
            if isinstance(message_id, str) and message_id:
                self._messages.add(message_id)
                for event in self._early_states.pop(message_id, ()):
                    self._on_message_state(event)
            self._message_send_ended(request_id)

    def request_failed(self, request_id: str, call_gone: bool) -> None:
        """The server rejected the request: fail the action or dial it started."""
        action = self._starts.pop(request_id, None)
        if action is not None and action.control_id in self._actions:
            self._complete(action, None, "call_gone" if call_gone else "failed")
        self._request_ended(request_id)

    def request_abandoned(self, request_id: str) -> None:
        """The request timed out or was cancelled.

        An action may still be running on the server (a resumed session keeps
        delivering its events), so it stays registered until its terminal event
        or the end of its call.  A dial that never got an answer fails.
        """
        self._starts.pop(request_id, None)
        self._request_ended(request_id)

    def _request_ended(self, request_id: str) -> None:
        """A request ended without a result: fail its dial, forget its message send."""
        tag = self._dial_requests.pop(request_id, None)
        if tag is not None and self._dials.get(tag) == request_id:
            del self._dials[tag]
            self._emit(DialCompleted(tag=tag, call_id="", event=None, reason="request_failed"))
        if self._message_sends:
            self._message_send_ended(request_id)

    def _message_send_ended(self, request_id: str) -> None:
        """One messaging.send was answered; with none left, release the held states."""
        self._message_sends.discard(request_id)
        if not self._message_sends and self._early_states:
            # Nobody can claim them now: they belong to other clients (or to a
            # send that failed or timed out) and pass through as plain events.
            held, self._early_states = self._early_states, {}
            for events in held.values():
                for event in events:
                    self._emit(event)

    def connection_lost(self, queued: Collection[str]) -> None:
        """Fail every pending dial that was sent (queued dials go out after reconnect)."""
        for tag, request_id in list(self._dials.items()):
            if request_id in queued:
                continue
            del self._dials[tag]
            self._dial_requests.pop(request_id, None)
            self._emit(DialCompleted(tag=tag, call_id="", event=None, reason="connection_lost"))

    # -- events -------------------------------------------------------------

    def dispatch(self, event: RelayEvent) -> None:
        """Emit *event* (or drop it) and everything it implies, in that order."""
        event_type = event.event_type
        if not event_type.startswith("calling.call."):
            if type(event) is MessageStateChanged:
                self._on_message_state(event)
            else:
                # Conference, calling.error, messaging.receive, authorization, unknown.
                self._emit(event)
            return
        params = event.params
        call_id = params.get("call_id")
        if type(event) is CallStateChanged:
            self._on_call_state(event, call_id)
        elif type(event) is CallReceived:
            self._on_call_receive(event, call_id)
        elif type(event) is DialStateChanged:
            self._on_dial(event)
        elif type(call_id) is str and call_id in self.calls:
            self._emit(event)
            if self._actions:
                self._check_action(event)
        elif call_id is None and self._owns_control_id(params):
            # The docs' stream status bodies name only the control_id: an event
            # without a call_id still belongs to the action it names.
            self._emit(event)
            self._check_action(event)
        else:
            logger.debug("dropping %s for unknown call %r", event_type, call_id)

    def _owns_control_id(self, params: Mapping[str, Any]) -> bool:
        """True when *params* name (by ``control_id``) an action this router tracks."""
        control_id = params.get("control_id")
        return type(control_id) is str and control_id in self._actions

    def _on_call_receive(self, event: CallReceived, call_id: object) -> None:
        if not isinstance(call_id, str) or not call_id:
            logger.debug("dropping calling.call.receive without a call_id")
            return
        calls = self.calls
        if call_id not in calls:
            if len(calls) >= self.max_active_calls:
                logger.warning(
                    "max_active_calls (%d) reached: ignoring inbound call %s",
                    self.max_active_calls,
                    call_id,
                )
                self._emit(CallDropped(call_id=call_id, reason="max_active_calls"))
                return
            calls[call_id] = CallInfo(event.params, call_id)
        info = calls[call_id]
        # A repeated receive for a call that moved on must not read as "created".
        if event.state != info.state:
            event = replace(event, state=info.state)
        self._emit(event)

    def _on_call_state(self, event: CallStateChanged, call_id: object) -> None:
        if not isinstance(call_id, str) or not call_id:
            logger.debug("dropping calling.call.state without a call_id")
            return
        info = self.calls.get(call_id)
        if info is None:
            tag = event.tag
            if not tag or tag not in self._dials:
                logger.debug("dropping calling.call.state for unknown call %r", call_id)
                return
            # A leg of a pending dial (rule 3): register it, then fall through.
            info = self.calls[call_id] = CallInfo(event.params, call_id)
        new_state = event.call_state
        rank = _CALL_STATE_RANK.get(new_state)
        if rank is not None and rank > _CALL_STATE_RANK.get(info.state, -1):
            info.state = intern(new_state)
        if not info.node_id:
            info.node_id = event.node_id
        # The event says what the server sent; its ``state`` says where the call
        # stands.  They differ only for a late or unknown state (rare: build a
        # second event only then, the event being frozen).
        if event.state != info.state:
            event = replace(event, state=info.state)
        self._emit(event)
        if info.state == "ended":
            self._end_call(call_id)

    def _end_call(self, call_id: str) -> None:
        """The call ended: finish its pending actions, then forget it."""
        actions = self._call_actions.pop(call_id, None)
        if actions:
            for action in list(actions.values()):
                self._complete(action, None, "call_ended")
        self.calls.pop(call_id, None)

    def _on_dial(self, event: DialStateChanged) -> None:
        tag = event.tag
        request_id = self._dials.get(tag)
        if request_id is None:
            logger.debug("dropping calling.call.dial for unknown tag %r", tag)
            return
        self._emit(event)
        dial_state = event.dial_state
        if dial_state == "answered":
            winner = event.call
            call_id = _s(winner, "call_id")
            if call_id and call_id not in self.calls:
                # The winner's tagged state events may not have arrived (or may
                # never arrive): register it from the dial event itself.
                info = self.calls[call_id] = CallInfo(winner, call_id)
                info.state = "answered"
            del self._dials[tag]
            self._dial_requests.pop(request_id, None)
            self._emit(DialCompleted(tag=tag, call_id=call_id, event=event, reason="answered"))
        elif dial_state == "failed":
            del self._dials[tag]
            self._dial_requests.pop(request_id, None)
            self._emit(DialCompleted(tag=tag, call_id="", event=event, reason="failed"))

    def _on_message_state(self, event: MessageStateChanged) -> None:
        message_id = event.message_id
        if message_id in self._messages:
            self._emit(event)
            state = event.message_state
            if state in MESSAGE_TERMINAL_STATES:
                self._messages.discard(message_id)
                self._emit(MessageCompleted(message_id=message_id, event=event, reason=state))
        elif self._message_sends and message_id:
            # Maybe ours, racing the messaging.send result (§8(d)): hold it.
            self._hold_early_state(message_id, event)
        else:
            self._emit(event)

    def _hold_early_state(self, message_id: str, event: MessageStateChanged) -> None:
        early = self._early_states
        held = early.get(message_id)
        if held is None:
            if len(early) >= MAX_EARLY_MESSAGES:
                oldest = next(iter(early))
                logger.debug("early messaging.state buffer full: releasing %r", oldest)
                for old in early.pop(oldest):
                    self._emit(old)
            early[message_id] = [event]
        elif len(held) < _MAX_EARLY_STATES:
            held.append(event)
        else:
            logger.debug("too many early messaging.state events for %r: releasing", message_id)
            del early[message_id]
            for old in held:
                self._emit(old)
            self._emit(event)

    def _check_action(self, event: RelayEvent) -> None:
        """Complete the action *event* ends, if it ends one (see the action table)."""
        control_id = event.params.get("control_id")
        action = self._actions.get(control_id) if type(control_id) is str else None
        if action is not None:
            spec = action.spec
            # play_and_collect also gets play events: only its own event class can end it.
            if isinstance(event, spec.event_class) and spec.is_terminal(event):
                self._complete(action, event, "finished")
            return
        # No action by that control_id (or none at all: queue's dequeue sends
        # null).  A kind with a match key is found by call and key instead.
        keyed = _MATCH_BY_KEY.get(event.event_type)
        if keyed is not None and keyed.is_terminal(event):
            self._complete_by_key(keyed, event)

    def _complete_by_key(self, spec: ActionSpec, event: RelayEvent) -> None:
        """End the *spec* actions of *event*'s call whose key matches the event's.

        An event without the key (or an action started without one) matches
        every action of that kind on the call: a call is in one queue at a time.
        """
        assert spec.match_key is not None  # only rows with a key get here
        per_call = self._call_actions.get(event.call_id)
        if not per_call:
            return
        key = _s(event.params, spec.match_key[1])
        for action in list(per_call.values()):
            if action.spec is spec and (not key or not action.key or action.key == key):
                self._complete(action, event, "finished")

    def _complete(self, action: _Action, event: RelayEvent | None, reason: str) -> None:
        """Emit ActionCompleted once and forget the action."""
        if self._actions.get(action.control_id) is not action:
            return
        del self._actions[action.control_id]
        per_call = self._call_actions.get(action.call_id)
        if per_call is not None:
            per_call.pop(action.control_id, None)
            if not per_call:
                del self._call_actions[action.call_id]
        self._starts.pop(action.request_id, None)
        self._emit(
            ActionCompleted(
                call_id=action.call_id,
                control_id=action.control_id,
                kind=action.spec.kind,
                event=event,
                reason=reason,
            )
        )
