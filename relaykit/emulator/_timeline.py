"""What every simulated action needs: report an event, wait for one thing, finish (sans-IO).

The action simulators (:class:`~._actions.ActionSim` and the collect and
record simulators it holds) share one discipline, kept here so that it is
written once:

* an action has **at most one timer** -- the next thing it will report.
  Arming a new one cancels the old (:meth:`Timeline.later`), so stopping,
  pausing or ending the call only ever has to cancel that one timer;
* ``started``/``remaining`` on the :class:`~._model.SimAction` record when
  that timer was armed and for how long, which is all pause/resume needs;
* an action that has sent its terminal event is retired at once
  (:meth:`Timeline.done`): its ``control_id`` is free for reuse and later
  sub-commands on it are a ``404``.

Durations given here are *simulated* seconds; the :class:`~._model.Host`
turns them into real ones (``time_scale``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._model import Host, SimAction, SimCall, call_event

__all__ = ["Timeline"]


class Timeline:
    """The shared timing and reporting of actions (see module docstring).

    Args:
        host: The server's services (timers, the time scale, event delivery).
    """

    def __init__(self, host: Host) -> None:
        self.host = host

    def event(self, call: SimCall, now: float, event_type: str, params: dict[str, Any]) -> None:
        """Emit *event_type* about *call* (see :func:`~._model.call_event`)."""
        call_event(self.host, call, now, event_type, params)

    def later(
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

    def done(self, call: SimCall, action: SimAction) -> None:
        """The action has sent its terminal event: forget it (its control_id is free)."""
        if action.timer is not None:
            action.timer.cancel()
        action.state = "done"
        call.actions.pop(action.control_id, None)

    def prompt_left(self, call: SimCall, now: float) -> float:
        """Simulated seconds until every prompt now playing on *call* has finished.

        A caller answers a menu after hearing it: collect results are timed
        from the end of the prompts, not from the collect request.
        """
        left = 0.0
        for act in call.actions.values():
            if act.kind in ("play", "play_and_collect") and act.state == "playing":
                left = max(left, (act.remaining - (now - act.started)) / self.host.time_scale)
        return left
