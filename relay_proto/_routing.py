"""Call, action and dial bookkeeping: pure logic shared by every adapter.

The session layer hands every parsed RELAY event to :meth:`Router.dispatch`,
and tells the router about requests as they start and end.  The router then
emits the event (or drops it) followed by whatever it *means* for the
object model: a call that dropped past the cap, an action that reached its
terminal state, a dial that resolved.  Adapters never re-derive any of this.

Routing rules (protocol reference §3.3 and §3.8, the official client's order):

1. ``calling.call.receive`` registers the call, unless the registry already
   holds ``max_active_calls`` calls: then the call is not taken (the event was
   already ACKed by the session) and :class:`~relay_proto.CallDropped` is
   emitted instead.  With ``over_capacity="ignore"`` (the default, like the
   official client) nothing is sent; with ``"pass"`` the core answers the
   offer with ``calling.pass`` so another consumer of the context takes it.
   A second offer of a call already delivered (same ``call_id``: a live call
   whose offer was delivered, or one of the last
   :data:`~._recent.MAX_RECENT_CALLS` such calls that ended) is a redelivery
   and is dropped, unless this client passed that call back meanwhile.
2. ``calling.call.dial`` is routed by ``tag`` to a pending dial; ``answered``
   and ``failed`` resolve it (:class:`~relay_proto.DialCompleted`).
3. ``calling.call.state`` for an unknown ``call_id`` whose ``tag`` belongs to a
   pending dial registers that dial leg.  Dial legs are never refused, but
   they count towards the cap.
3a. Dial ownership: a dial the application gave up on (:meth:`Router.abandon_dial`)
   or that the core failed itself (connection lost, session not resumed, or
   client closed) is *abandoned*.  Every leg of it already known, and every leg
   reported later (a tagged ``calling.call.state`` or the ``answered`` dial
   event), gets ``calling.end`` from the core, repeated if the leg still shows
   up alive and after every new session, until its ``ended`` state (or a 404/410)
   arrives.  Legs first seen after the abandon are not registered or emitted:
   nobody outside the core owns them.  A dial that was on the wire when the
   socket dropped stays pending across a *resumed* session (its events keep
   coming); only a fresh session fails it.
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
   unknown event types are passed through untouched, except a
   ``messaging.receive`` whose ``message_id`` was delivered within the last
   :data:`~._recent.MAX_RECENT_MESSAGES` messages: a redelivery, dropped.

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
from ._errors import LocalProtocolError
from ._events import (
    ActionCompleted,
    CallDropped,
    CallHungUpByCore,
    CallReceived,
    CallStateChanged,
    DialCompleted,
    DialStateChanged,
    Event,
    MessageCompleted,
    MessageReceived,
    MessageStateChanged,
    RelayEvent,
)
from ._recent import MAX_RECENT_CALLS, MAX_RECENT_MESSAGES, RecentIds

__all__ = [
    "ACTION_KINDS",
    "MAX_ABANDONED_DIALS",
    "MAX_EARLY_MESSAGES",
    "MAX_HANGUP_ATTEMPTS",
    "MAX_ORPHAN_LEGS",
    "MESSAGE_TERMINAL_STATES",
    "OVER_CAPACITY_POLICIES",
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
#: What to do with an inbound call past ``max_active_calls``: ``"ignore"``
#: (ACK, drop, log: the official client's behaviour) or ``"pass"`` (send
#: ``calling.pass`` so that another worker on the context takes it).
OVER_CAPACITY_POLICIES: Final = ("ignore", "pass")
#: Abandoned dial tags remembered while their legs may still be reported; past
#: it the oldest is forgotten (a dial resolves within its dial timeout, so this
#: only bounds a server that never resolves dials).
MAX_ABANDONED_DIALS: Final = 1024
#: Legs of abandoned dials the core is hanging up, at most (oldest forgotten).
MAX_ORPHAN_LEGS: Final = 4096
#: ``calling.end`` attempts per orphan leg that keeps showing up alive.
MAX_HANGUP_ATTEMPTS: Final = 5
# Call states in which a leg needs no (further) hangup.
_GOING: Final = frozenset({"ending", "ended"})


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
        received: Its offer (``calling.call.receive``) was delivered.
    """

    __slots__ = ("call_id", "context", "direction", "node_id", "received", "state", "tag")

    def __init__(self, params: Mapping[str, Any], call_id: str) -> None:
        self.call_id = call_id
        # Few distinct values, held for every live call: share one string each.
        self.node_id = intern(_s(params, "node_id"))
        self.state = intern(_s(params, "call_state") or "created")
        self.direction = intern(_s(params, "direction"))
        self.tag = _s(params, "tag")
        self.context = intern(_s(params, "context"))
        self.received = False

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


