"""Call model and the simulated media actions (play, record, collect, detect, fax, ...).

Each action is a :class:`SimAction` keyed by its ``control_id`` on a
:class:`SimCall`.  Durations are simulated seconds, turned into real delays
with :meth:`ServerCore.scaled`.  What the far end does (digits, speech,
voicemail, fax tones) comes from the call's :class:`Caller` script.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final

from ._core import Session, _Timer
from ._faults import FaultInjection
from ._schema import media_duration
from ._script import Caller, CallRecord, Step

__all__ = ["ActionSimulation", "SimAction", "SimCall"]

NODE_ID: Final = "relaykit-node-1"


@dataclass(eq=False, slots=True)
class SimAction:
    """One running action on a call."""

    kind: str
    control_id: str
    params: dict[str, Any]
    state: str = "running"
    timer: _Timer | None = None
    started: float = 0.0  # real time the current running segment started
    remaining: float = 0.0  # real seconds left when paused (play/record)
    elapsed: float = 0.0  # real seconds accumulated (record)
    content: float = 0.0  # simulated seconds of captured audio (record)
    opened: float = 0.0  # real time the action began (record: the no_input window)
    phase: str = ""  # play_and_collect: "play" then "collect"
    pending_input: tuple[float, dict[str, Any]] | None = None  # (delay, result) until timers start


@dataclass(eq=False, slots=True)
class SimCall:
    """A simulated call leg."""

    call_id: str
    direction: str
    device: dict[str, Any]
    session: Session | None
    script: Caller
    record: CallRecord
    context: str | None = None
    state: str = "created"
    tag: str | None = None
    created_by: str | None = None
    peer_ref: dict[str, Any] | None = None  # `peer` field of a connect leg's state events
    peer: SimCall | None = None  # the bridged call
    actions: dict[str, SimAction] = field(default_factory=dict)
    steps: deque[Step] = field(default_factory=deque)
    timers: list[_Timer] = field(default_factory=list)
    conference: str | None = None
    passed: set[str] = field(default_factory=set)
    node_id: str = NODE_ID
    # Real times of the last audio each way, for recordings' no_input: a prompt
    # playing to the caller ("listen") and the caller's digits/speech ("speak").
    prompt_at: float | None = None
    caller_at: float | None = None


def _summary(event_type: str, params: dict[str, Any]) -> str:
    result = params.get("result")
    if isinstance(result, dict):
        return f"<- {event_type} {result.get('type')}"
    for key in ("call_state", "state", "connect_state", "dial_state", "status"):
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


def ok(message: str, **extra: Any) -> dict[str, Any]:
    """A RELAY success result."""
    return {"code": "200", "message": message, **extra}


def fail(code: str, message: str) -> dict[str, Any]:
    """A RELAY failure result."""
    return {"code": code, "message": message}


class ActionSimulation(FaultInjection):
    """Media actions on simulated calls (see module docstring)."""

    # ------------------------------------------------------------------ event helpers
    def call_event(
        self, call: SimCall, now: float, event_type: str, params: dict[str, Any]
    ) -> None:
        """Emit an event about *call* to its owner and note it in the call's transcript."""
        call.record.transcript.append(_summary(event_type, params))
        if call.session is not None:
            self.emit(call.session, now, event_type, params)

    def _ids(self, call: SimCall, action: SimAction | None = None) -> dict[str, Any]:
        ids: dict[str, Any] = {"call_id": call.call_id, "node_id": call.node_id}
        if action is not None:
            ids["control_id"] = action.control_id
        return ids

    def _later(self, call: SimCall, action: SimAction, now: float, seconds: float, fn: Any) -> None:
        """Run ``fn(now)`` after *seconds* simulated, as the action's (single) timer."""
        if action.timer is not None:
            action.timer.cancel()
        action.started = now
        action.remaining = self.scaled(seconds)
        action.timer = self.call_later(now, action.remaining, fn)

    def _done(self, call: SimCall, action: SimAction) -> None:
        if action.timer is not None:
            action.timer.cancel()
        action.state = "done"
        call.actions.pop(action.control_id, None)

    def _prompt_left(self, call: SimCall, now: float) -> float:
        """Simulated seconds until every prompt now playing on *call* has finished."""
        left = 0.0
        for act in call.actions.values():
            if act.kind in ("play", "play_and_collect") and act.state == "playing":
                left = max(left, (act.remaining - (now - act.started)) / self.time_scale)
        return left

    # ------------------------------------------------------------------ play
    def start_play(self, call: SimCall, action: SimAction, now: float) -> None:
        """Begin playing ``action.params["play"]`` (also the first phase of play_and_collect)."""
        media = action.params["play"]
        for item in media:
            params = item.get("params", item)
            kind = item.get("type")
            if kind == "tts":
                call.record.prompts.append(str(params.get("text")))
            elif kind == "audio":
                call.record.prompts.append(str(params.get("url")))
            elif kind == "silence":
                call.record.prompts.append(f"silence:{params.get('duration')}")
            else:
                call.record.prompts.append(f"ringtone:{params.get('name')}")
        total = sum(media_duration(item) for item in media)
        loop = action.params.get("loop", 1)
        if isinstance(loop, int) and loop > 1:
            total *= loop
        action.state = "playing"
        call.prompt_at = now
        self.call_event(
            call, now, "calling.call.play", {**self._ids(call, action), "state": "playing"}
        )
        if loop == 0 and action.kind == "play":
            action.started, action.remaining = now, float("inf")  # until stopped
            return
        self._later(call, action, now, total, lambda t: self._play_finished(call, action, t))

    def _play_finished(
        self, call: SimCall, action: SimAction, now: float, state: str = "finished"
    ) -> None:
        action.timer = None
        call.prompt_at = now
        self.call_event(call, now, "calling.call.play", {**self._ids(call, action), "state": state})
        if action.kind == "play_and_collect" and state == "finished":
            action.phase = "collect"
            action.state = "collecting"
            self.begin_collect(call, action, now, action.params["collect"])
        else:
            self._done(call, action)

    def pause_play(self, call: SimCall, action: SimAction, now: float) -> dict[str, Any]:
        """``calling.play.pause``."""
        if action.state != "playing":
            return ok("Paused")
        if action.timer is not None:
            action.timer.cancel()
            action.timer = None
        action.remaining -= now - action.started
        action.state = "paused"
        self.call_event(
            call, now, "calling.call.play", {**self._ids(call, action), "state": "paused"}
        )
        return ok("Paused")

    def resume_play(self, call: SimCall, action: SimAction, now: float) -> dict[str, Any]:
        """``calling.play.resume``."""
        if action.state != "paused":
            return ok("Resumed")
        action.state = "playing"
        self.call_event(
            call, now, "calling.call.play", {**self._ids(call, action), "state": "playing"}
        )
        if action.remaining != float("inf"):
            left = action.remaining / self.time_scale
            self._later(call, action, now, left, lambda t: self._play_finished(call, action, t))
        return ok("Resumed")

    # ------------------------------------------------------------------ collect
    def begin_collect(
        self, call: SimCall, action: SimAction, now: float, spec: dict[str, Any]
    ) -> None:
        """Start the collect phase: decide from the script what the caller does."""
        step = call.steps.popleft() if call.steps else None
        digits, speech = spec.get("digits"), spec.get("speech")
        flags = {**action.params, **spec}
        initial = float(spec.get("initial_timeout", 5.0))
        react = 0.5 + self._prompt_left(call, now)
        result: dict[str, Any]
        if step is not None and step.action == "press" and isinstance(digits, dict):
            terminators = str(digits.get("terminators", ""))
            limit = int(digits["max"])
            got, term = "", ""
            for ch in step.value:
                if ch in terminators:
                    term = ch
                    break
                got += ch
                if len(got) >= limit:
                    break
            delay = react + 0.3 * (len(got) + len(term))
            if not term and len(got) < limit:
                delay += float(digits.get("digit_timeout", 5.0))
            result = {"type": "digit", "params": {"digits": got, "terminator": term}}
        elif step is not None and step.action == "say" and isinstance(speech, dict):
            delay = react + 0.06 * len(step.value) + float(speech.get("end_silence_timeout", 1.0))
            result = {"type": "speech", "params": {"text": step.value, "confidence": 0.95}}
            if flags.get("partial_results"):
                words = step.value.split()
                partial = {
                    "type": "speech",
                    "params": {"text": " ".join(words[: max(1, len(words) // 2)])},
                }
                self._later(
                    call,
                    action,
                    now,
                    delay / 2,
                    lambda t: self._collect_partial(call, action, t, partial, delay / 2),
                )
                self._note_input(call, result)
                action.pending_input = None
                action.params["_final"] = result
                return
        elif step is not None and step.action in ("press", "say"):
            delay = react + 0.3 * len(step.value)
            result = {"type": "no_match"}
        else:
            delay = initial
            result = {"type": "no_input"}
        self._note_input(call, result)
        if result["type"] != "no_input" and flags.get("send_start_of_input"):
            self.call_event(
                call,
                now,
                "calling.call.collect",
                {
                    **self._ids(call, action),
                    "final": False,
                    "state": "collecting",
                    "result": {"type": "start_of_input"},
                },
            )
        if result["type"] == "no_input" and flags.get("start_input_timers") is True:
            action.pending_input = (delay, result)  # armed by collect.start_input_timers
            return
        self._later(
            call, action, now, delay, lambda t: self._collect_final(call, action, t, result)
        )

    def _note_input(self, call: SimCall, result: dict[str, Any]) -> None:
        call.record.inputs.append({"type": result["type"], **result.get("params", {})})

    def _collect_partial(
        self, call: SimCall, action: SimAction, now: float, partial: dict[str, Any], rest: float
    ) -> None:
        self.call_event(
            call,
            now,
            "calling.call.collect",
            {**self._ids(call, action), "final": False, "state": "collecting", "result": partial},
        )
        final = action.params.pop("_final")
        self._later(call, action, now, rest, lambda t: self._collect_final(call, action, t, final))

    def _collect_final(
        self, call: SimCall, action: SimAction, now: float, result: dict[str, Any]
    ) -> None:
        action.timer = None
        if result.get("type") in ("digit", "speech", "no_match"):
            call.caller_at = now
        self.call_event(
            call,
            now,
            "calling.call.collect",
            {**self._ids(call, action), "final": True, "state": "finished", "result": result},
        )
        self._done(call, action)

    def start_input_timers(self, call: SimCall, action: SimAction, now: float) -> dict[str, Any]:
        """``calling.collect.start_input_timers``: arm a deferred no_input timer."""
        if action.pending_input is not None:
            delay, result = action.pending_input
            action.pending_input = None
            self._later(
                call, action, now, delay, lambda t: self._collect_final(call, action, t, result)
            )
        return ok("Timers started")

    # ------------------------------------------------------------------ record
    def start_record(self, call: SimCall, action: SimAction, now: float) -> None:
        """Begin a recording; its length comes from the script (voicemail or ``say``)."""
        audio = action.params["record"].get("audio", {})
        if call.script.kind == "voicemail":
            action.content = call.script.message_seconds
        elif call.steps and call.steps[0].action == "say":
            action.content = max(1.0, 0.06 * len(call.steps.popleft().value))
        action.state = "recording"
        action.elapsed = 0.0
        action.opened = now
        self.call_event(
            call,
            now,
            "calling.call.record",
            {**self._ids(call, action), "state": "recording", "record": action.params["record"]},
        )
        if action.content > 0:
            end_silence = float(audio.get("end_silence_timeout", 1.0))
            if end_silence > 0:
                self._later(
                    call,
                    action,
                    now,
                    action.content + end_silence,
                    lambda t: self.finish_record(call, action, t),
                )
            else:
                action.started = now
        else:
            initial = float(audio.get("initial_timeout", 5.0))
            if initial > 0:
                self._later(
                    call, action, now, initial, lambda t: self._record_no_input(call, action, t)
                )
            else:
                action.started = now

    def _record_no_input(self, call: SimCall, action: SimAction, now: float) -> None:
        action.timer = None
        if self._heard(call, action, now):
            # There was audio in the recorded direction(s) (e.g. a whole-call
            # "both" recording while prompts play): keep recording until
            # calling.record.stop or the end of the call.
            return
        self.call_event(
            call,
            now,
            "calling.call.record",
            {**self._ids(call, action), "state": "no_input", "record": action.params["record"]},
        )
        self._done(call, action)

    def _heard(self, call: SimCall, action: SimAction, now: float) -> bool:
        """Was there audio in the recording's direction(s) since it began?

        ``listen`` hears the prompts played to the caller, ``speak`` (the
        default) hears the caller's digits and speech, ``both`` hears either.
        """
        direction = action.params["record"].get("audio", {}).get("direction", "speak")
        opened = action.opened
        if direction in ("listen", "both") and (
            (call.prompt_at is not None and call.prompt_at >= opened)
            or self._prompt_left(call, now) > 0
        ):
            return True
        return direction in ("speak", "both") and (
            call.caller_at is not None and call.caller_at >= opened
        )

    def finish_record(self, call: SimCall, action: SimAction, now: float) -> None:
        """Finish a recording with url, duration and size (top-level and under ``record``)."""
        if action.state == "recording":
            action.elapsed += now - action.started
        duration = round(action.elapsed / self.time_scale, 3)
        if action.content > 0:
            duration = min(duration, action.content) if duration else action.content
        audio = action.params["record"].get("audio", {})
        fmt = audio.get("format", "mp3") if audio.get("format") in ("mp3", "wav") else "mp3"
        url = f"https://recordings.relaykit.invalid/{call.call_id}/{action.control_id}.{fmt}"
        size = int(duration * (16000 if fmt == "wav" else 2000))
        call.record.recordings.append({"url": url, "duration": duration, "size": size})
        echo = {**action.params["record"], "url": url, "duration": duration, "size": size}
        self.call_event(
            call,
            now,
            "calling.call.record",
            {
                **self._ids(call, action),
                "state": "finished",
                "url": url,
                "duration": duration,
                "size": size,
                "record": echo,
            },
        )
        self._done(call, action)

    def pause_record(self, call: SimCall, action: SimAction, now: float) -> dict[str, Any]:
        """``calling.record.pause``."""
        if action.state == "recording":
            action.elapsed += now - action.started
            if action.timer is not None:
                action.timer.cancel()
                action.remaining -= now - action.started
                action.timer = None
            action.state = "paused"
            self.call_event(
                call,
                now,
                "calling.call.record",
                {**self._ids(call, action), "state": "paused", "record": action.params["record"]},
            )
        return ok("Paused")

    def resume_record(self, call: SimCall, action: SimAction, now: float) -> dict[str, Any]:
        """``calling.record.resume``."""
        if action.state == "paused":
            action.state = "recording"
            action.started = now
            self.call_event(
                call,
                now,
                "calling.call.record",
                {
                    **self._ids(call, action),
                    "state": "recording",
                    "record": action.params["record"],
                },
            )
            if action.remaining > 0 and action.content > 0:
                left = action.remaining
                action.timer = self.call_later(
                    now, left, lambda t: self.finish_record(call, action, t)
                )
        return ok("Resumed")

    # ------------------------------------------------------------------ detect
    def start_detect(self, call: SimCall, action: SimAction, now: float) -> None:
        """Schedule detect results from the script kind (machine/human/fax) or digits."""
        det = action.params["detect"]
        dtype, dparams = det["type"], det.get("params", {}) or {}
        kind = call.script.kind
        results: list[tuple[float, dict[str, Any]]] = []
        if dtype == "machine":
            if kind == "voicemail":
                results.append((2.5, {"event": "MACHINE", "beep": False}))
                if dparams.get("detect_message_end", True):
                    results.append((2.5, {"event": "NOT_READY", "beep": False}))
                    results.append((4.0, {"event": "READY", "beep": True}))
            elif kind == "human":
                results.append((1.5, {"event": "HUMAN", "beep": False}))
            else:
                results.append((3.0, {"event": "UNKNOWN", "beep": False}))
        elif dtype == "fax":
            if kind == "fax":
                results.append((1.5, {"event": str(dparams.get("tone", "CED"))}))
        else:
            allowed = str(dparams.get("digits", "0123456789#*"))
            if call.steps and call.steps[0].action == "press":
                pressed = "".join(ch for ch in call.steps.popleft().value if ch in allowed)
                if pressed:
                    results.append((1.0, {"event": pressed}))
        timeout = float(action.params.get("timeout", 30.0))
        self._detect_step(call, action, now, dtype, results, timeout)

    def _detect_step(
        self,
        call: SimCall,
        action: SimAction,
        now: float,
        dtype: str,
        results: list[tuple[float, dict[str, Any]]],
        timeout: float,
    ) -> None:
        if not results:
            self._later(
                call,
                action,
                now,
                timeout if action.state == "running" else 0.0,
                lambda t: self.finish_detect(call, action, t, dtype),
            )
            action.state = "detecting"
            return
        delay, result = results.pop(0)

        def fire(t: float) -> None:
            call.record.detections.append(str(result["event"]))
            self.call_event(
                call,
                t,
                "calling.call.detect",
                {**self._ids(call, action), "detect": {"type": dtype, "params": result}},
            )
            if results:
                self._detect_step(call, action, t, dtype, results, timeout)
            else:
                self.finish_detect(call, action, t, dtype)

        self._later(call, action, now, delay, fire)

    def finish_detect(self, call: SimCall, action: SimAction, now: float, dtype: str) -> None:
        """Terminal detect event; ``state`` mirrored for the official SDK (§9.2)."""
        self.call_event(
            call,
            now,
            "calling.call.detect",
            {
                **self._ids(call, action),
                "state": "finished",
                "detect": {"type": dtype, "params": {"event": "finished"}},
            },
        )
        self._done(call, action)

    # ------------------------------------------------------------------ fax
    def start_fax(self, call: SimCall, action: SimAction, now: float) -> None:
        """send_fax / receive_fax: a page, then finished (success iff the far end is a fax)."""
        direction = "send" if action.kind == "send_fax" else "receive"
        self._later(call, action, now, 3.0, lambda t: self._fax_page(call, action, t, direction))

    def _fax_page(self, call: SimCall, action: SimAction, now: float, direction: str) -> None:
        if call.script.kind == "fax":
            self.call_event(
                call,
                now,
                "calling.call.fax",
                {
                    **self._ids(call, action),
                    "fax": {"type": "page", "params": {"direction": direction, "number": 1}},
                },
            )
        self._later(
            call, action, now, 3.0, lambda t: self.finish_fax(call, action, t, direction, None)
        )

    def finish_fax(
        self, call: SimCall, action: SimAction, now: float, direction: str, why: str | None
    ) -> None:
        """Terminal fax event (``fax.type`` finished; ``state`` mirrored for the SDK, §9.2)."""
        success = why is None and call.script.kind == "fax"
        text = why or ("" if success else "remote end is not a fax machine")
        document = action.params.get("document", f"https://fax.relaykit.invalid/{call.call_id}.pdf")
        params = {
            "direction": direction,
            "identity": call.record.to_number,
            "remote_identity": call.record.from_number,
            "document": document,
            "success": success,
            "result": "1231" if success else "1212",
            "result_text": text,
            "pages": "1" if success else "0",
        }
        self.call_event(
            call,
            now,
            "calling.call.fax",
            {
                **self._ids(call, action),
                "state": "finished",
                "fax": {"type": "finished", "params": params},
            },
        )
        self._done(call, action)

    # ------------------------------------------------------------------ ending actions
    def terminate_action(self, call: SimCall, action: SimAction, now: float, why: str) -> None:
        """End *action* with its kind's terminal event (``why``: ``"stop"`` or ``"hangup"``)."""
        kind = action.kind
        if action.timer is not None:
            action.timer.cancel()
            action.timer = None
        if kind == "play" or (
            kind == "play_and_collect" and action.phase != "collect" and why == "hangup"
        ):
            self._play_finished(call, action, now, "finished" if why == "stop" else "error")
            if kind == "play_and_collect":
                self._done(call, action)
            return
        if kind in ("collect", "play_and_collect"):
            if action.phase != "collect" and kind == "play_and_collect":
                self.call_event(
                    call, now, "calling.call.play", {**self._ids(call, action), "state": "finished"}
                )
            self._collect_final(
                call, action, now, {"type": "no_input" if why == "stop" else "error"}
            )
        elif kind == "record":
            if action.state in ("recording", "paused"):
                self.finish_record(call, action, now)
            else:
                self._done(call, action)
        elif kind == "detect":
            self.finish_detect(call, action, now, action.params["detect"]["type"])
        elif kind in ("send_fax", "receive_fax"):
            direction = "send" if kind == "send_fax" else "receive"
            self.finish_fax(
                call, action, now, direction, "stopped" if why == "stop" else "call ended"
            )
        elif kind == "pay":
            self.call_event(
                call,
                now,
                "calling.call.pay",
                {
                    **self._ids(call, action),
                    "state": "finished",
                    "result": "relay-pay-stop" if why == "stop" else "caller-hung-up",
                },
            )
            self._done(call, action)
        elif kind == "transcribe":
            duration = round((now - action.started) / self.time_scale, 3)
            self.call_event(
                call,
                now,
                "calling.call.transcribe",
                {
                    **self._ids(call, action),
                    "state": "finished",
                    "url": f"https://transcripts.relaykit.invalid/{action.control_id}.json",
                    "recording_id": action.control_id,
                    "duration": duration,
                    "size": int(duration * 100),
                },
            )
            self._done(call, action)
        elif kind == "queue":
            self._done(call, action)
        else:  # tap, stream, ai, send_digits: a plain finished state
            event = {
                "tap": "calling.call.tap",
                "stream": "calling.call.stream",
                "ai": "calling.call.ai",
                "send_digits": "calling.call.send_digits",
            }[kind]
            extra: dict[str, Any] = {}
            if kind == "tap":
                extra = {"tap": action.params["tap"], "device": action.params["device"]}
            elif kind == "stream":
                extra = {"url": action.params.get("url"), "name": action.params.get("name")}
            self.call_event(
                call, now, event, {**self._ids(call, action), "state": "finished", **extra}
            )
            self._done(call, action)
