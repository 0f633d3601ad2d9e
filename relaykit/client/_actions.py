"""Action handles: what ``call.play()``, ``call.record()``, ... return.

An action is a handle on one operation running on a call, identified by its
``control_id``.  It does not decide when the operation is over: the core does
(:class:`~relay_proto.ActionCompleted`, emitted exactly once per action on the
kind's terminal signal, on call end, or on a failed start).  The dispatcher
routes progress events here by ``control_id`` (:meth:`Action.note_progress`)
and the core's completion too (:meth:`Action.settle`), which wakes every
``wait()``.

``wait()`` returns the terminal RELAY event (``PlayStateChanged``,
``CollectResultReceived``, ...), whose typed accessors (``result.digits``,
``result.url``, ``result.result``) and raw ``params`` both work.  When the
action ended without a terminal event (the call ended first, the server said
the call is gone, the start request failed), ``wait()`` returns an event of the
same class whose ``params`` are ``{"call_id", "node_id", "control_id",
"state": reason, "reason": reason}`` with *reason* one of ``"call_ended"``,
``"call_gone"``, ``"failed"``; :attr:`Action.reason` says the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from relay_proto import ACTION_SPECS, ActionSpec, Event, RelayError, RelayEvent, ResponseReceived

from . import _commands as build
from ._constants import (
    EVENT_CALL_COLLECT,
)

if TYPE_CHECKING:
    from ._call import Call
    from ._dispatch import Dispatcher

__all__ = [
    "AIAction",
    "Action",
    "CollectAction",
    "DetectAction",
    "FaxAction",
    "PausableAction",
    "PayAction",
    "PlayAction",
    "RecordAction",
    "StandaloneCollectAction",
    "StoppableAction",
    "StreamAction",
    "TapAction",
    "TranscribeAction",
    "VolumeAction",
]

logger = logging.getLogger("relaykit.client")

#: ``on_completed=`` callbacks: sync or async, called with the terminal event.
CompletionCallback = Callable[[RelayEvent], Any]


class Action:
    """Base class of every action handle.

    Attributes:
        call: The :class:`~relaykit.client.Call` the action runs on.
        control_id: The action's control id (sent as ``control_id`` on the wire).
        state: The last ``state`` (or progress ``type``) reported for the action.
        result: The terminal event once done, else ``None``.
        completed: True once done (same as :attr:`is_done`).
        reason: Why it completed: ``"finished"``, ``"call_ended"``,
            ``"call_gone"`` or ``"failed"`` (``""`` while running).
    """

    #: The kind's row in the core's action table (kind, start methods, event
    #: type, terminal rule): the core owns those facts, the class points at them.
    #: ``None`` only on the base classes, which users may build by hand.
    _spec: ClassVar[ActionSpec | None] = None
    #: ``calling.<prefix>.stop`` etc.; by default the event type's last part
    #: (``calling.call.tap`` -> ``tap``).
    _command_prefix: ClassVar[str] = ""

    def __init__(
        self,
        call: Call,
        control_id: str,
        *,
        on_completed: CompletionCallback | None = None,
    ) -> None:
        self.call = call
        self.control_id = control_id
        self.state = ""
        self.result: RelayEvent | None = None
        self.completed = False
        self.reason = ""
        self._on_completed = on_completed
        # The call's dispatcher (the client's engine), by its documented link.
        self._hub: Dispatcher = call.dispatcher
        self._done = self._hub.runtime.create_event()

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} control_id={self.control_id!r} "
            f"call_id={self.call.call_id!r} state={self.state!r} done={self.completed}>"
        )

    @property
    def is_done(self) -> bool:
        """True once the action reached a terminal state."""
        return self.completed

    async def wait(self, timeout: float | None = None) -> RelayEvent:
        """Wait until the action completes and return its terminal event.

        A timed-out wait does not affect the action: it keeps running and a later
        ``wait()`` still returns the terminal event.

        Args:
            timeout: Seconds to wait; ``None`` waits as long as it takes (the
                action always completes when the call ends).

        Returns:
            The terminal event (see the module docstring for actions that ended
            without one).

        Raises:
            TimeoutError: *timeout* elapsed first.
        """
        timeout = build.check_timeout("timeout", timeout)
        if not self.completed:
            if timeout is None:
                await self._done.wait()
            else:
                runtime = self._hub.runtime
                with runtime.move_on_at(runtime.current_time() + timeout):
                    await self._done.wait()
                if not self.completed:
                    raise TimeoutError(
                        f"{type(self).__name__} {self.control_id} not done after {timeout} s"
                    )
        result = self.result
        if result is None:  # unreachable: settle() sets result before the flag
            raise RuntimeError("action completed without a result")
        return result

    # -- called by the dispatcher and the call (dispatch path; must stay cheap) --

    def note_progress(self, event: RelayEvent) -> None:
        """A progress event for this control id (called by the dispatcher only).

        Updates :attr:`state`; the core alone decides when the action is over.
        """
        state = self._state_from(event)
        if state:
            self.state = state

    def _state_from(self, event: RelayEvent) -> str:
        """The state an event reports for this kind (``""``: none)."""
        return _reported_state(event)

    def settle(self, event: RelayEvent | None, reason: str) -> None:
        """Mark the action done (idempotent), wake waiters, run ``on_completed``.

        Called by the dispatcher on the core's ``ActionCompleted`` (*event* is
        the terminal event, or ``None`` on call end) and by the call when the
        start did not go through (``call_ended``, ``call_gone``, ``failed``).
        """
        if self.completed:
            return
        if event is None:
            event = self._synthetic_result(reason)
        else:
            state = _reported_state(event)
            if state:
                self.state = state
        self.result = event
        self.reason = reason
        self.completed = True
        self._done.set()
        callback = self._on_completed
        if callback is not None:
            self._hub.run_callback(callback, event, f"on_completed of {self!r}")

    def start_abandoned(self, outcome: Event) -> None:
        """The task starting this action was cancelled before it saw the start's *outcome*.

        Called by the dispatcher once the outcome is known.  If the server
        started the action, it is stopped (``calling.<kind>.stop``, not awaited):
        nothing keeps playing or recording for a caller that gave up.
        """
        if type(outcome) is not ResponseReceived or not isinstance(self, StoppableAction):
            return
        call = self.call
        method = f"calling.{self._prefix()}.stop"
        logger.info("%s: its start was cancelled after the server started it; stopping it", self)
        params = {"node_id": call.node_id, "call_id": call.call_id, "control_id": self.control_id}
        try:
            _, driver = self._hub.send(method, params, None)
        except (RelayError, RuntimeError, TypeError, ValueError) as exc:
            logger.warning("could not stop %r: %s", self, exc)
            return
        driver.kick()

    def _synthetic_result(self, reason: str) -> RelayEvent:
        spec = self._spec
        event_type = spec.event_type if spec is not None else ""
        cls = spec.event_class if spec is not None else RelayEvent
        params = {
            "call_id": self.call.call_id,
            "node_id": self.call.node_id,
            "control_id": self.control_id,
            "state": reason,
            "reason": reason,
        }
        self.state = reason
        return cls(event_type=event_type, params=params)

    def _prefix(self) -> str:
        spec = self._spec
        return self._command_prefix or (spec.event_type if spec else "").rpartition(".")[2]

    async def _command(self, suffix: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self._call_command(f"{self._prefix()}.{suffix}", extra)

    async def _call_command(self, method: str, extra: dict[str, Any] | None) -> dict[str, Any]:
        params = build.action_command(self.control_id, extra)
        # A command on the call, sent the way the call's own are (call-gone rule,
        # catch-up for the call's next wait_for), as in the official SDK.
        return await self._hub.call_command(self.call, method, params)


class StoppableAction(Action):
    """An action that can be stopped (official name; base of most actions)."""

    async def stop(self) -> dict[str, Any]:
        """Stop the operation (``calling.<kind>.stop``).

        Returns:
            The server's result, or ``{}`` if the call is already gone (404/410).

        Raises:
            RelayError: Any other non-2xx answer.
        """
        return await self._command("stop")


class PausableAction(StoppableAction):
    """An action that can also be paused and resumed (play, record)."""

    async def pause(self, behavior: str | None = None) -> dict[str, Any]:
        """Pause the operation (record: *behavior* ``"skip"`` or ``"silence"``)."""
        return await self._command("pause", {"behavior": behavior} if behavior else None)

    async def resume(self) -> dict[str, Any]:
        """Resume a paused operation."""
        return await self._command("resume")


class VolumeAction(StoppableAction):
    """An action whose audio volume can change (play, play_and_collect).

    Unlike the official SDK's class of the same name it does not inherit
    pause/resume: ``calling.play_and_collect`` has no pause command, and a
    method that can only fail is not offered.
    """

    async def volume(self, volume: float) -> dict[str, Any]:
        """Change the volume, in dB (-40.0 .. 40.0)."""
        return await self._command("volume", {"volume": volume})


class PlayAction(PausableAction, VolumeAction):
    """Handle on ``calling.play``: stop, pause, resume, volume; ends on ``finished``/``error``."""

    _spec = ACTION_SPECS["play"]


class RecordAction(PausableAction):
    """Handle on ``calling.record``; ends on ``finished``/``no_input``.

    The terminal event (:class:`~relay_proto.RecordStateChanged`) has ``url``,
    ``duration`` and ``size``; also available here as properties.
    """

    _spec = ACTION_SPECS["record"]

    @property
    def url(self) -> str:
        """The recording URL once finished, else ``""``."""
        return str(getattr(self.result, "url", "") or "")

    @property
    def duration(self) -> float:
        """The recording duration in seconds once finished, else ``0.0``."""
        value = getattr(self.result, "duration", 0.0)
        return float(value) if isinstance(value, (int, float)) else 0.0


class DetectAction(StoppableAction):
    """Handle on ``calling.detect``.

    Ends on the first meaningful result (``MACHINE``/``HUMAN``/fax tone/digits)
    or on ``finished``/``error``, as decided by the core; the result is in
    ``result.result`` (:class:`~relay_proto.DetectResultReceived`).
    """

    _spec = ACTION_SPECS["detect"]

    def _state_from(self, event: RelayEvent) -> str:
        detected = getattr(event, "result", "")
        return detected if isinstance(detected, str) else ""


class _CollectBase(StoppableAction):
    _spec = ACTION_SPECS["collect"]

    def _state_from(self, event: RelayEvent) -> str:
        # play_and_collect also carries calling.call.play events (the prompt);
        # only collect progress is this action's state.
        return _reported_state(event) if event.event_type == EVENT_CALL_COLLECT else ""

    async def start_input_timers(self) -> dict[str, Any]:
        """Start the ``initial_timeout`` timer now (``calling.collect.start_input_timers``)."""
        return await self._call_command("collect.start_input_timers", None)

    @property
    def digits(self) -> str:
        """Collected digits once done (``""`` otherwise)."""
        return str(getattr(self.result, "digits", "") or "")

    @property
    def speech(self) -> str:
        """Recognised speech once done (``""`` otherwise)."""
        return str(getattr(self.result, "speech", "") or "")

    @property
    def type(self) -> str:
        """The result type once done (``digit``, ``speech``, ``no_input``, ...), else ``""``."""
        return str(getattr(self.result, "type", "") or "")


class CollectAction(_CollectBase, VolumeAction):
    """Handle on ``calling.play_and_collect``: stop, volume (of the prompt).

    Ends only on a final collect result (never on the prompt's play finishing).
    """

    _spec = ACTION_SPECS["play_and_collect"]
    _command_prefix = "play_and_collect"


class StandaloneCollectAction(_CollectBase):
    """Handle on ``calling.collect`` (no prompt); ends on a final result."""

    _command_prefix = "collect"


class FaxAction(StoppableAction):
    """Handle on ``calling.send_fax`` / ``receive_fax``; ends on ``fax.type`` finished/error."""

    _spec = ACTION_SPECS["fax"]

    def __init__(
        self,
        call: Call,
        control_id: str,
        method_prefix: str = "send_fax",
        *,
        on_completed: CompletionCallback | None = None,
    ) -> None:
        super().__init__(call, control_id, on_completed=on_completed)
        self._fax_prefix = method_prefix

    def _prefix(self) -> str:
        return self._fax_prefix  # send_fax or receive_fax, per instance

    def _state_from(self, event: RelayEvent) -> str:
        progress = getattr(event, "type", "")
        return progress if isinstance(progress, str) else ""


class TapAction(StoppableAction):
    """Handle on ``calling.tap``; ends on ``finished``."""

    _spec = ACTION_SPECS["tap"]


class StreamAction(StoppableAction):
    """Handle on ``calling.stream``; ends on ``finished``."""

    _spec = ACTION_SPECS["stream"]


class PayAction(StoppableAction):
    """Handle on ``calling.pay``.

    The platform sends no ``state`` for pay: progress is in ``for``, and
    ``payment-completed``, ``payment-failed`` or ``payment-canceled`` ends the
    action (the wire corpus shows it).  ``action.result.outcome`` says which:
    ``"completed"``, ``"failed"`` or ``"canceled"``.
    """

    _spec = ACTION_SPECS["pay"]


class TranscribeAction(StoppableAction):
    """Handle on ``calling.transcribe``; ends on ``finished``."""

    _spec = ACTION_SPECS["transcribe"]


class AIAction(StoppableAction):
    """Handle on ``calling.ai``; ends on ``finished``/``error`` or when the call ends."""

    _spec = ACTION_SPECS["ai"]


def _reported_state(event: RelayEvent) -> str:
    """The ``state`` an action event's params report (``""``: none)."""
    state = event.params.get("state")
    return state if isinstance(state, str) else ""
