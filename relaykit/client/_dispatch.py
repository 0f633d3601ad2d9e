"""The client's event dispatch and task helpers (a mixin of ``RelayClient``).

Everything here runs synchronously on the connection driver's tasks, once per
event the core emits: request outcomes wake the awaiting request, call events
go to their :class:`Call`, ``ActionCompleted`` completes the action,
``DialCompleted`` resolves ``dial()``, ``MessageCompleted`` resolves a sent
:class:`Message`, inbound calls and messages start their handler task.  No
task is created per event; user callbacks that return coroutines, and
handlers, run as tasks in the client's task group.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from sys import intern
from typing import TYPE_CHECKING, Any, cast

from relay_proto import (
    ActionCompleted,
    AuthenticationRejected,
    CallDropped,
    CallReceived,
    CallStateChanged,
    ConnectionClosed,
    DialCompleted,
    Event,
    MessageCompleted,
    MessageReceived,
    MessageStateChanged,
    RelayEvent,
    RequestCancelled,
    RequestFailed,
    RequestTimedOut,
    ResponseReceived,
    ServerDisconnectRequested,
    SessionAuthenticated,
)

from ._call import Call
from ._message import Message

if TYPE_CHECKING:
    from ._actions import Action
    from ._client import RelayClient
    from ._runtime import AsyncEvent, Runtime, TaskPool

__all__ = ["ClientDispatch", "PendingDial", "PendingRequest"]

logger = logging.getLogger("relaykit.client")


class PendingRequest:
    """One request waiting for its outcome event."""

    __slots__ = ("call", "done", "outcome")

    def __init__(self, done: AsyncEvent, call: Call | None = None) -> None:
        self.done = done
        self.call = call  # the call a command is for, if any
        self.outcome: Event | None = None


class PendingDial:
    """One ``dial()`` waiting for its ``DialCompleted``."""

    __slots__ = ("done", "outcome")

    def __init__(self, done: AsyncEvent) -> None:
        self.done = done
        self.outcome: DialCompleted | None = None


class ClientDispatch:
    """Event dispatch for :class:`~relaykit.client.RelayClient` (state lives there)."""

    _runtime: Runtime
    _pool: TaskPool | None
    _protocol: str
    _pending: dict[str, PendingRequest]
    _dials: dict[str, PendingDial]
    _calls: dict[str, Call]
    _actions: dict[str, Action]
    _messages: dict[str, Message]
    _message_sends: dict[str, Message]
    _handlers_running: int
    _handlers_idle: AsyncEvent | None
    _draining: bool
    _on_call: Callable[[Call], Awaitable[Any]] | None
    _on_message: Callable[[Message], Awaitable[Any]] | None
    slow_listener_threshold: float

    def _as_client(self) -> RelayClient:
        return cast("RelayClient", self)

    def _init_dispatch(self) -> None:
        self._pending = {}
        self._dials = {}
        self._calls = {}
        self._actions = {}
        # Sent messages by message_id, and by the id of their unanswered
        # messaging.send (the core releases early states right after the
        # result, before the awaiting task runs: the Message must exist then).
        self._messages = {}
        self._message_sends = {}
        self._handlers_running = 0
        self._handlers_idle = None
        self._draining = False
        # Bound once: a bound method per spawned handler is 64 B per held call.
        self._report_handler = self._handler_done
        self._dispatch_table: dict[type[Event], Callable[[Any], None]] = {
            ResponseReceived: self._on_outcome,
            RequestFailed: self._on_outcome,
            RequestTimedOut: self._on_outcome,
            RequestCancelled: self._on_outcome,
            CallReceived: self._on_call_received,
            CallStateChanged: self._on_call_state,
            ActionCompleted: self._on_action_completed,
            DialCompleted: self._on_dial_completed,
            MessageReceived: self._on_message_received,
            MessageStateChanged: self._on_message_state,
            MessageCompleted: self._on_message_completed,
            CallDropped: self._on_call_dropped,
        }

    # ------------------------------------------------------------------
    # Dispatch
    # ------------------------------------------------------------------

    def _dispatch(self, event: Event) -> None:
        handler = self._dispatch_table.get(type(event))
        if handler is not None:
            handler(event)
        elif isinstance(event, RelayEvent):
            call_id = event.params.get("call_id")
            if call_id:
                call = self._calls.get(call_id)
                if call is not None:
                    call._on_event(event)
        else:
            self._on_session_event(event)

    def _on_session_event(self, event: Event) -> None:
        if isinstance(event, SessionAuthenticated):
            self._protocol = event.protocol or self._protocol
            logger.info("session authenticated (restored=%s)", event.session_restored)
        elif isinstance(event, AuthenticationRejected):
            logger.warning("authentication rejected (attempt %d): %s", event.attempt, event.message)
        elif isinstance(event, ConnectionClosed) and event.will_reconnect:
            logger.warning("connection lost: %s", event.reason)
        elif isinstance(event, ServerDisconnectRequested):
            logger.info("server requested a disconnect (restart=%s)", event.restart)

    def _on_outcome(self, event: Any) -> None:
        if self._message_sends:
            message = self._message_sends.pop(event.request_id, None)
            if message is not None and type(event) is ResponseReceived:
                message_id = event.result.get("message_id")
                if isinstance(message_id, str) and message_id:
                    message.message_id = message_id
                    self._messages[message_id] = message
        pending = self._pending.pop(event.request_id, None)
        if pending is not None:
            pending.outcome = event
            pending.done.set()
            if pending.call is not None:
                pending.call._outcome_delivered()

    def _new_call(self, params: Any, call_id: str, *, tag: str = "", context: str = "") -> Call:
        def text(key: str) -> str:
            value = params.get(key) if hasattr(params, "get") else None
            return value if isinstance(value, str) else ""

        device = params.get("device") if hasattr(params, "get") else None
        call = Call(
            self._as_client(),
            call_id,
            text("node_id"),
            text("project_id"),
            # Few distinct values, held by every live call: one string each.
            intern(context or text("context")),
            tag=text("tag") or tag,
            direction=intern(text("direction")),
            device=device if isinstance(device, dict) else {},
            state=intern(text("call_state")),
            segment_id=text("segment_id"),
        )
        self._calls[call_id] = call
        return call

    def _on_call_received(self, event: CallReceived) -> None:
        known = self._calls.get(event.call_id)
        if known is not None:  # a repeated offer: never start a second handler
            known._on_event(event)
            return
        call = self._new_call(event.params, event.call_id)
        call._on_event(event)
        if self._draining:
            logger.info("draining: passing inbound call %s back to routing", call.call_id)
            self._spawn(call.pass_, what=f"pass of call {call.call_id}")
            return
        handler = self._on_call
        if handler is None:
            logger.warning("inbound call %s but no @client.on_call handler", call.call_id)
            return
        self._spawn_handler(handler, call, f"call handler for call {call.call_id}")

    def _on_call_state(self, event: CallStateChanged) -> None:
        call_id = event.call_id
        call = self._calls.get(call_id)
        if call is None:
            # The core only lets state events through for calls it registered:
            # here, a leg of one of our dials.
            call = self._new_call(event.params, call_id)
        call._on_event(event)
        if call.state == "ended":
            del self._calls[call_id]

    def _on_call_dropped(self, event: CallDropped) -> None:
        logger.debug("inbound call %s dropped by the core (%s)", event.call_id, event.reason)

    def _on_action_completed(self, event: ActionCompleted) -> None:
        action = self._actions.pop(event.control_id, None)
        if action is None:
            return
        if action.call._actions:
            action.call._actions.pop(event.control_id, None)
        action._complete(event.event, event.reason)

    def _on_dial_completed(self, event: DialCompleted) -> None:
        waiter = self._dials.get(event.tag)
        if waiter is not None:
            waiter.outcome = event
            waiter.done.set()

    def _on_message_received(self, event: MessageReceived) -> None:
        message = Message._from_event(event, self._as_client())
        handler = self._on_message
        if handler is None:
            logger.warning(
                "inbound message %s but no @client.on_message handler", message.message_id
            )
            return
        self._spawn_handler(handler, message, f"message handler for message {message.message_id}")

    def _on_message_state(self, event: MessageStateChanged) -> None:
        # The core releases a message's states in order, after its send result;
        # states of messages sent by other clients are ignored.
        message = self._messages.get(event.message_id)
        if message is not None:
            message._on_event(event)

    def _on_message_completed(self, event: MessageCompleted) -> None:
        message = self._messages.pop(event.message_id, None)
        if message is not None:
            message._complete(event.event)

    # ------------------------------------------------------------------
    # Tasks and callbacks
    # ------------------------------------------------------------------

    def _spawn_handler(self, handler: Callable[[Any], Any], arg: Call | Message, what: str) -> None:
        pool = self._pool
        if pool is None:
            logger.warning("not running %s: the client is shutting down", what)
            return
        self._handlers_running += 1
        # A coroutine function runs as the task itself (no wrapper coroutine
        # per call: thousands of calls may be held at once); anything else
        # (a sync function, a partial) through _call_handler.
        func = handler if inspect.iscoroutinefunction(handler) else partial(_call_handler, handler)
        pool.start_reported(func, arg, self._report_handler, name=what)

    def _handler_done(self, arg: Call | Message, error: Exception | None) -> None:
        if error is not None:
            if isinstance(arg, Call):
                what = f"call handler for call {arg.call_id}"
            else:
                what = f"message handler for message {arg.message_id}"
            logger.error("%s raised", what, exc_info=error)
        self._handlers_running -= 1
        if self._handlers_running == 0 and self._handlers_idle is not None:
            self._handlers_idle.set()

    def _spawn(self, func: Callable[[], Awaitable[Any]], *, what: str) -> None:
        pool = self._pool
        if pool is None:
            logger.warning("not running %s: the client is shutting down", what)
            return
        pool.start_soon(self._guarded, func, what, name=what)

    async def _guarded(self, func: Callable[[], Awaitable[Any]], what: str) -> None:
        try:
            await func()
        except Exception:
            logger.exception("%s raised", what)

    def _invoke_callback(self, callback: Callable[[Any], Any], arg: Any, what: str) -> None:
        """Run a sync or async user callback; never let it break dispatch."""
        try:
            result = callback(arg)
        except Exception:
            logger.exception("%s raised", what)
            return
        if inspect.iscoroutine(result):
            self._spawn_coroutine(result, what)

    def _spawn_coroutine(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        async def run() -> None:
            await coro

        if self._pool is None:
            coro.close()
            logger.warning("not running %s: the client is shutting down", what)
            return
        self._spawn(run, what=what)

    def _call_listener(self, handler: Callable[[RelayEvent], Any], event: RelayEvent) -> None:
        """Run one ``call.on`` listener, timing synchronous ones."""
        rt = self._runtime
        start = rt.current_time()
        try:
            result = handler(event)
        except Exception:
            logger.exception("listener %r for %s raised", handler, event.event_type)
            return
        if inspect.iscoroutine(result):
            self._spawn_coroutine(result, f"listener {handler!r} for {event.event_type}")
            return
        elapsed = rt.current_time() - start
        if elapsed > self.slow_listener_threshold:
            logger.warning(
                "slow listener %s took %.3f s on %s (it blocks the connection; "
                "make it async or move the work to a task)",
                getattr(handler, "__qualname__", repr(handler)),
                elapsed,
                event.event_type,
            )


async def _call_handler(handler: Callable[[Any], Any], arg: Any) -> None:
    """Run a handler that is not a coroutine function (awaiting what it returns)."""
    result = handler(arg)
    if inspect.isawaitable(result):
        await result
