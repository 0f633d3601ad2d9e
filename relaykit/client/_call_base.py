"""``CallBase``: what a live call is, and how it sends its commands.

A call's identity (ids, context, tag, device), its state as the core reports
it, the events delivered to it by the dispatcher (:meth:`CallBase.deliver`),
its ``on`` listeners and ``wait_for`` waits, and the two request paths every
command uses: :meth:`CallBase._execute` (plain commands) and
:meth:`CallBase._start` (commands that start an action).  Both add
``node_id``/``call_id`` and apply the **call-gone rule**: a 404 or 410 answer
means the call no longer exists, so the method logs and returns ``{}`` instead
of raising; an action started that way is completed at once
(``reason="call_gone"``).  Any other non-2xx answer raises
:class:`~relay_proto.RelayError`.  An action started on a call that already
ended completes at once without sending anything.

:class:`~relaykit.client.Call` adds the SDK's command methods on top (one
short delegation each, params from :mod:`._commands`).  The call reaches the
connection through the client's dispatcher, which it takes from the client's
:attr:`~relaykit.client.RelayClient.dispatcher` (the object model's one link
from a parent to the engine) and hands on to its actions as
:attr:`CallBase.dispatcher`: requests, the runtime, listener calls and the
action registry.  The dispatcher talks back through a few methods documented
as "called by the dispatcher only" (:meth:`CallBase.deliver`,
:meth:`CallBase.command_sent`, :meth:`CallBase.outcome_dispatched`,
:meth:`CallBase.resumed`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from sys import intern
from typing import TYPE_CHECKING, Any, TypeVar

from relay_proto import CallGoneError, CallStateChanged, RelayEvent
from relay_proto.rpc import JSON_LOADS, dumps

from . import _commands as build
from ._actions import Action
from ._constants import (
    CALL_STATE_ANSWERED,
    CALL_STATE_ENDED,
    CALL_STATE_ENDING,
    CALL_STATE_RINGING,
    CALL_STATES,
    EVENT_CALL_STATE,
)

if TYPE_CHECKING:
    from ._client import RelayClient
    from ._dispatch import Dispatcher
    from ._runtime import AsyncEvent

__all__ = ["CallBase", "EventHandler"]

logger = logging.getLogger("relaykit.client")

#: ``call.on(...)`` listeners: sync (timed) or async (run as a task).
EventHandler = Callable[[RelayEvent], Any]
_ActionT = TypeVar("_ActionT", bound=Action)


class _Waiter:
    """One pending :meth:`Call.wait_for`."""

    __slots__ = ("error", "event", "event_type", "predicate", "result")

    def __init__(
        self,
        event_type: str,
        predicate: Callable[[RelayEvent], bool] | None,
        event: AsyncEvent,
    ) -> None:
        self.event_type = event_type
        self.predicate = predicate
        self.event = event
        self.result: RelayEvent | None = None
        self.error: BaseException | None = None


def _compact(device: Mapping[str, Any]) -> Mapping[str, Any] | str:
    """*device* as compact JSON text until somebody reads ``call.device``.

    A held call that never looks at its device then keeps ~120 B of text
    instead of two dicts and their strings (~0.6 KB; see performance.md).
    """
    try:
        return dumps(device)
    except (TypeError, ValueError):  # not JSON-encodable (not from the wire): keep it
        return device


# At most this many events are kept between a command's outcome and the
# resumption of the task awaiting it (normally: the rest of one socket read).
_CATCHUP_LIMIT = 32


class CallBase:
    """A live RELAY call without its command methods (see :class:`~relaykit.client.Call`).

    Attributes:
        call_id: The call's id.
        node_id: The RELAY node handling the call.
        project_id: The project id, when the server sent one.
        context: The context the call arrived on (inbound calls; ``""`` for dials).
        tag: The correlation tag (dial tag for outbound calls).
        direction: ``"inbound"`` or ``"outbound"``.
        device: The device object (``{"type": "phone", "params": {...}}``).
        state: The current call state (``created`` .. ``ended``).
        end_reason: Why the call ended (``hangup``, ``busy``, ...), once it ended.
        segment_id: The segment id, when the server sent one.
    """

    # Slots keep a held call small; "__dict__" (allocated only when used) still
    # lets programs attach their own attributes to a call, as they can to the
    # official SDK's.
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_catchup",
        "_device",
        "_ended",
        "_ended_event",
        "_hub",
        "_listeners",
        "_missed",
        "_waiters",
        "call_id",
        "context",
        "direction",
        "end_reason",
        "node_id",
        "project_id",
        "segment_id",
        "state",
        "tag",
    )

    def __init__(
        self,
        client: RelayClient,
        call_id: str,
        node_id: str,
        project_id: str = "",
        context: str = "",
        *,
        tag: str = "",
        direction: str = "",
        device: Mapping[str, Any] | None = None,
        state: str = "",
        segment_id: str = "",
    ) -> None:
        # The engine behind the client (its client is hub.client: one slot
        # for both, thousands of calls may be held at once).
        self._hub: Dispatcher = client.dispatcher
        self.call_id = call_id
        self.node_id = node_id
        self.project_id = project_id
        self.context = context
        self.tag = tag
        self.direction = direction
        self._device: Mapping[str, Any] | str = _compact(device) if device else {}
        self.state = state
        self.segment_id = segment_id
        self.end_reason = ""
        # Allocated on first use: most calls never get a listener or a
        # wait_for, and thousands of calls may be held at once.
        self._listeners: dict[str, list[EventHandler]] | None = None
        self._waiters: list[_Waiter] | None = None
        # Events that reached the call after a command's outcome, before the
        # task awaiting it could run (see wait_for); None almost always.
        self._catchup: list[RelayEvent] | None = None
        self._missed: list[RelayEvent] | None = None
        self._ended = self._hub.runtime.create_event()
        self._ended_event: RelayEvent | None = None

    @property
    def dispatcher(self) -> Dispatcher:
        """The client's dispatcher, for this call's actions (internal, like the client's)."""
        return self._hub

    @property
    def _client(self) -> RelayClient:
        # The official SDK's Call keeps its client as ``_client``; programs ported
        # from it (and our tests) may still read it.
        return self._hub.client

    @property
    def device(self) -> Mapping[str, Any]:
        """The device object (``{"type": "phone", "params": {...}}``), decoded on first use."""
        device = self._device
        if isinstance(device, str):
            device = self._device = JSON_LOADS(device)
        return device

    @device.setter
    def device(self, value: Mapping[str, Any]) -> None:
        self._device = value

    def __repr__(self) -> str:
        return (
            f"<Call id={self.call_id!r} state={self.state!r} "
            f"direction={self.direction!r} context={self.context!r}>"
        )

    @property
    def is_ended(self) -> bool:
        """True once the call reached ``ended``."""
        return self._ended.is_set()

    # ------------------------------------------------------------------
    # Requests
    # ------------------------------------------------------------------

    def _execute(
        self, method: str, extra_params: Mapping[str, Any] | None = None
    ) -> Awaitable[dict[str, Any]]:
        """Send ``calling.<method>`` for this call; await the result.

        Returns:
            The result object, or ``{}`` when the server says the call is gone
            (404/410), which is logged and not raised.

        Raises:
            RelayError: Any other failure (non-2xx answer, timeout, connection lost).
        """
        return self._hub.call_command(self, method, extra_params)

    async def _start(self, action: _ActionT, method: str, params: dict[str, Any]) -> _ActionT:
        """Register *action*, send its start request and return it.

        The action completes at once (without sending) when the call already
        ended, and at once with ``reason="call_gone"`` on a 404/410 answer.
        Any other failure completes it with ``reason="failed"`` and raises.
        """
        if self._ended.is_set():
            logger.warning("call %s already ended; not sending calling.%s", self.call_id, method)
            action.settle(None, "call_ended")
            return action
        hub = self._hub
        hub.register_action(action)
        try:
            request_id, driver = hub.send_for_call(self, method, params)
            await hub.await_outcome(
                request_id, driver, call=self, on_abandon=action.start_abandoned
            )
        except CallGoneError as exc:
            logger.info("calling.%s on call %s: %s (call gone)", method, self.call_id, exc)
            hub.forget_action(action.control_id)
            action.settle(None, "call_gone")
        except BaseException:
            hub.forget_action(action.control_id)
            action.settle(None, "failed")
            raise
        return action

    def _new_control_id(self, control_id: str | None) -> str:
        return control_id or self._hub.runtime.make_id()

    # ------------------------------------------------------------------
    # Events, listeners, waits
    # ------------------------------------------------------------------

    def on(self, event_type: str, handler: EventHandler) -> None:
        """Call *handler(event)* for every event of *event_type* on this call.

        Synchronous handlers run inline on the connection's reader, so keep them
        short: one that takes longer than the client's ``slow_listener_threshold``
        is logged with its name and duration.  Coroutine functions run as tasks.
        Exceptions are logged and never affect other listeners or the call.
        """
        if not isinstance(event_type, str) or not event_type:
            raise TypeError(f"event_type must be a non-empty string, got {event_type!r}")
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {type(handler).__name__}")
        if self._listeners is None:
            self._listeners = {}
        self._listeners.setdefault(event_type, []).append(handler)

    def off(self, event_type: str, handler: EventHandler) -> None:
        """Remove a listener added with :meth:`on` (no error if absent)."""
        handlers = self._listeners.get(event_type) if self._listeners else None
        if handlers and handler in handlers:
            handlers.remove(handler)

    def deliver(self, event: RelayEvent) -> None:
        """Apply one event of this call (called by the client's dispatcher only).

        State events update :attr:`state`; every event then reaches the
        catch-up buffer, the pending ``wait_for``s and the ``on`` listeners.
        (Action progress went to the action first, by control id.)
        """
        if type(event) is CallStateChanged:
            # The core decides the state, forward-only: a late or repeated
            # event never moves a call back (ringing after answered).
            state = event.state
            if state:
                self.state = intern(state)  # one shared string per state name
            if state in (CALL_STATE_ENDED, CALL_STATE_ENDING):
                self.end_reason = event.end_reason or self.end_reason
        if self._catchup is not None and len(self._catchup) < _CATCHUP_LIMIT:
            self._catchup.append(event)
        if self._waiters:
            self._check_waiters(event, self._waiters)
        if self._listeners:
            handlers = self._listeners.get(event.event_type)
            if handlers:
                run = self._hub.run_listener
                for handler in tuple(handlers):
                    run(handler, event)
        if self.state == CALL_STATE_ENDED and not self._ended.is_set():
            self._mark_ended(event)

    def command_sent(self) -> None:
        """A command for this call goes out (called by the dispatcher only).

        What the call missed before it is no longer "just now" for ``wait_for``.
        """
        self._missed = None

    def outcome_dispatched(self) -> None:
        """A command's outcome for this call was dispatched: start catching up.

        Called by the dispatcher only, synchronously, on the connection's task.
        """
        if self._catchup is None:
            self._catchup = []

    def resumed(self) -> None:
        """The task awaiting a command on this call runs again: keep what it missed.

        Called by the dispatcher only (also when that task was cancelled).
        """
        caught, self._catchup = self._catchup, None
        if caught:
            self._missed = caught

    def _take_missed(
        self, event_type: str, predicate: Callable[[RelayEvent], bool] | None
    ) -> RelayEvent | None:
        """The first missed event matching, consumed with every one before it."""
        missed = self._missed
        if not missed:
            return None
        for index, event in enumerate(missed):
            if event.event_type == event_type and (predicate is None or predicate(event)):
                del missed[: index + 1]
                return event
        return None

    def _check_waiters(self, event: RelayEvent, waiters: list[_Waiter]) -> None:
        for waiter in tuple(waiters):
            if waiter.event_type != event.event_type:
                continue
            try:
                matched = waiter.predicate is None or bool(waiter.predicate(event))
            except Exception as exc:
                waiter.error = exc
                matched = True
            if matched:
                waiter.result = event
                waiters.remove(waiter)
                waiter.event.set()

    def _mark_ended(self, event: RelayEvent) -> None:
        """The call ended: release ``wait_for_ended`` and every pending ``wait_for``."""
        self._ended_event = event
        self._ended.set()
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            waiter.result = event
            waiter.event.set()

    async def wait_for(
        self,
        event_type: str,
        predicate: Callable[[RelayEvent], bool] | None = None,
        timeout: float | None = None,
    ) -> RelayEvent:
        """Wait for the next event of *event_type* (matching *predicate*) on this call.

        "Next" counts from the result of this call's last command: events that
        arrived after that result but before the awaiting task could run (the
        rest of the same socket read, typically) are seen here, so
        ``await call.connect(...)`` followed by ``await call.wait_for(
        EVENT_CALL_CONNECT, ...)`` cannot miss a ``connected`` that came right
        behind the connect result.  Each such event is returned at most once.
        (The official SDK only sees events that arrive after ``wait_for`` is
        called.)

        If the call ends first, this returns the call's ``ended`` state event
        instead of waiting forever (check ``call.state``).

        Raises:
            TimeoutError: *timeout* seconds passed first.
            Exception: Whatever *predicate* raised.
        """
        timeout = build.check_timeout("timeout", timeout)
        if predicate is not None and not callable(predicate):
            raise TypeError(f"predicate must be callable, got {type(predicate).__name__}")
        missed = self._take_missed(event_type, predicate)
        if missed is not None:
            return missed
        if self._ended.is_set():
            assert self._ended_event is not None
            return self._ended_event
        runtime = self._hub.runtime
        waiter = _Waiter(event_type, predicate, runtime.create_event())
        if self._waiters is None:
            self._waiters = [waiter]
        else:
            self._waiters.append(waiter)
        try:
            if timeout is None:
                await waiter.event.wait()
            else:
                with runtime.move_on_at(runtime.current_time() + timeout):
                    await waiter.event.wait()
        finally:
            if self._waiters and waiter in self._waiters:
                self._waiters.remove(waiter)
        if waiter.error is not None:
            raise waiter.error
        if waiter.result is None:
            raise TimeoutError(f"no {event_type} event on call {self.call_id} within {timeout} s")
        return waiter.result

    async def wait_for_ended(self, timeout: float | None = None) -> RelayEvent:
        """Wait until the call ended and return the ``ended`` state event.

        Raises:
            TimeoutError: *timeout* seconds passed first.
        """
        timeout = build.check_timeout("timeout", timeout)
        self._missed = None  # not needed for this wait; don't hold on to them
        if not self._ended.is_set():
            runtime = self._hub.runtime
            if timeout is None:
                await self._ended.wait()
            else:
                with runtime.move_on_at(runtime.current_time() + timeout):
                    await self._ended.wait()
                if not self._ended.is_set():
                    raise TimeoutError(f"call {self.call_id} did not end within {timeout} s")
        assert self._ended_event is not None
        return self._ended_event

    async def _wait_for_state(self, target: str, timeout: float | None) -> RelayEvent:
        rank = CALL_STATES.index
        if self.state in CALL_STATES and rank(self.state) >= rank(target):
            return CallStateChanged(
                event_type=EVENT_CALL_STATE,
                params={"call_id": self.call_id, "node_id": self.node_id, "call_state": self.state},
            )
        return await self.wait_for(
            EVENT_CALL_STATE,
            lambda e: (
                e.params.get("call_state") in CALL_STATES
                and rank(e.params["call_state"]) >= rank(target)
            ),
            timeout=timeout,
        )

    async def wait_for_ringing(self, timeout: float | None = None) -> RelayEvent:
        """Wait until the call rings (returns at once if it is ringing or later)."""
        return await self._wait_for_state(CALL_STATE_RINGING, timeout)

    async def wait_for_answered(self, timeout: float | None = None) -> RelayEvent:
        """Wait until the call is answered (returns at once if answered or later)."""
        return await self._wait_for_state(CALL_STATE_ANSWERED, timeout)

    async def wait_for_ending(self, timeout: float | None = None) -> RelayEvent:
        """Wait until the call is ending (returns at once if ending or ended)."""
        return await self._wait_for_state(CALL_STATE_ENDING, timeout)
