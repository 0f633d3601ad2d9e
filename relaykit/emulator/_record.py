"""Simulated recordings: ``calling.record`` and its pause, resume and stop.

A recording (relay-protocol.md §4.4, §6.7) reports ``recording``, then ends
``finished`` with a URL, a duration and a size, or ``no_input`` when nothing
was heard within ``initial_timeout``.  How much audio there is comes from the
far end's script: a voicemail caller leaves ``message_seconds`` of message, a
``say`` step is speech at 0.06 s a character (at least 1 s); after that,
``end_silence_timeout`` of silence ends the recording as it does on the
platform.  With nothing to record, the ``initial_timeout`` decides -- unless
the recorded direction did carry audio (see :meth:`Recorder._heard`).

Sizes follow the format's bit rate (mp3 about 16 kbit/s, wav 128 kbit/s);
the URLs are under ``.invalid`` so that no test can fetch one by mistake.
"""

from __future__ import annotations

from typing import Any

from ._model import SimAction, SimCall, ids, ok
from ._timeline import Timeline

__all__ = ["Recorder"]


class Recorder:
    """Starts, pauses, resumes and finishes recordings (see module docstring).

    Args:
        timeline: The shared action timing and event reporting.
    """

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline

    @staticmethod
    def echo(action: SimAction) -> dict[str, Any]:
        """The ``record`` object of record events: the request's, with audio defaults.

        The corpus's record events always spell out ``audio.format``,
        ``direction`` and ``stereo`` (defaults mp3, speak, false) even when the
        request left them out.
        """
        record = action.params["record"]
        audio = {"format": "mp3", "direction": "speak", "stereo": False, **record.get("audio", {})}
        return {**record, "audio": audio}

    def start(self, call: SimCall, action: SimAction, now: float) -> None:
        """Begin a recording; its length comes from the script (voicemail or ``say``).

        Emits ``recording`` at once, then arms one timer: the end of the
        captured audio plus ``end_silence_timeout``, or -- with nothing to
        capture -- the ``initial_timeout`` no-input check.  A timeout of 0
        disables that end (§4.4): the recording then runs until stopped.
        """
        audio = action.params["record"].get("audio", {})
        # ``content``: simulated seconds of audio the far end will provide.
        if call.script.kind == "voicemail":
            action.content = call.script.message_seconds
        elif call.steps and call.steps[0].action == "say":
            action.content = max(1.0, 0.06 * len(call.steps.popleft().value))
        action.state = "recording"
        action.elapsed = 0.0
        action.opened = now
        self.timeline.event(
            call,
            now,
            "calling.call.record",
            {**ids(call, action), "state": "recording", "record": self.echo(action)},
        )
        if action.content > 0:
            end_silence = float(audio.get("end_silence_timeout", 1.0))
            if end_silence > 0:
                self.timeline.later(
                    call,
                    action,
                    now,
                    action.content + end_silence,
                    lambda t: self.finish(call, action, t),
                )
            else:
                action.started = now  # no silence end: runs until stop or hangup
        else:
            initial = float(audio.get("initial_timeout", 5.0))
            if initial > 0:
                self.timeline.later(
                    call, action, now, initial, lambda t: self._no_input(call, action, t)
                )
            else:
                action.started = now

    def _no_input(self, call: SimCall, action: SimAction, now: float) -> None:
        """``initial_timeout`` passed with no captured audio: end ``no_input``, unless heard."""
        action.timer = None
        if self._heard(call, action, now):
            # There was audio in the recorded direction(s) (e.g. a whole-call
            # "both" recording while prompts play): keep recording until
            # calling.record.stop or the end of the call.
            return
        self.timeline.event(
            call,
            now,
            "calling.call.record",
            {**ids(call, action), "state": "no_input", "record": self.echo(action)},
        )
        self.timeline.done(call, action)

    def _heard(self, call: SimCall, action: SimAction, now: float) -> bool:
        """Was there audio in the recording's direction(s) since it began?

        ``listen`` hears the prompts played to the caller, ``speak`` (the
        default) hears the caller's digits and speech, ``both`` hears either.
        """
        direction = action.params["record"].get("audio", {}).get("direction", "speak")
        opened = action.opened
        if direction in ("listen", "both") and (
            (call.prompt_at is not None and call.prompt_at >= opened)
            or self.timeline.prompt_left(call, now) > 0
        ):
            return True
        return direction in ("speak", "both") and (
            call.caller_at is not None and call.caller_at >= opened
        )

    def finish(self, call: SimCall, action: SimAction, now: float) -> None:
        """Finish a recording with url, duration and size (top-level and under ``record``).

        The duration is the real time spent recording (pauses excluded),
        turned back into simulated seconds, and never more than the audio
        the far end provided; a recording stopped at once still reports the
        whole message if there was one.  The corpus's finished events carry
        url/duration/size both at the top level and inside ``record``.
        """
        if action.state == "recording":
            action.elapsed += now - action.started
        duration = round(action.elapsed / self.timeline.host.time_scale, 3)
        if action.content > 0:
            duration = min(duration, action.content) if duration else action.content
        audio = action.params["record"].get("audio", {})
        fmt = audio.get("format", "mp3") if audio.get("format") in ("mp3", "wav") else "mp3"
        url = f"https://recordings.relaykit.invalid/{call.call_id}/{action.control_id}.{fmt}"
        size = int(duration * (16000 if fmt == "wav" else 2000))
        call.record.recordings.append({"url": url, "duration": duration, "size": size})
        echo = {**self.echo(action), "url": url, "duration": duration, "size": size}
        self.timeline.event(
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
        self.timeline.done(call, action)

    def pause(self, call: SimCall, action: SimAction, now: float) -> dict[str, Any]:
        """``calling.record.pause``: bank the elapsed time and hold the end timer.

        Pausing a recording that is not recording (already paused) is a
        no-op 200 (idempotent for retries).
        """
        if action.state == "recording":
            action.elapsed += now - action.started
            if action.timer is not None:
                action.timer.cancel()
                action.remaining -= now - action.started
                action.timer = None
            action.state = "paused"
            self.timeline.event(
                call,
                now,
                "calling.call.record",
                {**ids(call, action), "state": "paused", "record": self.echo(action)},
            )
        return ok("Paused")

    def resume(self, call: SimCall, action: SimAction, now: float) -> dict[str, Any]:
        """``calling.record.resume``: record again and re-arm what was left of the end.

        The remaining real seconds are re-armed as is (they were already
        scaled when first armed); a no-input wait is not re-armed.
        """
        if action.state == "paused":
            action.state = "recording"
            action.started = now
            self.timeline.event(
                call,
                now,
                "calling.call.record",
                {
                    **ids(call, action),
                    "state": "recording",
                    "record": self.echo(action),
                },
            )
            if action.remaining > 0 and action.content > 0:
                left = action.remaining
                action.timer = self.timeline.host.call_later(
                    now, left, lambda t: self.finish(call, action, t)
                )
        return ok("Resumed")
