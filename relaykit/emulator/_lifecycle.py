"""Call lifecycle and the per-call methods (everything but dial/connect and messaging).

States and ``end_reason`` follow §6.1; ending a call first gives every running
action its terminal event, unbridges a connected peer, leaves a conference,
then emits ``ended``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, Final

from ._actions import ActionSimulation, SimAction, SimCall, fail, ok
from ._core import Session
from ._script import DEFAULT_RING_FLOOR, DEFAULT_RING_TIMEOUT, Caller, CallRecord

__all__ = ["CallLifecycle"]

_END_REASONS: Final = frozenset({"hangup", "cancel", "busy", "noAnswer", "decline", "error"})


class CallLifecycle(ActionSimulation):
    """Calls, their states, and the call-scoped methods other than dial/connect."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: dict[str, SimCall] = {}
        self.records: dict[str, CallRecord] = {}
        self._conferences: dict[str, tuple[str, set[str]]] = {}  # name -> (id, call ids)
        self._queues: dict[str, list[str]] = {}
        self._on_ended: list[Callable[[CallRecord], None]] = []

    # ------------------------------------------------------------------ call bookkeeping
    def _new_call(
        self,
        direction: str,
        device: dict[str, Any],
        session: Session | None,
        script: Caller,
        context: str | None = None,
    ) -> SimCall:
        params = device.get("params", {})
        call_id = self.new_id("call")
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
        """Move *call* to *state* and emit ``calling.call.state``."""
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
        self.call_event(call, now, "calling.call.state", params)

    def _answered(self, call: SimCall, now: float) -> None:
        for timer in call.timers:
            timer.cancel()
        call.timers.clear()
        call.record.answered = True
        self.set_state(call, now, "answered")
        if call.script.hangup_seconds is not None:
            call.timers.append(
                self.call_later(
                    now,
                    self.scaled(call.script.hangup_seconds),
                    lambda t: self.end_call(call, t, "hangup", "remote"),
                )
            )

    def end_call(self, call: SimCall, now: float, reason: str, by: str) -> None:
        """End *call*: ending, actions' terminal events, unbridge, ended."""
        if call.state in ("ending", "ended"):
            return
        for timer in call.timers:
            timer.cancel()
        call.timers.clear()
        call.record.hung_up_by = by
        call.record.end_reason = reason
        self.set_state(call, now, "ending", reason)
        for action in list(call.actions.values()):
            self.terminate_action(call, action, now, "hangup")
        peer = call.peer
        if peer is not None:
            self._unbridge(call, peer, now)
            self.end_call(peer, now, "hangup", "emulator")
        if call.conference is not None:
            self._leave_conference(call, now)
        self.set_state(call, now, "ended", reason)
        self.calls.pop(call.call_id, None)
        for hook in self._on_ended:
            hook(call.record)

    def on_call_ended(self, hook: Callable[[CallRecord], None]) -> None:
        """Register ``hook(record)``, called whenever a call ends (adapters wake waiters)."""
        self._on_ended.append(hook)

    def forget_session(self, session: Session, now: float) -> None:
        """Drop a session; its calls end (nobody is left to control them)."""
        super().forget_session(session, now)
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
        session = self.pick_subscriber(context)
        if session is None:
            raise LookupError(f"no client is subscribed to context {context!r}")
        device = {"type": "phone", "params": {"from_number": from_number, "to_number": to_number}}
        call = self._new_call("inbound", device, session, script, context)
        self._offer(call, now)
        call.timers.append(
            self.call_later(
                now,
                (
                    max(self.scaled(DEFAULT_RING_TIMEOUT), DEFAULT_RING_FLOOR)
                    if script.ring_timeout is None
                    else self.scaled(script.ring_timeout)
                ),
                lambda t: self.end_call(call, t, "cancel", "remote"),
            )
        )
        return call

    def _offer(self, call: SimCall, now: float) -> None:
        self.call_event(
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
        if call.state in ("created", "ringing"):
            self._answered(call, now)
        return ok("Answered")

    def _m_end(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        reason = params.get("reason", "hangup")
        if reason not in _END_REASONS:
            return fail("400", f"calling.end: reason must be one of {sorted(_END_REASONS)}")
        self.end_call(call, now, reason, "app")
        return ok("Disconnecting call")

    def _m_pass(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        if call.session is not None:
            call.passed.add(call.session.protocol)
        nxt = self.pick_subscriber(call.context or "", exclude=call.passed)
        call.session = nxt
        if nxt is not None:
            self._offer(call, now)
        else:  # nobody else takes it: the caller gets nowhere
            self.end_call(call, now, "error", "emulator")
        return ok("Passing call")

    def _m_transfer(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        dest = params["dest"]
        if dest.startswith("context:"):
            target = self.pick_subscriber(dest[len("context:") :])
            if target is None:
                return fail("400", f"calling.transfer: no client receives {dest!r}")
            call.record.transferred_to = dest
            call.context = dest[len("context:") :]
            call.session = target
            self._offer(call, now)
        else:  # handed to SWML/another app: simulated as a short session, then hangup
            call.record.transferred_to = dest
            call.timers.append(
                self.call_later(
                    now, self.scaled(1.0), lambda t: self.end_call(call, t, "hangup", "emulator")
                )
            )
        return ok("Transferring")

    def _m_refer(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        to = params["device"].get("params", {}).get("to", "")
        self.call_event(
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
        self.call_event(call, now, event_type, {**self._ids(call), **fields})
        return ok(message)

    def _m_hold(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        return self._notify(call, now, "calling.call.hold", "Call on hold", state="hold")

    def _m_unhold(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        return self._notify(call, now, "calling.call.hold", "Call off hold", state="unhold")

    def _m_denoise(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        return self._notify(call, now, "calling.call.denoise", "Denoiser on", denoised=True)

    def _m_denoise_stop(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        return self._notify(call, now, "calling.call.denoise", "Denoiser off", denoised=False)

    def _m_echo(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        ids = {"call_id": call.call_id, "node_id": call.node_id}
        self.call_event(call, now, "calling.call.echo", {**ids, "state": "echoing"})
        timeout = float(params.get("timeout", 0) or 0)
        if timeout > 0:
            call.timers.append(
                self.call_later(
                    now,
                    self.scaled(timeout),
                    lambda t: self.call_event(
                        call, t, "calling.call.echo", {**ids, "state": "finished"}
                    ),
                )
            )
        return ok("Echoing")

    def _ai_command(self, call: SimCall, message: str) -> dict[str, Any]:
        """Answer an AI-session command: *message*, or 400 without a running ``calling.ai``."""
        if not any(a.kind == "ai" for a in call.actions.values()):
            return fail("400", "calling.ai_message: no active AI session on this call")
        return ok(message)

    def _m_ai_message(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        return self._ai_command(call, "AI message sent")

    def _m_ai_hold(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        return self._ai_command(call, "AI on hold")

    def _m_ai_unhold(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        return self._ai_command(call, "AI resumed")

    # ------------------------------------------------------------------ conference, queue
    def _m_join_conference(
        self, call: SimCall, params: dict[str, Any], now: float
    ) -> dict[str, Any]:
        name = params["name"]
        if call.conference is not None:
            return fail("409", f"call is already in conference {call.conference!r}")
        conf_id, members = self._conferences.setdefault(name, (self.new_id("conf"), set()))
        base = {"conference_id": conf_id, "name": name}
        if not members:
            self.call_event(call, now, "calling.conference", {**base, "status": "conference-start"})
        members.add(call.call_id)
        call.conference = name
        participant = {**base, **self._ids(call), "status": "participant-join"}
        self.call_event(call, now, "calling.conference", participant)
        return ok("Joining conference", conference_id=conf_id, call_id=call.call_id)

    def _m_leave_conference(
        self, call: SimCall, params: dict[str, Any], now: float
    ) -> dict[str, Any]:
        name = call.conference
        if name is None or self._conferences[name][0] != params["conference_id"]:
            return fail("400", "calling.leave_conference: call is not in that conference")
        self._leave_conference(call, now)
        return ok("Leaving conference")

    def _leave_conference(self, call: SimCall, now: float) -> None:
        name = call.conference
        if name is None:
            return
        conf_id, members = self._conferences[name]
        members.discard(call.call_id)
        call.conference = None
        base = {"conference_id": conf_id, "name": name}
        participant = {**base, **self._ids(call), "status": "participant-leave"}
        self.call_event(call, now, "calling.conference", participant)
        if not members:
            del self._conferences[name]
            self.call_event(call, now, "calling.conference", {**base, "status": "conference-end"})

    def _m_queue_enter(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        return self._queue(call, params, now, enter=True)

    def _m_queue_leave(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        return self._queue(call, params, now, enter=False)

    def _queue(
        self, call: SimCall, params: dict[str, Any], now: float, enter: bool
    ) -> dict[str, Any]:
        name = params["queue_name"]
        members = self._queues.setdefault(name, [])
        if enter and call.call_id not in members:
            members.append(call.call_id)
        position = members.index(call.call_id) + 1 if call.call_id in members else 0
        if not enter and call.call_id in members:
            members.remove(call.call_id)
        self.call_event(
            call,
            now,
            "calling.call.queue",
            {
                "call_id": call.call_id,
                "node_id": call.node_id,
                "control_id": params["control_id"],
                "status": "enqueue" if enter else "leave",
                "id": f"queue-{name}",
                "name": name,
                "position": position,
                "size": len(members),
            },
        )
        return ok("Entered queue" if enter else "Left queue", call_id=call.call_id)

    # ------------------------------------------------------------------ actions
    def _start_action(
        self, call: SimCall, kind: str, params: dict[str, Any], now: float
    ) -> dict[str, Any]:
        control_id = params["control_id"]
        if control_id in call.actions:
            return fail("409", f"control_id {control_id!r} is already in use on this call")
        if kind == "transcribe" and any(a.kind == "transcribe" for a in call.actions.values()):
            return fail("409", "calling.transcribe: a transcription is already running")
        action = SimAction(kind=kind, control_id=control_id, params=params, started=now)
        call.actions[control_id] = action
        result = ok("Started", call_id=call.call_id, control_id=control_id)
        if kind == "play":
            self.start_play(call, action, now)
            result["message"] = "Playing"
        elif kind == "play_and_collect":
            action.phase = "play"
            self.start_play(call, action, now)
            result["message"] = "Playing and collecting"
        elif kind == "collect":
            action.phase = "collect"
            self.begin_collect(call, action, now, params)
            result["message"] = "Collecting"
        elif kind == "record":
            self.start_record(call, action, now)
            result["message"] = "Recording"
        elif kind == "detect":
            self.start_detect(call, action, now)
            result["message"] = "Detecting"
        elif kind in ("send_fax", "receive_fax"):
            self.start_fax(call, action, now)
            result["message"] = "Faxing"
        elif kind == "send_digits":
            digits = params["digits"]
            call.record.digits_sent.append(digits)
            seconds = sum(0.5 if c == "w" else 1.0 if c == "W" else 0.1 for c in digits)
            self._later(
                call, action, now, seconds, lambda t: self.terminate_action(call, action, t, "stop")
            )
            result["message"] = "Sending Digits"
        elif kind == "tap":
            self.call_event(
                call,
                now,
                "calling.call.tap",
                {
                    "call_id": call.call_id,
                    "node_id": call.node_id,
                    "control_id": control_id,
                    "state": "tapping",
                    "tap": params["tap"],
                    "device": params["device"],
                },
            )
            result["source_device"] = {
                "type": "rtp",
                "params": {"addr": "127.0.0.1", "port": 40000, "codec": "PCMU", "ptime": 20},
            }
            result["message"] = "Tapping"
        elif kind == "stream":
            self.call_event(
                call,
                now,
                "calling.call.stream",
                {
                    "call_id": call.call_id,
                    "node_id": call.node_id,
                    "control_id": control_id,
                    "state": "streaming",
                    "url": params["url"],
                    "name": params.get("name"),
                },
            )
            result["message"] = "Streaming"
        elif kind == "pay":
            self._later(call, action, now, 5.0, lambda t: self._pay_done(call, action, t))
            result["message"] = "Collecting payment"
        else:  # transcribe, ai: run until stopped or the call ends
            result["message"] = "Transcribing" if kind == "transcribe" else "AI session started"
        return result

    def _pay_done(self, call: SimCall, action: SimAction, now: float) -> None:
        self.call_event(
            call,
            now,
            "calling.call.pay",
            {
                "call_id": call.call_id,
                "node_id": call.node_id,
                "control_id": action.control_id,
                "state": "finished",
                "result": "success",
                "payment_method": "credit-card",
                "payment_card_number": "************1111",
                "payment_card_type": "visa",
                "payment_token": self.new_id("tok"),
                "payment_confirmation_code": self.new_id("pay"),
                "for": "payment-completed",
            },
        )
        self._done(call, action)

    def _subcommand(
        self, call: SimCall, method: str, params: dict[str, Any], now: float
    ) -> dict[str, Any]:
        action = call.actions.get(params["control_id"])
        verb = method.rsplit(".", 1)[1]
        if action is None or action.state == "done":
            return fail(
                "404", f"{method}: no active action with control_id {params['control_id']!r}"
            )
        if verb == "stop":
            self.terminate_action(call, action, now, "stop")
            return ok("Stopped")
        if verb == "volume":
            action.params["volume"] = params["volume"]
            return ok("Volume set")
        if verb == "start_input_timers":
            return self.start_input_timers(call, action, now)
        if action.kind == "play":
            return (
                self.pause_play(call, action, now)
                if verb == "pause"
                else self.resume_play(call, action, now)
            )
        if action.kind == "record":
            return (
                self.pause_record(call, action, now)
                if verb == "pause"
                else (self.resume_record(call, action, now))
            )
        return fail("400", f"{method} is not supported by a {action.kind} action")

    # ------------------------------------------------------------------ bridging
    def _peer_ref(self, call: SimCall, tag: str | None) -> dict[str, Any]:
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
        params = {**self._ids(call), **fields, "connect_state": connect_state}
        self.call_event(call, now, "calling.call.connect", params)

    def _bridge(self, call: SimCall, other: SimCall, now: float, tag: str | None) -> None:
        call.peer, other.peer = other, call
        call.record.connected_to = other.record.to_number or other.call_id
        other.record.connected_to = call.record.from_number or call.call_id
        self.connect_event(call, now, "connected", tag=tag, peer=self._peer_ref(other, tag))

    def _unbridge(self, call: SimCall, peer: SimCall, now: float) -> None:
        call.peer = None
        peer.peer = None
        for a, b in ((call, peer), (peer, call)):
            if a.state not in ("ended",):
                self.connect_event(a, now, "disconnected", peer=self._peer_ref(b, b.tag))

    def _connect_failed(self, call: SimCall, now: float, tag: str, reason: str) -> None:
        self.connect_event(call, now, "failed", tag=tag, failed_reason=reason)
