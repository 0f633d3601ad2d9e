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

:class:`ActionSim` dispatches by kind and simulates the short ones itself
(play, detect, fax, tap, stream, pay, send_digits, transcribe, ai); the two
whose timing carries the most behaviour have their own collaborators:
:class:`~._collect.Collector` (collect, and the second phase of
play_and_collect) and :class:`~._record.Recorder`.  All three share one
:class:`~._timeline.Timeline`: one timer per action, one way to finish.

The events follow the shapes of the public wire corpus
(``/work/shared/wire-corpus/frames.jsonl``; ``tests/emulator/test_corpus_shapes.py``
compares them kind by kind).  Where the corpus shows no ``state`` (detect,
fax) the emulator still mirrors one on the terminal event, because the
official SDK's action objects wait for it (§9.2).
"""

from __future__ import annotations

from typing import Any

from ._collect import Collector
from ._model import Host, SimAction, SimCall, fail, ids, ok
from ._record import Recorder
from ._schema import media_duration
from ._timeline import Timeline

__all__ = ["ACTION_KINDS", "ActionSim"]

#: ``calling.<method>`` -> the action kind it starts (one SimAction each).
#: The methods are §5.3's action table; ``_world`` routes every one of them to
#: :meth:`ActionSim.start`.  (``calling.queue.enter`` carries a ``control_id``
#: too, but a queue is a place, not a media action: ``_rooms`` answers it.)
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

#: The event type of the plain "finished" event that ends the simple kinds
#: (corpus: ``state: finished`` and the ids, nothing else; §5.3's terminal column).
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
        self.timeline = Timeline(host)
        self.collector = Collector(self.timeline)
        self.recorder = Recorder(self.timeline)

    # ------------------------------------------------------------------ queries
    def running(self, call: SimCall, kind: str) -> bool:
        """True if *call* has a running action of *kind* (e.g. an AI session)."""
        return any(a.kind == kind for a in call.actions.values())

    def end_all(self, call: SimCall, now: float) -> None:
        """The call is ending: every running action sends its terminal event (§6.1).

        Called between the call's ``ending`` and ``ended`` states, so a client
        sees each action finish (``error``, ``no_input``, ...) before the call
        is gone.  A copy of the table is walked: each end removes its action.
        """
        for action in list(call.actions.values()):
            self.terminate_action(call, action, now, "hangup")

    # ------------------------------------------------------------------ starting and steering
    def start(self, call: SimCall, kind: str, params: dict[str, Any], now: float) -> dict[str, Any]:
        """Start a *kind* action from its request *params*; returns the RELAY result.

        The result comes first and the action's events after it (the server
        defers events emitted while a request is handled).  A ``control_id``
        already running on the call is a ``409``, as is a second
        transcription (§3.9).

        Args:
            call: The call the request named (known and not ended: the world
                checked).
            kind: One of the :data:`ACTION_KINDS` values.
            params: The request's params, already schema-checked.
            now: Loop time.

        Returns:
            The RELAY result: ``200`` with ``call_id``, ``control_id`` and the
            kind's message (the GUIDE's texts, §5), or the ``409``.
        """
        control_id = params["control_id"]
        if control_id in call.actions:
            return fail("409", f"control_id {control_id!r} is already in use on this call")
        if kind == "transcribe" and self.running(call, "transcribe"):
            return fail("409", "calling.transcribe: a transcription is already running")
        action = SimAction(kind=kind, control_id=control_id, params=params, started=now)
        call.actions[control_id] = action
        # §5's results carry call_id and control_id; the message is per kind.
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
            self.collector.begin(call, action, now, params)
            result["message"] = "Collecting"
        elif kind == "record":
            self.recorder.start(call, action, now)
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
            self.timeline.later(
                call, action, now, seconds, lambda t: self.terminate_action(call, action, t, "stop")
            )
            result["message"] = "Sending Digits"
        elif kind == "tap":
            # Tapping starts at once and runs until stopped or the call ends.
            tapping = {"state": "tapping", "tap": params["tap"], "device": _tap_device(params)}
            self.timeline.event(call, now, "calling.call.tap", {**ids(call, action), **tapping})
            result["source_device"] = _TAP_SOURCE
            result["message"] = "Tapping"
        elif kind == "stream":
            self.timeline.event(
                call, now, "calling.call.stream", self._stream_params(call, action, "streaming")
            )
            result["message"] = "Streaming"
        elif kind == "pay":
            # A caller takes a few seconds to key in a card; then it succeeds.
            self.timeline.later(call, action, now, 5.0, lambda t: self._pay_done(call, action, t))
            result["message"] = "Collecting payment"
        else:  # transcribe, ai: run until stopped or the call ends
            result["message"] = "Transcribing" if kind == "transcribe" else "AI session started"
        return result

    def subcommand(
        self, call: SimCall, method: str, params: dict[str, Any], now: float
    ) -> dict[str, Any]:
        """``calling.<kind>.<verb>`` on a running action: stop, pause, resume, volume, ...

        An unknown or finished ``control_id`` is a ``404``; a verb the kind
        does not support (pausing a detect) is a ``400``.  The schema has
        already limited *method* to §5.3's sub-command column, so the verbs
        that reach the end here are pause and resume.

        Returns:
            The RELAY result of the sub-command.
        """
        action = call.actions.get(params["control_id"])
        verb = method.rsplit(".", 1)[1]  # "calling.play.pause" -> "pause"
        if action is None or action.state == "done":
            return fail(
                "404", f"{method}: no active action with control_id {params['control_id']!r}"
            )
        if verb == "stop":
            self.terminate_action(call, action, now, "stop")
            return ok("Stopped")
        if verb == "volume":
            # Nothing to hear in a simulation: the level is only remembered.
            action.params["volume"] = params["volume"]
            return ok("Volume set")
        if verb == "start_input_timers":
            return self.collector.start_input_timers(call, action, now)
        if action.kind == "play":
            if verb == "pause":
                return self.pause_play(call, action, now)
            return self.resume_play(call, action, now)
        if action.kind == "record":
            if verb == "pause":
                return self.recorder.pause(call, action, now)
            return self.recorder.resume(call, action, now)
        return fail("400", f"{method} is not supported by a {action.kind} action")

    # ------------------------------------------------------------------ pay, stream
    def _pay_params(self, call: SimCall, action: SimAction, progress: str) -> dict[str, Any]:
        """A ``calling.call.pay`` event: progress is in ``for``, there is no ``state``.

        (§9 item 3: the Python SDK waits for ``state``, JS reads these fields;
        the terminal event therefore carries both.)

        Shape from the corpus (2025 capture, ``for: payment-completed``): the
        status URL, ``error_type``, ``payment_method`` and masked card fields.
        """
        return {
            **ids(call, action),
            "status_url": action.params.get("status_url", ""),
            "status_url_method": "POST",
            "for": progress,
            # Empty on success, as captured; failures name the caller's hangup.
            "error_type": "" if progress == "payment-completed" else "user-hangup",
            "payment_method": "credit-card",
        }

    def _pay_done(self, call: SimCall, action: SimAction, now: float) -> None:
        """The simulated caller entered a card: ``payment-completed`` ends the action.

        The card fields are masked as in the corpus's capture (only the last
        four digits in clear); the numbers are a well-known test card's.
        """
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
        self.timeline.event(call, now, "calling.call.pay", params)
        self.timeline.done(call, action)

    def _stream_params(self, call: SimCall, action: SimAction, state: str) -> dict[str, Any]:
        """A ``calling.call.stream`` event (corpus: ``state``, ``url``, ``name``).

        ``name`` appears only when the request gave one: the corpus's events
        without a name have no ``name`` key at all, not a null.
        """
        params = {**ids(call, action), "state": state, "url": action.params["url"]}
        if action.params.get("name") is not None:
            params["name"] = action.params["name"]
        return params

    # ------------------------------------------------------------------ play
    def start_play(self, call: SimCall, action: SimAction, now: float) -> None:
        """Begin playing ``action.params["play"]`` (also the first phase of play_and_collect).

        Every item is written to ``CallRecord.prompts`` (so a test can assert
        what the caller heard) and the play lasts the sum of the items'
        :func:`~._schema.media_duration`, times ``loop``.  ``loop: 0`` plays
        until stopped (§5.3, unconfirmed on the wire); it never ends a
        play_and_collect, whose collect must still happen.
        """
        media = action.params["play"]
        for item in media:
            # Both the wire shape and the flat SEED shape (see _schema._media_item).
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
        # ``loop`` is only on calling.play (the schema types it as an int).
        if isinstance(loop, int) and loop > 1:
            total *= loop
        action.state = "playing"
        call.prompt_at = now  # audio towards the caller: a "listen" recording hears it
        self.timeline.event(
            call, now, "calling.call.play", {**ids(call, action), "state": "playing"}
        )
        if loop == 0 and action.kind == "play":
            action.started, action.remaining = now, float("inf")  # until stopped
            return
        self.timeline.later(
            call, action, now, total, lambda t: self._play_finished(call, action, t)
        )

    def _play_finished(
        self, call: SimCall, action: SimAction, now: float, state: str = "finished"
    ) -> None:
        """The play ended with *state* (``finished``, or ``error`` on hangup).

        For play_and_collect a ``calling.call.play`` finished is *not* the end
        (§5.3): the collect phase starts on the same action and control_id,
        and only its final ``calling.call.collect`` ends it.
        """
        action.timer = None
        call.prompt_at = now
        self.timeline.event(call, now, "calling.call.play", {**ids(call, action), "state": state})
        if action.kind == "play_and_collect" and state == "finished":
            action.phase = "collect"
            action.state = "collecting"
            self.collector.begin(call, action, now, action.params["collect"])
        else:
            self.timeline.done(call, action)

    def pause_play(self, call: SimCall, action: SimAction, now: float) -> dict[str, Any]:
        """``calling.play.pause``: hold the end timer, keeping the real seconds left.

        Pausing a play that is not playing is a no-op 200 (idempotent for retries).
        """
        if action.state != "playing":
            return ok("Paused")
        if action.timer is not None:
            action.timer.cancel()
            action.timer = None
        action.remaining -= now - action.started
        action.state = "paused"
        self.timeline.event(
            call, now, "calling.call.play", {**ids(call, action), "state": "paused"}
        )
        return ok("Paused")

    def resume_play(self, call: SimCall, action: SimAction, now: float) -> dict[str, Any]:
        """``calling.play.resume``: re-arm what was left (an endless loop stays endless)."""
        if action.state != "paused":
            return ok("Resumed")
        action.state = "playing"
        self.timeline.event(
            call, now, "calling.call.play", {**ids(call, action), "state": "playing"}
        )
        if action.remaining != float("inf"):
            # ``remaining`` is real seconds; later() takes simulated ones.
            left = action.remaining / self.timeline.host.time_scale
            self.timeline.later(
                call, action, now, left, lambda t: self._play_finished(call, action, t)
            )
        return ok("Resumed")

    # ------------------------------------------------------------------ detect
    def start_detect(self, call: SimCall, action: SimAction, now: float) -> None:
        """Schedule detect results from the script kind (machine/human/fax) or digits.

        The results and their order are the corpus's (§6.8): a voicemail is
        ``MACHINE``, then -- with ``detect_message_end`` (default true, §4.5)
        -- ``NOT_READY`` while the greeting plays and ``READY`` with the beep;
        a person is ``HUMAN``; anything else is ``UNKNOWN``.  A fax detect
        hears the fax's tone (``CED`` by default), a digit detect the next
        ``press`` step, filtered to the allowed digits.  The delays are
        simulated seconds between results, long enough to look like a real
        detector and short enough for tests.
        """
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
        # §4.5: the overall ``timeout`` is a sibling of ``detect``, not inside it.
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
        """Arm the next of *results*, or the end of the detect when none are left.

        With no result at all (nothing to detect), the detect waits out its
        ``timeout`` (§4.5, default 30 s); after the last result it ends at
        once (the action's state is no longer ``running`` then).
        """
        if not results:
            self.timeline.later(
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
            # Each result is its own event, with no ``state`` (corpus shape).
            call.record.detections.append(str(result["event"]))
            self.timeline.event(
                call,
                t,
                "calling.call.detect",
                {**ids(call, action), "detect": {"type": dtype, "params": result}},
            )
            if results:
                self._detect_step(call, action, t, dtype, results, timeout)
            else:
                self.finish_detect(call, action, t, dtype)

        self.timeline.later(call, action, now, delay, fire)

    def finish_detect(self, call: SimCall, action: SimAction, now: float, dtype: str) -> None:
        """Terminal detect event; ``state`` mirrored for the official SDK (§9.2).

        Server-shaped sources end a detect with ``detect.params.event:
        finished``; the mirrored ``state`` lets clients keyed on it end too.
        """
        self.timeline.event(
            call,
            now,
            "calling.call.detect",
            {
                **ids(call, action),
                "state": "finished",
                "detect": {"type": dtype, "params": {"event": "finished"}},
            },
        )
        self.timeline.done(call, action)

    # ------------------------------------------------------------------ fax
    def start_fax(self, call: SimCall, action: SimAction, now: float) -> None:
        """send_fax / receive_fax: a page, then finished (success iff the far end is a fax)."""
        direction = "send" if action.kind == "send_fax" else "receive"
        # About 3 s of T.30 handshake, then 3 s for the one page.
        self.timeline.later(
            call, action, now, 3.0, lambda t: self._fax_page(call, action, t, direction)
        )

    def _fax_page(self, call: SimCall, action: SimAction, now: float, direction: str) -> None:
        """A fax far end transfers one page (``fax.type: page``); anything else never does."""
        if call.script.kind == "fax":
            self.timeline.event(
                call,
                now,
                "calling.call.fax",
                {
                    **ids(call, action),
                    "fax": {"type": "page", "params": {"direction": direction, "pages": "1"}},
                },
            )
        self.timeline.later(
            call, action, now, 3.0, lambda t: self.finish_fax(call, action, t, direction, None)
        )

    def finish_fax(
        self, call: SimCall, action: SimAction, now: float, direction: str, why: str | None
    ) -> None:
        """Terminal fax event (``fax.type`` finished; ``state`` mirrored for the SDK, §9.2)."""
        # Only a fax machine at the far end can complete a fax; a stop or a
        # hangup (*why*) fails it with that reason as ``result_text``.
        success = why is None and call.script.kind == "fax"
        text = why or ("" if success else "remote end is not a fax machine")
        document = action.params.get("document", f"https://fax.relaykit.invalid/{call.call_id}.pdf")
        params = {
            "direction": direction,
            "identity": call.record.to_number,
            "remote_identity": call.record.from_number,
            "document": document,
            "success": success,
            # "1231" is the corpus's success code; "1212" is ours for a failure.
            "result": "1231" if success else "1212",
            "result_text": text,
            "pages": "1" if success else "0",
        }
        self.timeline.event(
            call,
            now,
            "calling.call.fax",
            {
                **ids(call, action),
                "state": "finished",
                "fax": {"type": "finished", "params": params},
            },
        )
        self.timeline.done(call, action)

    # ------------------------------------------------------------------ ending actions
    def terminate_action(self, call: SimCall, action: SimAction, now: float, why: str) -> None:
        """End *action* with its kind's terminal event (``why``: ``"stop"`` or ``"hangup"``).

        Each kind ends the way §5.3's terminal column says: a stopped play
        ``finished`` and a hung-up one ``error``; a collect ``no_input`` or
        ``error``; a recording ``finished`` with what it captured so far; a
        detect or fax its finished event; the simple kinds ``finished``.
        """
        kind = action.kind
        if action.timer is not None:
            action.timer.cancel()
            action.timer = None
        if kind == "play" or (
            kind == "play_and_collect" and action.phase != "collect" and why == "hangup"
        ):
            self._play_finished(call, action, now, "finished" if why == "stop" else "error")
            if kind == "play_and_collect":
                self.timeline.done(call, action)
            return
        if kind in ("collect", "play_and_collect"):
            if action.phase != "collect" and kind == "play_and_collect":
                # Stopped while still playing: the play half ends first.
                self.timeline.event(
                    call, now, "calling.call.play", {**ids(call, action), "state": "finished"}
                )
            self.collector.final(
                call, action, now, {"type": "no_input" if why == "stop" else "error"}
            )
        elif kind == "record":
            # A recording that already ended (no_input) has nothing to report.
            if action.state in ("recording", "paused"):
                self.recorder.finish(call, action, now)
            else:
                self.timeline.done(call, action)
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
            self.timeline.event(call, now, "calling.call.pay", params)
            self.timeline.done(call, action)
        elif kind == "transcribe":
            # The corpus's transcribe end: url, recording_id, duration, size.
            # The transcript covers the simulated time it ran (size: ~100 B/s).
            duration = round((now - action.started) / self.timeline.host.time_scale, 3)
            self.timeline.event(
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
            self.timeline.done(call, action)
        elif kind == "stream":
            self.timeline.event(
                call, now, "calling.call.stream", self._stream_params(call, action, "finished")
            )
            self.timeline.done(call, action)
        else:  # tap, ai, send_digits: a plain finished state
            extra: dict[str, Any] = {}
            if kind == "tap":
                extra = {"tap": action.params["tap"], "device": _tap_device(action.params)}
            finished = {**ids(call, action), "state": "finished", **extra}
            self.timeline.event(call, now, _FINISHED_EVENT[kind], finished)
            self.timeline.done(call, action)
