"""The simulated media actions: play, record, collect, detect, fax, tap, pay, ...

An action is what a ``calling.<kind>`` request with a ``control_id`` starts
(relay-protocol.md §6.3): the platform answers the request at once, then
reports progress and the end in ``calling.call.<kind>`` events carrying the
same ``control_id``.  :class:`ActionSim` plays the platform's part for every
action kind the emulator accepts.  Each running action is a
:class:`~._model.SimAction` on its :class:`~._model.SimCall`; it has at most
one timer (the next thing it will report), so stopping, pausing or ending the
call only has to cancel that one timer.

What the far end does (digits, speech, voicemail, fax tones) comes from the
call's :class:`~._script.Caller` script; durations are simulated seconds
turned into real ones through the :class:`~._model.Host`.

The events follow the shapes of the public wire corpus
(``/work/shared/wire-corpus/frames.jsonl``; ``tests/emulator/test_corpus_shapes.py``
compares them kind by kind).  Where the corpus shows no ``state`` (detect,
fax) the emulator still mirrors one on the terminal event, because the
official SDK's action objects wait for it (§9.2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._model import Host, SimAction, SimCall, call_event, fail, ids, ok
from ._schema import media_duration

__all__ = ["ACTION_KINDS", "ActionSim"]

#: ``calling.<method>`` -> the action kind it starts (one SimAction each).
ACTION_KINDS: dict[str, str] = {
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

#: The event type of the plain "finished" event that ends the simple kinds.
_FINISHED_EVENT: dict[str, str] = {
    "tap": "calling.call.tap",
    "stream": "calling.call.stream",
    "ai": "calling.call.ai",
    "send_digits": "calling.call.send_digits",
}

#: The RTP endpoint a ``calling.tap`` start result offers (corpus: tap results
#: carry ``source_device``).
_TAP_SOURCE: dict[str, Any] = {
    "type": "rtp",
    "params": {"addr": "127.0.0.1", "port": 40000, "codec": "PCMU", "ptime": 20},
}


def _tap_device(params: dict[str, Any]) -> dict[str, Any]:
    """The tap's device as the platform reports it: RTP gets its codec and ptime filled in.

    The corpus's tap events always show ``codec`` and ``ptime`` for an RTP
    device, whether or not the request gave them (defaults: PCMU, 20 ms).
    """
    device = params["device"]
    if device.get("type") != "rtp":
        return dict(device)
    filled = {"codec": "PCMU", "ptime": 20, **device.get("params", {})}
    return {**device, "params": filled}


class ActionSim:
    """Starts, steers and ends the actions of simulated calls.

    Args:
        host: The server's services (ids, timers, event delivery).
    """

    def __init__(self, host: Host) -> None:
        self.host = host

    # ------------------------------------------------------------------ helpers
    def _event(self, call: SimCall, now: float, event_type: str, params: dict[str, Any]) -> None:
        """Emit *event_type* about *call* (see :func:`~._model.call_event`)."""
        call_event(self.host, call, now, event_type, params)

    def _later(
        self,
        call: SimCall,
        action: SimAction,
        now: float,
        seconds: float,
        fn: Callable[[float], None],
    ) -> None:
        """Run ``fn(now)`` after *seconds* simulated, as the action's (single) timer.

        A previous timer of the action is cancelled: an action only ever waits
        for one thing.  ``started``/``remaining`` are kept so that pause can
        tell how much is left.
        """
        if action.timer is not None:
            action.timer.cancel()
        action.started = now
        action.remaining = self.host.scaled(seconds)
        action.timer = self.host.call_later(now, action.remaining, fn)

    def _done(self, call: SimCall, action: SimAction) -> None:
        """The action has sent its terminal event: forget it (its control_id is free)."""
        if action.timer is not None:
            action.timer.cancel()
        action.state = "done"
        call.actions.pop(action.control_id, None)

    def _prompt_left(self, call: SimCall, now: float) -> float:
        """Simulated seconds until every prompt now playing on *call* has finished.

        A caller answers a menu after hearing it: collect results are timed
        from the end of the prompts, not from the collect request.
        """
        left = 0.0
        for act in call.actions.values():
            if act.kind in ("play", "play_and_collect") and act.state == "playing":
                left = max(left, (act.remaining - (now - act.started)) / self.host.time_scale)
        return left

    def running(self, call: SimCall, kind: str) -> bool:
        """True if *call* has a running action of *kind* (e.g. an AI session)."""
        return any(a.kind == kind for a in call.actions.values())

    def end_all(self, call: SimCall, now: float) -> None:
        """The call is ending: every running action sends its terminal event (§6.1)."""
        for action in list(call.actions.values()):
            self.terminate_action(call, action, now, "hangup")

    # ------------------------------------------------------------------ starting and steering
    def start(self, call: SimCall, kind: str, params: dict[str, Any], now: float) -> dict[str, Any]:
        """Start a *kind* action from its request *params*; returns the RELAY result.

        The result comes first and the action's events after it (the server
        defers events emitted while a request is handled, §3.4).  A
        ``control_id`` already running on the call is a ``409``, as is a second
        transcription.
        """
        control_id = params["control_id"]
        if control_id in call.actions:
            return fail("409", f"control_id {control_id!r} is already in use on this call")
        if kind == "transcribe" and self.running(call, "transcribe"):
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
            # DTMF at 100 ms a digit; "w" and "W" are 0.5 s and 1 s pauses.
            digits = params["digits"]
            call.record.digits_sent.append(digits)
            seconds = sum(0.5 if c == "w" else 1.0 if c == "W" else 0.1 for c in digits)
            self._later(
                call, action, now, seconds, lambda t: self.terminate_action(call, action, t, "stop")
            )
            result["message"] = "Sending Digits"
        elif kind == "tap":
            tapping = {"state": "tapping", "tap": params["tap"], "device": _tap_device(params)}
            self._event(call, now, "calling.call.tap", {**ids(call, action), **tapping})
            result["source_device"] = _TAP_SOURCE
            result["message"] = "Tapping"
        elif kind == "stream":
            self._event(
                call, now, "calling.call.stream", self._stream_params(call, action, "streaming")
            )
            result["message"] = "Streaming"
        elif kind == "pay":
            self._later(call, action, now, 5.0, lambda t: self._pay_done(call, action, t))
            result["message"] = "Collecting payment"
        else:  # transcribe, ai: run until stopped or the call ends
            result["message"] = "Transcribing" if kind == "transcribe" else "AI session started"
        return result

    def subcommand(
        self, call: SimCall, method: str, params: dict[str, Any], now: float
    ) -> dict[str, Any]:
        """``calling.<kind>.<verb>`` on a running action: stop, pause, resume, volume, ...

        An unknown or finished ``control_id`` is a ``404``; a verb the kind
        does not support (pausing a detect) is a ``400``.
        """
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
            if verb == "pause":
                return self.pause_play(call, action, now)
            return self.resume_play(call, action, now)
        if action.kind == "record":
            if verb == "pause":
                return self.pause_record(call, action, now)
            return self.resume_record(call, action, now)
        return fail("400", f"{method} is not supported by a {action.kind} action")

    # ------------------------------------------------------------------ pay, stream
    def _pay_params(self, call: SimCall, action: SimAction, progress: str) -> dict[str, Any]:
        """A ``calling.call.pay`` event: progress is in ``for``, there is no ``state``.

        Shape from the corpus (2025 capture, ``for: payment-completed``): the
        status URL, ``error_type``, ``payment_method`` and masked card fields.
        """
        return {
            **ids(call, action),
            "status_url": action.params.get("status_url", ""),
            "status_url_method": "POST",
            "for": progress,
            "error_type": "" if progress == "payment-completed" else "user-hangup",
            "payment_method": "credit-card",
        }

    def _pay_done(self, call: SimCall, action: SimAction, now: float) -> None:
        """The simulated caller entered a card: ``payment-completed`` ends the action."""
        card = {
            "payment_card_number": "************1111",
            "payment_card_type": "visa",
            "security_code": "***",
            "expiration_date": "1230",
            "payment_card_postal_code": "10001",
        }
        # ``state`` mirrored on the terminal event, as in terminate_action.
        params = {
            **self._pay_params(call, action, "payment-completed"),
            **card,
            "state": "finished",
        }
        self._event(call, now, "calling.call.pay", params)
        self._done(call, action)

    def _stream_params(self, call: SimCall, action: SimAction, state: str) -> dict[str, Any]:
        """A ``calling.call.stream`` event (corpus: ``state``, ``url``, ``name``)."""
        params = {**ids(call, action), "state": state, "url": action.params["url"]}
        if action.params.get("name") is not None:
            params["name"] = action.params["name"]
        return params

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
        self._event(call, now, "calling.call.play", {**ids(call, action), "state": "playing"})
        if loop == 0 and action.kind == "play":
            action.started, action.remaining = now, float("inf")  # until stopped
            return
        self._later(call, action, now, total, lambda t: self._play_finished(call, action, t))

    def _play_finished(
        self, call: SimCall, action: SimAction, now: float, state: str = "finished"
    ) -> None:
        action.timer = None
        call.prompt_at = now
        self._event(call, now, "calling.call.play", {**ids(call, action), "state": state})
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
        self._event(call, now, "calling.call.play", {**ids(call, action), "state": "paused"})
        return ok("Paused")

    def resume_play(self, call: SimCall, action: SimAction, now: float) -> dict[str, Any]:
        """``calling.play.resume``."""
        if action.state != "paused":
            return ok("Resumed")
        action.state = "playing"
        self._event(call, now, "calling.call.play", {**ids(call, action), "state": "playing"})
        if action.remaining != float("inf"):
            left = action.remaining / self.host.time_scale
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
                action.final = result
                return
        elif step is not None and step.action in ("press", "say"):
            delay = react + 0.3 * len(step.value)
            result = {"type": "no_match"}
        else:
            delay = initial
            result = {"type": "no_input"}
        self._note_input(call, result)
        if result["type"] != "no_input" and flags.get("send_start_of_input"):
            self._event(
                call,
                now,
                "calling.call.collect",
                {
                    **ids(call, action),
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
        self._event(
            call,
            now,
            "calling.call.collect",
            {**ids(call, action), "final": False, "state": "collecting", "result": partial},
        )
        final, action.final = action.final or {"type": "no_input"}, None
        self._later(call, action, now, rest, lambda t: self._collect_final(call, action, t, final))

    def _collect_final(
        self, call: SimCall, action: SimAction, now: float, result: dict[str, Any]
    ) -> None:
        action.timer = None
        if result.get("type") in ("digit", "speech", "no_match"):
            call.caller_at = now
        self._event(
            call,
            now,
            "calling.call.collect",
            {**ids(call, action), "final": True, "state": "finished", "result": result},
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
    @staticmethod
    def _record_echo(action: SimAction) -> dict[str, Any]:
        """The ``record`` object of record events: the request's, with audio defaults.

        The corpus's record events always spell out ``audio.format``,
        ``direction`` and ``stereo`` (defaults mp3, speak, false) even when the
        request left them out.
        """
        record = action.params["record"]
        audio = {"format": "mp3", "direction": "speak", "stereo": False, **record.get("audio", {})}
        return {**record, "audio": audio}

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
        self._event(
            call,
            now,
            "calling.call.record",
            {**ids(call, action), "state": "recording", "record": self._record_echo(action)},
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
        self._event(
            call,
            now,
            "calling.call.record",
            {**ids(call, action), "state": "no_input", "record": self._record_echo(action)},
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
        duration = round(action.elapsed / self.host.time_scale, 3)
        if action.content > 0:
            duration = min(duration, action.content) if duration else action.content
        audio = action.params["record"].get("audio", {})
        fmt = audio.get("format", "mp3") if audio.get("format") in ("mp3", "wav") else "mp3"
        url = f"https://recordings.relaykit.invalid/{call.call_id}/{action.control_id}.{fmt}"
        size = int(duration * (16000 if fmt == "wav" else 2000))
        call.record.recordings.append({"url": url, "duration": duration, "size": size})
        echo = {**self._record_echo(action), "url": url, "duration": duration, "size": size}
        self._event(
            call,
            now,
            "calling.call.record",
            {
                **ids(call, action),
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
            self._event(
                call,
                now,
                "calling.call.record",
                {**ids(call, action), "state": "paused", "record": self._record_echo(action)},
            )
        return ok("Paused")

    def resume_record(self, call: SimCall, action: SimAction, now: float) -> dict[str, Any]:
        """``calling.record.resume``."""
        if action.state == "paused":
            action.state = "recording"
            action.started = now
            self._event(
                call,
                now,
                "calling.call.record",
                {
                    **ids(call, action),
                    "state": "recording",
                    "record": self._record_echo(action),
                },
            )
            if action.remaining > 0 and action.content > 0:
                left = action.remaining
                action.timer = self.host.call_later(
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
            self._event(
                call,
                t,
                "calling.call.detect",
                {**ids(call, action), "detect": {"type": dtype, "params": result}},
            )
            if results:
                self._detect_step(call, action, t, dtype, results, timeout)
            else:
                self.finish_detect(call, action, t, dtype)

        self._later(call, action, now, delay, fire)

    def finish_detect(self, call: SimCall, action: SimAction, now: float, dtype: str) -> None:
        """Terminal detect event; ``state`` mirrored for the official SDK (§9.2)."""
        self._event(
            call,
            now,
            "calling.call.detect",
            {
                **ids(call, action),
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
            self._event(
                call,
                now,
                "calling.call.fax",
                {
                    **ids(call, action),
                    "fax": {"type": "page", "params": {"direction": direction, "pages": "1"}},
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
        self._event(
            call,
            now,
            "calling.call.fax",
            {
                **ids(call, action),
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
                self._event(
                    call, now, "calling.call.play", {**ids(call, action), "state": "finished"}
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
            # stop: the application cancelled; hangup: the caller left mid-payment.
            progress = "payment-canceled" if why == "stop" else "payment-failed"
            # ``state`` is not in the corpus's pay events; mirrored on the terminal
            # one so that clients keyed on ``state`` (ours, the official SDK) end too.
            params = {**self._pay_params(call, action, progress), "state": "finished"}
            self._event(call, now, "calling.call.pay", params)
            self._done(call, action)
        elif kind == "transcribe":
            duration = round((now - action.started) / self.host.time_scale, 3)
            self._event(
                call,
                now,
                "calling.call.transcribe",
                {
                    **ids(call, action),
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
        elif kind == "stream":
            self._event(
                call, now, "calling.call.stream", self._stream_params(call, action, "finished")
            )
            self._done(call, action)
        else:  # tap, ai, send_digits: a plain finished state
            extra: dict[str, Any] = {}
            if kind == "tap":
                extra = {"tap": action.params["tap"], "device": _tap_device(action.params)}
            finished = {**ids(call, action), "state": "finished", **extra}
            self._event(call, now, _FINISHED_EVENT[kind], finished)
            self._done(call, action)
