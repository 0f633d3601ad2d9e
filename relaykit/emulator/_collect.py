"""The simulated caller's input: ``calling.collect`` and the collect phase of ``play_and_collect``.

A collect (relay-protocol.md §4.3, §6.6) ends with exactly one final
``calling.call.collect`` event whose ``result.type`` says what the caller
did: ``digit``, ``speech``, ``no_match`` (input the collect was not set up
for) or ``no_input``.  What the caller does comes from the next step of the
call's :class:`~._script.Caller` script (``press`` or ``say``); a script with
no step left is a caller who stays silent.

The timing is what makes collects testable, so it is modelled rather than
instant: the caller starts reacting half a second after the prompts now
playing have finished (:meth:`~._timeline.Timeline.prompt_left`), presses a
digit every 0.3 s and speaks at 0.06 s a character; a digit collect that
neither hits ``max`` nor a terminator waits out ``digit_timeout``, and
silence waits out ``initial_timeout``.  The optional flags add what the
platform adds: a ``start_of_input`` event (``send_start_of_input``), one
partial speech result (``partial_results``), and no-input timers that only
run once the application says so (``start_input_timers``).
"""

from __future__ import annotations

from typing import Any

from ._model import SimAction, SimCall, ids, ok
from ._timeline import Timeline

__all__ = ["Collector"]


class Collector:
    """Decides and times each collect's result (see module docstring).

    Args:
        timeline: The shared action timing and event reporting.
    """

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline

    def begin(self, call: SimCall, action: SimAction, now: float, spec: dict[str, Any]) -> None:
        """Start the collect phase: decide from the script what the caller does.

        The result is decided now and sent when its timer fires, so a stop or
        a hangup in between only has to cancel the timer.

        Args:
            call / action: The call and its collect (or play_and_collect) action.
            now: Loop time.
            spec: The collect object: the request's params for
                ``calling.collect``, its ``collect`` for ``play_and_collect``.
        """
        # One script step is consumed per collect, whether or not it fits:
        # a caller who says something at a digits-only menu is a no_match.
        step = call.steps.popleft() if call.steps else None
        digits, speech = spec.get("digits"), spec.get("speech")
        # The flags may sit at the top level or inside ``collect`` (§4.3 leaves
        # it unconfirmed for play_and_collect): accept both, the inner one wins.
        flags = {**action.params, **spec}
        initial = float(spec.get("initial_timeout", 5.0))
        react = 0.5 + self.timeline.prompt_left(call, now)
        result: dict[str, Any]
        if step is not None and step.action == "press" and isinstance(digits, dict):
            # Digits up to ``max`` or the first terminator; the terminator is
            # reported apart and is not part of ``digits``.
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
                # Neither full nor terminated: the platform ends the collect
                # only when the inter-digit timeout runs out.
                delay += float(digits.get("digit_timeout", 5.0))
            result = {"type": "digit", "params": {"digits": got, "terminator": term}}
        elif step is not None and step.action == "say" and isinstance(speech, dict):
            delay = react + 0.06 * len(step.value) + float(speech.get("end_silence_timeout", 1.0))
            result = {"type": "speech", "params": {"text": step.value, "confidence": 0.95}}
            if flags.get("partial_results"):
                # Halfway through, the first half of the words as a non-final
                # result; the final one follows in the remaining time.
                words = step.value.split()
                partial = {
                    "type": "speech",
                    "params": {"text": " ".join(words[: max(1, len(words) // 2)])},
                }
                self.timeline.later(
                    call,
                    action,
                    now,
                    delay / 2,
                    lambda t: self._partial(call, action, t, partial, delay / 2),
                )
                self._note_input(call, result)
                action.pending_input = None
                action.final = result
                return
        elif step is not None and step.action in ("press", "say"):
            # Input of a kind the collect does not listen for.
            delay = react + 0.3 * len(step.value)
            result = {"type": "no_match"}
        else:
            delay = initial
            result = {"type": "no_input"}
        self._note_input(call, result)
        if result["type"] != "no_input" and flags.get("send_start_of_input"):
            self.timeline.event(
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
        self.timeline.later(call, action, now, delay, lambda t: self.final(call, action, t, result))

    def _note_input(self, call: SimCall, result: dict[str, Any]) -> None:
        """Add the caller's input to the call record (``CallRecord.inputs``) for tests."""
        call.record.inputs.append({"type": result["type"], **result.get("params", {})})

    def _partial(
        self, call: SimCall, action: SimAction, now: float, partial: dict[str, Any], rest: float
    ) -> None:
        """Send the partial speech result, then arm the final one *rest* seconds on."""
        self.timeline.event(
            call,
            now,
            "calling.call.collect",
            {**ids(call, action), "final": False, "state": "collecting", "result": partial},
        )
        final, action.final = action.final or {"type": "no_input"}, None
        self.timeline.later(call, action, now, rest, lambda t: self.final(call, action, t, final))

    def final(self, call: SimCall, action: SimAction, now: float, result: dict[str, Any]) -> None:
        """Send the final ``calling.call.collect`` with *result* and retire the action.

        Also the end of a stopped or hung-up collect (``no_input`` / ``error``,
        from :meth:`~._actions.ActionSim.terminate_action`).  Any real input
        marks the caller as heard, which a ``speak`` recording notices.
        """
        action.timer = None
        if result.get("type") in ("digit", "speech", "no_match"):
            call.caller_at = now
        self.timeline.event(
            call,
            now,
            "calling.call.collect",
            {**ids(call, action), "final": True, "state": "finished", "result": result},
        )
        self.timeline.done(call, action)

    def start_input_timers(self, call: SimCall, action: SimAction, now: float) -> dict[str, Any]:
        """``calling.collect.start_input_timers``: arm a deferred no_input timer.

        Only a silent caller's result waits for this (``start_input_timers:
        true``); a second call, or a call when nothing waits, is a harmless 200.
        """
        if action.pending_input is not None:
            delay, result = action.pending_input
            action.pending_input = None
            self.timeline.later(
                call, action, now, delay, lambda t: self.final(call, action, t, result)
            )
        return ok("Timers started")
