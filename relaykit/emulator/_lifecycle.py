"""Calls and their lifecycle: the registry, states, inbound offers, per-call methods.

A call moves ``created -> ringing -> answered -> ending -> ended``
(relay-protocol.md §6.1), each step a ``calling.call.state`` event to the
session that controls it.  Ending is ordered as the platform orders it:
``ending`` first, then every running action's terminal event, then the
bridged peer is released and the conference left, and ``ended`` last -- so a
client sees each action finish before its call is gone.

:class:`Calls` owns the registry (live calls by id, and every call's
:class:`~._script.CallRecord`, kept after the call ends), offers inbound calls
(``calling.call.receive``, §4.4), bridges two calls
(``calling.call.connect``), and answers the call-scoped methods that are
neither actions (:mod:`._actions`), rooms (:mod:`._rooms`) nor dialing
(:mod:`._dial`): answer, end, pass, transfer, refer, hold, denoise, echo and
the AI-session commands.

``end_reason`` values are the ones the reference and the corpus's 2019
fixtures spell (``noAnswer``, ``decline``); the client accepts both
spellings (issue 12 §2).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from ._actions import ActionSim
from ._model import Host, SimCall, call_event, fail, ids, ok
from ._rooms import Rooms
from ._script import DEFAULT_RING_FLOOR, DEFAULT_RING_TIMEOUT, Caller, CallRecord

if TYPE_CHECKING:
    from ._sessions import ServerSession

__all__ = ["CallMethod", "Calls"]

#: The ``reason``s ``calling.end`` accepts (§5.1's list; anything else is a 400).
_END_REASONS: Final = frozenset({"hangup", "cancel", "busy", "noAnswer", "decline", "error"})

#: A call-scoped method handler: ``(call, params, now) -> RELAY result``.
CallMethod = Callable[[SimCall, dict[str, Any], float], dict[str, Any]]


class Calls:
    """The world's calls (see module docstring).

    Args:
        host: The server's services (ids, timers, event delivery, routing).
        actions: Ends a call's actions when the call ends.
        rooms: Takes an ending call out of its conference.
    """

    def __init__(self, host: Host, actions: ActionSim, rooms: Rooms) -> None:
        self.host = host
        self.actions = actions
        self.rooms = rooms
        self.calls: dict[str, SimCall] = {}  # live calls
        # Every call ever, ended ones too: a call-scoped request on an ended
        # call is a 410 rather than a 404 (§3.9), and tests read the records.
        self.records: dict[str, CallRecord] = {}
        self._on_ended: list[Callable[[CallRecord], None]] = []

    def methods(self) -> dict[str, CallMethod]:
        """The call-scoped methods this collaborator answers, by wire name.

        The world merges this table with the dialer's and the rooms' into one
        explicit routing table; each handler gets ``(call, params, now)`` with
        params already schema-checked and returns the RELAY result.
        """
        return {
            "calling.answer": self._m_answer,
            "calling.end": self._m_end,
            "calling.pass": self._m_pass,
            "calling.transfer": self._m_transfer,
            "calling.refer": self._m_refer,
            "calling.hold": self._m_hold,
            "calling.unhold": self._m_unhold,
            "calling.denoise": self._m_denoise,
            "calling.denoise.stop": self._m_denoise_stop,
            "calling.echo": self._m_echo,
            "calling.ai_message": self._m_ai_message,
            "calling.ai_hold": self._m_ai_hold,
            "calling.ai_unhold": self._m_ai_unhold,
        }

    def _event(self, call: SimCall, now: float, event_type: str, params: dict[str, Any]) -> None:
        """Emit *event_type* about *call* (see :func:`~._model.call_event`)."""
        call_event(self.host, call, now, event_type, params)

    # ------------------------------------------------------------------ call bookkeeping
    def new_call(
        self,
        direction: str,
        device: dict[str, Any],
        session: ServerSession | None,
        script: Caller,
        context: str | None = None,
    ) -> SimCall:
        """Register a new call leg (and its record) with a fresh ``call_id``.

        The record's numbers are read from the device: ``from_number`` /
        ``to_number`` for phone devices, ``from`` / ``to`` for SIP ones.  The
        script's steps are copied, so that one :class:`~._script.Caller` can
        drive many calls.
        """
        params = device.get("params", {})
        call_id = self.host.new_id("call")
        record = CallRecord(
            call_id=call_id,
            direction=direction,
            context=context,
            from_number=str(params.get("from_number", params.get("from", ""))),
            to_number=str(params.get("to_number", params.get("to", ""))),
        )
        call = SimCall(
            call_id=call_id,
            direction=direction,
            device=device,
            session=session,
            script=script,
            record=record,
            context=context,
            steps=deque(script.steps),
        )
        self.calls[call_id] = call
        self.records[call_id] = record
        return call

    def set_state(
        self, call: SimCall, now: float, state: str, end_reason: str | None = None
    ) -> None:
        """Move *call* to *state* and emit ``calling.call.state``.

        The event has the fields of §6.1 and the corpus's state frames: ids,
        ``call_state``, ``direction`` and ``device`` always; ``tag``,
        ``created_by`` and ``peer`` for dial/connect legs (a client routes a
        new leg by its tag, §3.3 step 6); ``context`` for inbound calls;
        ``end_reason`` on ``ending`` and ``ended``.
        """
        call.state = state
        call.record.state = state
        params: dict[str, Any] = {
            "call_id": call.call_id,
            "node_id": call.node_id,
            "call_state": state,
            "direction": call.direction,
            "device": call.device,
        }
        if call.tag is not None:
            params["tag"] = call.tag
        if call.created_by is not None:
            params["created_by"] = call.created_by
        if call.peer_ref is not None:
            params["peer"] = call.peer_ref
        if call.context is not None:
            params["context"] = call.context
        if end_reason is not None:
            params["end_reason"] = end_reason
        self._event(call, now, "calling.call.state", params)

    def answered(self, call: SimCall, now: float) -> None:
        """The far end answered: cancel ring timers, emit ``answered``, arm the script's hangup.

        The script's ``hangup_seconds`` counts from the answer, which is when
        a real caller starts talking (or gives up).
        """
        for timer in call.timers:
            timer.cancel()
        call.timers.clear()
        call.record.answered = True
        self.set_state(call, now, "answered")
        if call.script.hangup_seconds is not None:
            call.timers.append(
                self.host.call_later(
                    now,
                    self.host.scaled(call.script.hangup_seconds),
                    lambda t: self.end_call(call, t, "hangup", "remote"),
                )
            )

    def end_call(self, call: SimCall, now: float, reason: str, by: str) -> None:
        """End *call*: ending, actions' terminal events, unbridge, ended.

        Args:
            call: The call to end (ending one twice is a no-op: both sides of
                a bridge end each other).
            now: Loop time.
            reason: The ``end_reason`` of the state events.
            by: Who hung up, for the record: ``app``, ``remote`` or
                ``emulator``.
        """
        if call.state in ("ending", "ended"):
            return
        for timer in call.timers:
            timer.cancel()
        call.timers.clear()
        call.record.hung_up_by = by
        call.record.end_reason = reason
        self.set_state(call, now, "ending", reason)
        self.actions.end_all(call, now)
        peer = call.peer
        if peer is not None:
            # A bridged call takes its peer down with it, as a two-party call
            # does on the platform once one leg hangs up.
            self.unbridge(call, peer, now)
            self.end_call(peer, now, "hangup", "emulator")
        if call.conference is not None:
            self.rooms.leave(call, now)
        self.set_state(call, now, "ended", reason)
        self.calls.pop(call.call_id, None)  # the record stays in self.records
        for hook in self._on_ended:
            hook(call.record)

    def on_call_ended(self, hook: Callable[[CallRecord], None]) -> None:
        """Register ``hook(record)``, called whenever a call ends (adapters wake waiters)."""
        self._on_ended.append(hook)

    def session_forgotten(self, session: ServerSession, now: float) -> None:
        """*session* can no longer be resumed: its calls end (nobody is left to control them)."""
        for call in list(self.calls.values()):
            if call.session is session:
                call.session = None
                self.end_call(call, now, "hangup", "emulator")

    # ------------------------------------------------------------------ inbound
    def place_call(
        self,
        context: str,
        script: Caller,
        now: float,
        from_number: str = "+15550000001",
        to_number: str = "+15550000002",
    ) -> SimCall:
        """Offer an inbound call on *context* (round robin) that follows *script*.

        Raises:
            LookupError: if no connected client is subscribed to *context*.
        """
        session = self.host.pick_subscriber(context)
        if session is None:
            raise LookupError(f"no client is subscribed to context {context!r}")
        device = {"type": "phone", "params": {"from_number": from_number, "to_number": to_number}}
        call = self.new_call("inbound", device, session, script, context)
        self._offer(call, now)
        # An unanswered offer rings out: the caller hangs up (``cancel``).  The
        # default ring time has a real-seconds floor so that a tiny
        # time_scale still leaves a client time to answer.
        call.timers.append(
            self.host.call_later(
                now,
                (
                    max(self.host.scaled(DEFAULT_RING_TIMEOUT), DEFAULT_RING_FLOOR)
                    if script.ring_timeout is None
                    else self.host.scaled(script.ring_timeout)
                ),
                lambda t: self.end_call(call, t, "cancel", "remote"),
            )
        )
        return call

    def _offer(self, call: SimCall, now: float) -> None:
        """Send ``calling.call.receive`` (§6.2) to the call's current session.

        The offer's state is ``created`` and its ``tag`` empty, as in the
        corpus's receive frames; the client answers with ``calling.answer``.
        """
        self._event(
            call,
            now,
            "calling.call.receive",
            {
                "call_id": call.call_id,
                "node_id": call.node_id,
                "call_state": "created",
                "context": call.context,
                "direction": "inbound",
                "device": call.device,
                "tag": "",
            },
        )

    # ------------------------------------------------------------------ lifecycle methods
    def _m_answer(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.answer`` (§5.1): a ringing call becomes ``answered``.

        Answering an answered call is a 200 with no second state event
        (retries after a timeout must be harmless).
        """
        if call.state in ("created", "ringing"):
            self.answered(call, now)
        return ok("Answered")

    def _m_end(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.end`` (§5.1): end with ``reason`` (default hangup), hung up by the app."""
        reason = params.get("reason", "hangup")
        if reason not in _END_REASONS:
            return fail("400", f"calling.end: reason must be one of {sorted(_END_REASONS)}")
        self.end_call(call, now, reason, "app")
        return ok("Disconnecting call")

    def _m_pass(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.pass`` (§5.1): offer the call to the next subscriber, or end it.

        Every session that passed is remembered, so the offer goes round the
        context's subscribers once and never back to one that declined it.
        """
        if call.session is not None:
            call.passed.add(call.session.protocol)
        nxt = self.host.pick_subscriber(call.context or "", exclude=call.passed)
        call.session = nxt
        if nxt is not None:
            self._offer(call, now)
        else:  # nobody else takes it: the caller gets nowhere
            self.end_call(call, now, "error", "emulator")
        return ok("Passing call")

    def _m_transfer(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.transfer`` (§5.2): ``context:<name>`` re-offers the call; elsewhere ends it.

        What happens after a transfer to a URL is unconfirmed (§5.2); the
        emulator treats it as handing the call to an app that talks for one
        simulated second and hangs up, so the client sees the call end.
        """
        dest = params["dest"]
        if dest.startswith("context:"):
            target = self.host.pick_subscriber(dest[len("context:") :])
            if target is None:
                return fail("400", f"calling.transfer: no client receives {dest!r}")
            call.record.transferred_to = dest
            call.context = dest[len("context:") :]
            call.session = target
            self._offer(call, now)
        else:  # handed to SWML/another app: simulated as a short session, then hangup
            call.record.transferred_to = dest
            call.timers.append(
                self.host.call_later(
                    now,
                    self.host.scaled(1.0),
                    lambda t: self.end_call(call, t, "hangup", "emulator"),
                )
            )
        return ok("Transferring")

    def _m_refer(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.refer`` (§5.2): a SIP REFER that succeeds at once (corpus: ``success``).

        The response codes are the ones a successful REFER produces: 202
        Accepted for the REFER, 200 for the NOTIFY of its outcome.
        """
        to = params["device"].get("params", {}).get("to", "")
        self._event(
            call,
            now,
            "calling.call.refer",
            {
                "call_id": call.call_id,
                "node_id": call.node_id,
                "state": "success",
                "sip_refer_to": to,
                "sip_refer_response_code": "202",
                "sip_notify_response_code": "200",
            },
        )
        return ok("Starting SIP REFER")

    def _notify(
        self, call: SimCall, now: float, event_type: str, message: str, **fields: Any
    ) -> dict[str, Any]:
        """Emit one *event_type* event about *call* with *fields*; answer *message*."""
        self._event(call, now, event_type, {**ids(call), **fields})
        return ok(message)

    def _m_hold(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.hold``: a ``calling.call.hold`` event with ``state: hold``."""
        return self._notify(call, now, "calling.call.hold", "Call on hold", state="hold")

    def _m_unhold(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.unhold``: a ``calling.call.hold`` event with ``state: unhold``."""
        return self._notify(call, now, "calling.call.hold", "Call off hold", state="unhold")

    def _m_denoise(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.denoise``: ``calling.call.denoise`` with ``denoised: true``."""
        return self._notify(call, now, "calling.call.denoise", "Denoiser on", denoised=True)

    def _m_denoise_stop(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.denoise.stop``: ``calling.call.denoise`` with ``denoised: false``."""
        return self._notify(call, now, "calling.call.denoise", "Denoiser off", denoised=False)

    def _m_echo(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.echo`` (§5.4): ``echoing``, then ``finished`` after ``timeout`` (if any).

        ``timeout`` 0 (or none) echoes until the call ends.
        """
        ids = {"call_id": call.call_id, "node_id": call.node_id}
        self._event(call, now, "calling.call.echo", {**ids, "state": "echoing"})
        timeout = float(params.get("timeout", 0) or 0)
        if timeout > 0:
            call.timers.append(
                self.host.call_later(
                    now,
                    self.host.scaled(timeout),
                    lambda t: self._event(
                        call, t, "calling.call.echo", {**ids, "state": "finished"}
                    ),
                )
            )
        return ok("Echoing")

    def _ai_command(self, call: SimCall, message: str) -> dict[str, Any]:
        """Answer an AI-session command: *message*, or 400 without a running ``calling.ai``.

        §5.4: these commands "need an active AI session"; the session is the
        ``ai`` action that :mod:`._actions` runs until stopped.
        """
        if not self.actions.running(call, "ai"):
            return fail("400", "calling.ai_message: no active AI session on this call")
        return ok(message)

    def _m_ai_message(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.ai_message``: accepted while a ``calling.ai`` session runs."""
        return self._ai_command(call, "AI message sent")

    def _m_ai_hold(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.ai_hold``: accepted while a ``calling.ai`` session runs."""
        return self._ai_command(call, "AI on hold")

    def _m_ai_unhold(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.ai_unhold``: accepted while a ``calling.ai`` session runs."""
        return self._ai_command(call, "AI resumed")

    # ------------------------------------------------------------------ bridging
    def _peer_ref(self, call: SimCall, tag: str | None) -> dict[str, Any]:
        """The ``peer`` object of connect events (§6.4): ids, device and the tag."""
        ref: dict[str, Any] = {
            "call_id": call.call_id,
            "node_id": call.node_id,
            "device": call.device,
        }
        if tag is not None:
            ref["tag"] = tag
        return ref

    def connect_event(self, call: SimCall, now: float, connect_state: str, **fields: Any) -> None:
        """Emit ``calling.call.connect`` on *call* with *connect_state* and *fields*."""
        params = {**ids(call), **fields, "connect_state": connect_state}
        self._event(call, now, "calling.call.connect", params)

    def bridge(self, call: SimCall, other: SimCall, now: float, tag: str | None) -> None:
        """Bridge *call* and *other* (``connected`` on the controlling call).

        Only the controlling call gets ``calling.call.connect`` (§6.4); the
        records note each side's far number for tests.
        """
        call.peer, other.peer = other, call
        call.record.connected_to = other.record.to_number or other.call_id
        other.record.connected_to = call.record.from_number or call.call_id
        self.connect_event(call, now, "connected", tag=tag, peer=self._peer_ref(other, tag))

    def unbridge(self, call: SimCall, peer: SimCall, now: float) -> None:
        """Release a bridge: each still-live side gets ``disconnected``.

        Unbridging does not hang up (§5.2, ``calling.disconnect``): both calls
        stay up; :meth:`end_call` hangs up the peer itself when it needs to.
        """
        call.peer = None
        peer.peer = None
        for a, b in ((call, peer), (peer, call)):
            if a.state not in ("ended",):
                self.connect_event(a, now, "disconnected", peer=self._peer_ref(b, b.tag))

    def connect_failed(self, call: SimCall, now: float, tag: str, reason: str) -> None:
        """``calling.connect`` failed: ``failed`` with ``failed_reason`` (corpus shape)."""
        self.connect_event(call, now, "failed", tag=tag, failed_reason=reason)
