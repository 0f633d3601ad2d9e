"""The emulator's world: method dispatch, dial/connect, messaging, the flood hook.

:class:`EmulatorServer` is the whole sans-IO emulator, built in layers:
:mod:`._core` (connections, sessions, routing, journal) -> :mod:`._faults` ->
:mod:`._actions` (play, record, collect, detect, fax) -> :mod:`._lifecycle` (call
states and the other call methods) -> this module.  The runnable server in
``relaykit.emulator`` only moves bytes and ticks its timer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, cast

from ._actions import SimCall, fail, ok
from ._core import Flood, Session
from ._lifecycle import CallLifecycle
from ._schema import METHODS, SUBCOMMANDS, check
from ._script import BehaviorName, Caller, NumberBehavior

__all__ = ["EmulatorServer", "MessageRecord"]

logger = logging.getLogger("relaykit.emulator")

_ACTION_KINDS: Final = {
    "calling.play": "play",
    "calling.record": "record",
    "calling.collect": "collect",
    "calling.play_and_collect": "play_and_collect",
    "calling.detect": "detect",
    "calling.send_digits": "send_digits",
    "calling.send_fax": "send_fax",
    "calling.receive_fax": "receive_fax",
    "calling.tap": "tap",
    "calling.stream": "stream",
    "calling.transcribe": "transcribe",
    "calling.pay": "pay",
    "calling.ai": "ai",
}
# Synthesized methods: accepted, answered with this message, no further simulation.
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


@dataclass(slots=True)
class MessageRecord:
    """An SMS/MMS the emulator handled (``direction`` ``outbound`` = sent by a client)."""

    message_id: str
    direction: str
    context: str
    from_number: str
    to_number: str
    body: str
    media: list[str]
    tags: list[str]
    state: str
    reason: str | None = None


@dataclass(eq=False, slots=True)
class _Dial:
    """A device plan being rung (calling.dial, calling.connect, calling.begin)."""

    tag: str
    session: Session
    groups: list[list[dict[str, Any]]]
    controller: SimCall | None = None  # set for calling.connect
    index: int = 0
    legs: list[SimCall] = field(default_factory=list)
    winner: SimCall | None = None
    last_reason: str = "noAnswer"


class EmulatorServer(CallLifecycle):
    """The sans-IO RELAY emulator: sessions, calls, messaging, faults, journal.

    See :class:`~relaykit.emulator._core.ServerCore` for the I/O contract
    and constructor arguments.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.messages: dict[str, MessageRecord] = {}
        self.numbers: dict[str, NumberBehavior] = {}
        self.failing_numbers: dict[str, str] = {}

    # ------------------------------------------------------------------ configuration
    def configure_number(
        self,
        number: str,
        behavior: str = "answer",
        answer_after: float = 1.0,
        script: Caller | None = None,
    ) -> None:
        """How *number* (E.164 or SIP URI) behaves when dialed or connected to.

        Args:
            number: The dialed number or SIP URI.
            behavior: ``answer``, ``busy``, ``no-answer`` or ``decline``.
            answer_after: Simulated seconds of ringing before *behavior* happens.
            script: Drives the callee once it answers (default: a silent caller).

        Raises:
            ValueError: An unknown *behavior*.
        """
        if behavior not in ("answer", "busy", "no-answer", "decline"):
            raise ValueError("behavior must be answer, busy, no-answer or decline")
        self.numbers[number] = NumberBehavior(
            cast(BehaviorName, behavior), float(answer_after), script or Caller()
        )

    def fail_messages_to(self, number: str, state: str = "undelivered") -> None:
        """Messages sent to *number* end in *state*: ``undelivered`` (after ``sent``) or ``failed``.

        Raises:
            ValueError: Another *state*.
        """
        if state not in ("undelivered", "failed"):
            raise ValueError("state must be undelivered or failed")
        self.failing_numbers[number] = state

    # ------------------------------------------------------------------ dispatch
    def dispatch(
        self, session: Session, method: str, params: dict[str, Any], now: float
    ) -> dict[str, Any] | tuple[int, str] | None:
        """Check and run one ``calling.*``/``messaging.*`` method (see ServerCore.dispatch)."""
        if method not in METHODS:
            return None
        err = check(method, params)
        if err is not None:
            return (-32602, err.message) if err.layer == "rpc" else fail("400", err.message)
        if method == "messaging.send":
            return self._send_message(session, params, now)
        if method == "calling.dial":
            return self._dial(session, params, now)
        if method == "calling.begin":
            return self._begin(session, params, now)
        call = self.calls.get(params["call_id"])
        if call is None:
            if params["call_id"] in self.records:
                return fail("410", f"Call {params['call_id']} is gone")
            return fail("404", f"Call {params['call_id']} not found")
        call.record.methods.append(method)
        call.record.transcript.append(f"-> {method}")
        if method in _ACTION_KINDS:
            return self._start_action(call, _ACTION_KINDS[method], params, now)
        if method in SUBCOMMANDS:
            return self._subcommand(call, method, params, now)
        if method in _PLAIN:
            return ok(_PLAIN[method])
        handler = getattr(self, "_m_" + method[len("calling.") :].replace(".", "_"))
        result: dict[str, Any] = handler(call, params, now)
        return result

    # ------------------------------------------------------------------ dial / connect
    def _dial(self, session: Session, params: dict[str, Any], now: float) -> dict[str, Any]:
        dial = _Dial(tag=params["tag"], session=session, groups=params["devices"])
        self._ring_group(dial, now)
        return ok("Dialing")

    def _begin(self, session: Session, params: dict[str, Any], now: float) -> dict[str, Any]:
        dial = _Dial(
            tag=params.get("tag") or self.new_id("tag"),
            session=session,
            groups=[[params["device"]]],
        )
        self._ring_group(dial, now)
        leg = dial.legs[0]
        return ok("Call started", call_id=leg.call_id, node_id=leg.node_id)

    def _m_connect(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        if call.peer is not None:
            return fail("409", "calling.connect: call is already connected")
        if call.state != "answered":
            return fail("400", "calling.connect: call is not answered")
        tag = params.get("tag") or self.new_id("tag")
        first = params["devices"][0][0]
        self.connect_event(call, now, "connecting", tag=tag, peer={"tag": tag, "device": first})
        if first.get("type") == "call":
            other = self.calls.get(str(first.get("params", {}).get("call_id", "")))
            if other is None or other.state != "answered" or other.peer is not None:
                self._connect_failed(call, now, tag, "not_found")
            else:
                self._bridge(call, other, now, tag)
            return ok("connecting")
        if call.session is not None:
            dial = _Dial(tag=tag, session=call.session, groups=params["devices"], controller=call)
            self._ring_group(dial, now)
        return ok("connecting")

    def _m_disconnect(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        if call.peer is None:
            return fail("400", "calling.disconnect: call is not connected")
        self._unbridge(call, call.peer, now)
        return ok("Disconnecting")

    def _ring_group(self, dial: _Dial, now: float) -> None:
        dial.legs = []
        for device in dial.groups[dial.index]:
            params = device.get("params", {})
            if (
                dial.controller is not None
                and device.get("type") == "phone"
                and ("from_number" not in params)
            ):  # connect without a caller id: show the number the call came in on
                params = {**params, "from_number": dial.controller.record.to_number}
                device = {**device, "params": params}
            number = str(params.get("to_number", params.get("to", "")))
            behavior = self.numbers.get(number, NumberBehavior())
            leg = self._new_call("outbound", device, dial.session, behavior.script)
            leg.tag = dial.tag
            leg.created_by = "dial" if dial.controller is None else "connect"
            if dial.controller is not None:
                leg.peer_ref = {
                    "call_id": dial.controller.call_id,
                    "node_id": dial.controller.node_id,
                }
            dial.legs.append(leg)
            self.set_state(leg, now, "created")
            self.set_state(leg, now, "ringing")
            timeout = float(params.get("timeout", 30.0))
            if behavior.behavior == "answer" and behavior.answer_after <= timeout:
                leg.timers.append(
                    self.call_later(
                        now,
                        self.scaled(behavior.answer_after),
                        partial(self._leg_answer, dial, leg),
                    )
                )
            else:
                reason, after = {
                    "busy": ("busy", behavior.answer_after),
                    "decline": ("decline", behavior.answer_after),
                }.get(behavior.behavior, ("noAnswer", timeout))
                leg.timers.append(
                    self.call_later(
                        now,
                        self.scaled(min(after, timeout)),
                        partial(self._leg_fail, dial, leg, reason),
                    )
                )

    def _leg_answer(self, dial: _Dial, leg: SimCall, now: float) -> None:
        if dial.winner is not None or leg.state == "ended":
            return
        dial.winner = leg
        self._answered(leg, now)
        for other in dial.legs:
            if other is not leg:
                self.end_call(other, now, "cancel", "emulator")
        if dial.controller is None:
            call = {
                "call_id": leg.call_id,
                "node_id": leg.node_id,
                "tag": dial.tag,
                "dial_winner": True,
                "device": leg.device,
                "call_state": "answered",
                "direction": "outbound",
            }
            self.emit(
                dial.session,
                now,
                "calling.call.dial",
                {"node_id": leg.node_id, "tag": dial.tag, "dial_state": "answered", "call": call},
            )
        elif dial.controller.state == "answered":
            self._bridge(dial.controller, leg, now, dial.tag)
        else:
            self.end_call(leg, now, "cancel", "emulator")

    def _leg_fail(self, dial: _Dial, leg: SimCall, reason: str, now: float) -> None:
        if leg.state == "ended":
            return
        dial.last_reason = reason
        leg.record.hung_up_by = "remote"
        self.end_call(leg, now, reason, "remote")
        if dial.winner is not None or any(lg.state != "ended" for lg in dial.legs):
            return
        dial.index += 1
        if dial.index < len(dial.groups):
            self._ring_group(dial, now)
        elif dial.controller is not None:
            self._connect_failed(dial.controller, now, dial.tag, reason)
        else:
            self.emit(
                dial.session,
                now,
                "calling.call.dial",
                {
                    "node_id": leg.node_id,
                    "tag": dial.tag,
                    "dial_state": "failed",
                    "reason": reason,
                    "source": "outbound",
                },
            )

    # ------------------------------------------------------------------ messaging
    def _send_message(self, session: Session, params: dict[str, Any], now: float) -> dict[str, Any]:
        context = params["context"]
        target = self.session_for_context(context) or session
        body = params.get("body") or ""
        msg = MessageRecord(
            message_id=self.new_id("msg"),
            direction="outbound",
            context=context,
            from_number=params["from_number"],
            to_number=params["to_number"],
            body=body,
            media=list(params.get("media") or []),
            tags=list(params.get("tags") or []),
            state="queued",
        )
        self.messages[msg.message_id] = msg
        final = self.failing_numbers.get(msg.to_number)
        steps: list[tuple[float, str]] = [(0.0, "queued"), (0.2, "initiated")]
        if final == "failed":
            steps.append((0.5, "failed"))
        else:
            steps.append((0.5, "sent"))
            steps.append((1.0, final or "delivered"))
        for delay, state in steps:
            self.call_later(
                now, self.scaled(delay), partial(self._message_state, target, msg, state)
            )
        return ok("Message accepted", message_id=msg.message_id)

    def _message_state(self, session: Session, msg: MessageRecord, state: str, now: float) -> None:
        msg.state = state
        params: dict[str, Any] = {
            "message_id": msg.message_id,
            "context": msg.context,
            "direction": "outbound",
            "from_number": msg.from_number,
            "to_number": msg.to_number,
            "body": msg.body,
            "media": msg.media,
            "segments": max(1, -(-len(msg.body) // 160)),
            "message_state": state,
            "tags": msg.tags,
        }
        if state in ("undelivered", "failed"):
            msg.reason = "carrier_blocked" if state == "undelivered" else "invalid_destination"
            params["reason"] = msg.reason
        self.emit(session, now, "messaging.state", params)

    def send_inbound_message(
        self,
        context: str,
        from_number: str,
        to_number: str,
        now: float,
        body: str = "",
        media: list[str] | None = None,
    ) -> MessageRecord:
        """Deliver an inbound SMS/MMS to a subscriber of *context* (round robin).

        Raises:
            LookupError: if no connected client is subscribed to *context*.
            ValueError: if there is neither body nor media.
        """
        if not body and not media:
            raise ValueError("an inbound message needs a body or media")
        session = self.pick_subscriber(context)
        if session is None:
            raise LookupError(f"no client is subscribed to context {context!r}")
        msg = MessageRecord(
            message_id=self.new_id("msg"),
            direction="inbound",
            context=context,
            from_number=from_number,
            to_number=to_number,
            body=body,
            media=list(media or []),
            tags=[],
            state="received",
        )
        self.messages[msg.message_id] = msg
        self.emit(
            session,
            now,
            "messaging.receive",
            {
                "message_id": msg.message_id,
                "context": context,
                "direction": "inbound",
                "from_number": from_number,
                "to_number": to_number,
                "body": body,
                "media": msg.media,
                "segments": max(1, -(-len(body) // 160)),
                "message_state": "received",
                "tags": [],
            },
        )
        return msg

    # ------------------------------------------------------------------ benchmark hook
    def flood(
        self, count: int, now: float, call_ids: list[str] | None = None, window: int = 100
    ) -> Flood:
        """Start pushing *count* ``calling.call.play`` events over live calls (all, or
        *call_ids*) as fast as clients ACK them, at most *window* unACKed at a time."""
        calls = (
            [self.calls[c] for c in call_ids if c in self.calls]
            if call_ids
            else list(self.calls.values())
        )
        targets = [(c.session, c.call_id, c.node_id) for c in calls if c.session is not None]
        return self.start_flood(count, targets, window, now)