class _Orphan:
    """A leg of an abandoned dial that the core hangs up: its ids and hangup progress."""

    __slots__ = ("attempts", "call_id", "confirmed", "node_id", "request_id", "tag")

    def __init__(self, call_id: str, node_id: str, tag: str) -> None:
        self.call_id = call_id
        self.node_id = node_id
        self.tag = tag
        # The calling.end on the wire (or queued), if any; at most one at a time.
        self.request_id: str | None = None
        self.attempts = 0
        # The server accepted a calling.end: no resend on a new session.
        self.confirmed = False


def _refuse_send(method: str, params: Mapping[str, Any]) -> str:
    raise LocalProtocolError(f"this router cannot send requests ({method})")


class Router:
    """Routes parsed RELAY events and derives call/action/dial outcomes.

    Args:
        emit: Where events go (the connection's event queue ``append``).
        max_active_calls: Cap on the call registry (inbound calls + dial legs).
        send: Sends (or queues) a request on the core's own account and
            returns its id; its outcome comes back through
            :meth:`internal_outcome`.  The default refuses (routing-only tests).
        over_capacity: One of :data:`OVER_CAPACITY_POLICIES`.

    Raises:
        LocalProtocolError: *over_capacity* is not a known policy.

    The session calls :meth:`request_started` from ``send_request``,
    :meth:`request_failed` / :meth:`request_abandoned` / :meth:`request_done`
    when a request's outcome is known, :meth:`internal_outcome` for its own
    requests, :meth:`dispatch` for every event after ACKing it,
    :meth:`connection_lost` when the socket goes away, :meth:`session_started`
    after each successful ``signalwire.connect``, and :meth:`abandon_dial` /
    :meth:`fail_all_dials` when dials are given up.
    """

    def __init__(
        self,
        emit: Callable[[Event], None],
        max_active_calls: int,
        *,
        send: Callable[[str, Mapping[str, Any]], str] = _refuse_send,
        over_capacity: str = "ignore",
    ) -> None:
        if over_capacity not in OVER_CAPACITY_POLICIES:
            raise LocalProtocolError(
                f"over_capacity must be one of {OVER_CAPACITY_POLICIES}, got {over_capacity!r}"
            )
        self._emit = emit
        self._send = send
        self.max_active_calls = max_active_calls
        self.over_capacity = over_capacity
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
        # Dial ownership (rule 3a): tags of dials given up on whose legs may
        # still be reported (insertion-ordered, bounded), the legs being hung
        # up, the internal requests doing it, and the tags of pending dials
        # that were on the wire when the last socket dropped.
        self._abandoned: dict[str, None] = {}
        self._orphans: dict[str, _Orphan] = {}
        self._hangups: dict[str, str] = {}
        self._in_doubt: set[str] = set()
        # calling.pass requests sent past the cap: request id -> call id.
        self._passes: dict[str, str] = {}
        # Redelivery windows (rules 1 and 6).
        self._received_calls = RecentIds(MAX_RECENT_CALLS)
        self._received_messages = RecentIds(MAX_RECENT_MESSAGES)

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
        elif method == "calling.pass":
            # A call we pass back may be offered to us again: that second
            # offer is not a redelivery of the first.
            call_id = _s(params, "call_id")
            self._received_calls.discard(call_id)
            info = self.calls.get(call_id)
            if info is not None:
                info.received = False

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

    def request_abandoned(self, request_id: str, sent: bool = True) -> None:
        """The request timed out or was cancelled.

        Args:
            request_id: The request.
            sent: True when it had gone out on a socket (its outcome is unknown).

        An action may still be running on the server (a resumed session keeps
        delivering its events), so it stays registered until its terminal event
        or the end of its call.  A dial that never left the client fails; one
        that was sent may be running on the server, so it stays pending: a
        resumed session delivers its events, a fresh one fails it
        (:meth:`session_started`).
        """
        self._starts.pop(request_id, None)
        if sent:
            tag = self._dial_requests.pop(request_id, None)
            if tag is not None and self._dials.get(tag) == request_id:
                self._in_doubt.add(tag)
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
        """Mark every pending dial that was sent as in doubt (queued dials go out later).

        Nothing is failed yet: if the next session resumes this one, the
        server keeps delivering the dial's events.  :meth:`session_started`
        decides.
        """
        for tag, request_id in self._dials.items():
            if request_id not in queued:
                self._in_doubt.add(tag)

    def session_started(self, restored: bool) -> None:
        """A ``signalwire.connect`` succeeded: settle in-doubt dials, resend hangups.

        Args:
            restored: The server resumed the previous session (``session_restored``).

        Without a resume, the dials that were on the wire can never get their
        events on this session: they fail (``"connection_lost"``) and are
        abandoned, so their known legs are hung up.  Every orphan leg whose
        hangup was not confirmed gets a new ``calling.end`` (the last one may
        have died with the socket).
        """
        doubtful, self._in_doubt = self._in_doubt, set()
        if not restored:
            for tag in doubtful:
                if tag in self._dials:
                    self._give_up_dial(tag, "connection_lost")
        for orphan in list(self._orphans.values()):
            if not orphan.confirmed:
                self._hang_up(orphan)

    def fail_all_dials(self, reason: str, *, hang_up: bool = True) -> None:
        """The client is closing: every pending dial fails with *reason*.

        Args:
            reason: The :class:`~relay_proto.DialCompleted` reason.
            hang_up: Abandon the dials too, sending ``calling.end`` for their
                known legs now (a polite close: the requests are written
                before the WebSocket close frame).  False once nothing can be
                sent any more.
        """
        for tag in list(self._dials):
            if hang_up:
                self._give_up_dial(tag, reason)
            else:
                request_id = self._dials.pop(tag)
                self._dial_requests.pop(request_id, None)
                self._emit(DialCompleted(tag=tag, call_id="", event=None, reason=reason))
        self._in_doubt.clear()

    def pending_dial_request(self, tag: str) -> str | None:
        """The request id of the pending dial *tag*, or None when no such dial is pending."""
        return self._dials.get(tag)

    def abandon_dial(self, tag: str) -> bool:
        """The application gave up on dial *tag*: no leg of it may stay up unowned.

        A pending dial completes with ``"abandoned"``.  Every live leg already
        known for *tag* (including the winner of an answered dial) gets
        ``calling.end``, and so does every leg reported later.

        Returns:
            True when *tag* named a pending dial or a live leg; False when
            there was nothing to do (unknown tag, or every leg already ended).
        """
        known = tag in self._dials
        if known:
            self._give_up_dial(tag, "abandoned")
        else:
            # An answered dial: its legs are registered calls now.
            known = self._hang_up_known_legs(tag)
        return known

    def internal_outcome(
        self, request_id: str, ok: bool, *, gone: bool = False, lost: bool = False
    ) -> None:
        """The outcome of a request the core sent itself (hangup or pass).

        Args:
            request_id: The internal request.
            ok: The server accepted it.
            gone: The server answered 404/410: the call no longer exists.
            lost: No answer came (timed out, or the socket or client went):
                a hangup is sent again on the next event or session.
        """
        call_id = self._hangups.pop(request_id, None)
        if call_id is not None:
            orphan = self._orphans.get(call_id)
            if orphan is None or orphan.request_id != request_id:
                return
            orphan.request_id = None
            if gone:
                del self._orphans[call_id]
            elif ok:
                orphan.confirmed = True
            elif not lost:
                logger.warning("calling.end for orphan leg %s was not accepted", call_id)
            return
        call_id = self._passes.pop(request_id, None)
        if call_id is not None and not ok:
            # Nothing more to do: the offer times out at the server, as with "ignore".
            logger.warning("calling.pass of over-capacity call %s got no success", call_id)

    def _give_up_dial(self, tag: str, reason: str) -> None:
        """Fail the pending dial *tag* with *reason* and abandon it."""
        request_id = self._dials.pop(tag)
        self._dial_requests.pop(request_id, None)
        self._in_doubt.discard(tag)
        self._emit(DialCompleted(tag=tag, call_id="", event=None, reason=reason))
        abandoned = self._abandoned
        abandoned[tag] = None
        if len(abandoned) > MAX_ABANDONED_DIALS:
            oldest = next(iter(abandoned))
            logger.warning("too many abandoned dials: no longer watching %r", oldest)
            del abandoned[oldest]
        self._hang_up_known_legs(tag)

    def _hang_up_known_legs(self, tag: str) -> bool:
        """Hang up every live registered call of dial *tag*; True when there was one."""
        found = False
        # A scan: abandoning is rare, and the registry is bounded by the cap.
        for info in list(self.calls.values()):
            if info.tag == tag and info.state not in _GOING:
                found = True
                self._orphan(info.call_id, info.node_id, tag)
        return found

    def _orphan(self, call_id: str, node_id: str, tag: str) -> None:
        """Make *call_id* an orphan leg of dial *tag* and hang it up."""
        orphans = self._orphans
        orphan = orphans.get(call_id)
        if orphan is None:
            orphan = orphans[call_id] = _Orphan(call_id, node_id, tag)
            if len(orphans) > MAX_ORPHAN_LEGS:
                oldest = next(iter(orphans))
                logger.warning("too many orphan legs: no longer hanging up %s", oldest)
                del orphans[oldest]
            logger.info("hanging up leg %s of abandoned dial %r", call_id, tag)
            self._emit(CallHungUpByCore(call_id=call_id, tag=tag, reason="dial_abandoned"))
        elif node_id and not orphan.node_id:
            orphan.node_id = node_id
        self._hang_up(orphan)

    def _hang_up(self, orphan: _Orphan) -> None:
        """Send ``calling.end`` for *orphan* unless one is pending or attempts ran out."""
        if orphan.request_id is not None or orphan.call_id not in self._orphans:
            return
        if orphan.attempts >= MAX_HANGUP_ATTEMPTS:
            return
        orphan.attempts += 1
        if orphan.attempts == MAX_HANGUP_ATTEMPTS:
            logger.warning(
                "leg %s of abandoned dial %r: last calling.end attempt", orphan.call_id, orphan.tag
            )
        request_id = self._send(
            "calling.end",
            {"call_id": orphan.call_id, "node_id": orphan.node_id, "reason": "hangup"},
        )
        orphan.request_id = request_id
        self._hangups[request_id] = orphan.call_id

    def _orphan_state(self, call_id: str, state: str) -> None:
        """An orphan leg reported *state*: forget it once ended, hang up again if still alive."""
        orphan = self._orphans.get(call_id)
        if orphan is None:
            return
        if state == "ended":
            del self._orphans[call_id]
        elif state not in _GOING:
            # Still (or again) alive: the last hangup did not take.
            orphan.confirmed = False
            self._hang_up(orphan)

    # -- events -------------------------------------------------------------

    def dispatch(self, event: RelayEvent) -> None:
        """Emit *event* (or drop it) and everything it implies, in that order."""
        event_type = event.event_type
        if not event_type.startswith("calling.call."):
            if type(event) is MessageStateChanged:
                self._on_message_state(event)
            elif type(event) is MessageReceived and not self._first_message(event):
                logger.debug("dropping redelivered messaging.receive %s", event.message_id)
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

    def drops_redelivery(self, event: RelayEvent) -> bool:
        """True when :meth:`dispatch` itself drops a redelivery of *event*.

        An offer with a ``call_id`` and an inbound message with a
        ``message_id`` are recognised by that id (rules 1 and 6), whatever
        request id the server gives the copy; the session then need not
        remember the request id as well.
        """
        if type(event) is CallReceived:
            return bool(event.call_id)
        return type(event) is MessageReceived and bool(event.message_id)

    def _first_message(self, event: MessageReceived) -> bool:
        """False when *event* is a redelivery of a message already delivered."""
        message_id = event.message_id
        return not message_id or self._received_messages.add(message_id)

    def _owns_control_id(self, params: Mapping[str, Any]) -> bool:
        """True when *params* name (by ``control_id``) an action this router tracks."""
        control_id = params.get("control_id")
        return type(control_id) is str and control_id in self._actions

    def _on_call_receive(self, event: CallReceived, call_id: object) -> None:
        if not isinstance(call_id, str) or not call_id:
            logger.debug("dropping calling.call.receive without a call_id")
            return
        calls = self.calls
        info = calls.get(call_id)
        if (info is not None and info.received) or call_id in self._received_calls:
            # Already delivered: the application must not get the same call twice.
            # (A live call says so itself; an ended one is in the window.)
            logger.debug("dropping redelivered calling.call.receive for call %s", call_id)
            return
        if info is None:
            if len(calls) >= self.max_active_calls:
                self._over_capacity(call_id, _s(event.params, "node_id"))
                return
            info = calls[call_id] = CallInfo(event.params, call_id)
        info.received = True
        # A receive for a call that moved on (say, passed back and offered
        # again) must not read as "created".
        if event.state != info.state:
            event = replace(event, state=info.state)
        self._emit(event)

    def _over_capacity(self, call_id: str, node_id: str) -> None:
        """The registry is full: ignore the offered call, or pass it back (the policy)."""
        if self.over_capacity == "pass":
            logger.warning(
                "max_active_calls (%d) reached: passing inbound call %s to another consumer",
                self.max_active_calls,
                call_id,
            )
            request_id = self._send("calling.pass", {"call_id": call_id, "node_id": node_id})
            self._passes[request_id] = call_id
            self._emit(CallDropped(call_id=call_id, reason="max_active_calls", passed=True))
            return
        logger.warning(
            "max_active_calls (%d) reached: ignoring inbound call %s",
            self.max_active_calls,
            call_id,
        )
        self._emit(CallDropped(call_id=call_id, reason="max_active_calls"))

    def _on_call_state(self, event: CallStateChanged, call_id: object) -> None:
        if not isinstance(call_id, str) or not call_id:
            logger.debug("dropping calling.call.state without a call_id")
            return
        info = self.calls.get(call_id)
        if info is None:
            tag = event.tag
            if not tag or tag not in self._dials:
                if tag and (tag in self._abandoned or call_id in self._orphans):
                    # A leg of a dial nobody waits for (rule 3a): end it, tell nobody else.
                    self._abandoned_leg(call_id, event.node_id, tag, event.call_state)
                    return
                logger.debug("dropping calling.call.state for unknown call %r", call_id)
                return
            # A leg of a pending dial (rule 3): register it, then fall through.
            info = self.calls[call_id] = CallInfo(event.params, call_id)
        new_state = event.call_state
        rank = _CALL_STATE_RANK.get(new_state)
        if rank is not None and rank > _CALL_STATE_RANK.get(info.state, -1):
            info.state = intern(new_state)
        if not info.node_id:
            info.node_id = intern(event.node_id)
        # The event says what the server sent; its ``state`` says where the call
        # stands.  They differ only for a late or unknown state (rare: build a
        # second event only then, the event being frozen).
        if event.state != info.state:
            event = replace(event, state=info.state)
        self._emit(event)
        if self._orphans and call_id in self._orphans:
            self._orphan_state(call_id, info.state)
        if info.state == "ended":
            self._end_call(call_id)

    def _abandoned_leg(self, call_id: str, node_id: str, tag: str, state: str) -> None:
        """A state for an unregistered leg of abandoned dial *tag*: hang it up until it ends."""
        if call_id not in self._orphans:
            if state in _GOING:
                return  # already on its way out: nothing to own
            self._orphan(call_id, node_id, tag)
            return
        self._orphan_state(call_id, state)

    def _end_call(self, call_id: str) -> None:
        """The call ended: finish its pending actions, then forget it."""
        actions = self._call_actions.pop(call_id, None)
        if actions:
            for action in list(actions.values()):
                self._complete(action, None, "call_ended")
        info = self.calls.pop(call_id, None)
        if info is not None and info.received:
            # Its offer may still be redelivered: remember it past its end.
            self._received_calls.add(call_id)

    def _on_dial(self, event: DialStateChanged) -> None:
        tag = event.tag
        request_id = self._dials.get(tag)
        if request_id is None:
            if tag in self._abandoned:
                self._abandoned_dial_event(event)
                return
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

    def _abandoned_dial_event(self, event: DialStateChanged) -> None:
        """The dial event of an abandoned dial: hang up its winner; stop watching once resolved."""
        tag = event.tag
        dial_state = event.dial_state
        if dial_state == "answered":
            winner = event.call
            call_id = _s(winner, "call_id")
            info = self.calls.get(call_id) if call_id else None
            if call_id and (info is None or info.state not in _GOING):
                self._orphan(call_id, _s(winner, "node_id") or event.node_id, tag)
            del self._abandoned[tag]
        elif dial_state == "failed":
            del self._abandoned[tag]

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
