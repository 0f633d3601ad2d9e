"""The client's dispatcher: the id -> object maps and the route of every event.

A :class:`Dispatcher` belongs to one :class:`~relaykit.client.RelayClient` and
owns everything the object model keeps by id: the requests awaiting their
outcome, the dials awaiting their ``DialCompleted``, the live calls, the running
actions (by ``control_id``: the one action registry of the model), and the sent
messages.  It also owns the handler bookkeeping (running count, drain) and runs
user callbacks.

It decides nothing about the protocol: the core does (call state, action and
message completion, dial outcomes), and :meth:`Dispatcher.dispatch` only hands
each decision to the object it is about, synchronously, on the connection
driver's task.  No task is created per event; user callbacks that return
coroutines, and handlers, run as tasks in the client's task pool.

Sending is not the dispatcher's: the client passes its ``send`` function in
(it owns the connection), and the dispatcher registers what is sent and awaits
the outcome (:meth:`Dispatcher.await_outcome`), mapping failures to errors.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from functools import partial
from sys import intern
from typing import TYPE_CHECKING, Any

from relay_proto import (
    ActionCompleted,
    AuthenticationRejected,
    CallDropped,
    CallGoneError,
    CallHungUpByCore,
    CallReceived,
    CallStateChanged,
    ConnectionClosed,
    ConnectionLostError,
    DialCompleted,
    Event,
    MessageCompleted,
    MessageReceived,
    MessageStateChanged,
    RelayError,
    RelayEvent,
    RelayServerError,
    RelayTimeoutError,
    RequestCancelled,
    RequestFailed,
    RequestTimedOut,
    ResponseReceived,
    ServerDisconnectRequested,
    SessionAuthenticated,
)

from ._call import Call
from ._health import ConnectionMonitor
from ._message import Message, inbound_message

if TYPE_CHECKING:
    from ._actions import Action
    from ._call_base import CallBase
    from ._client import RelayClient
    from ._driver import Driver
    from ._runtime import AsyncEvent, Runtime, TaskPool
    from ._telemetry import Recorder

__all__ = ["DialWaiter", "Dispatcher", "RequestWaiter", "SendRequest"]

logger = logging.getLogger("relaykit.client")

#: The client's way to hand one request to the core: ``(method, params, timeout)``
#: -> ``(request_id, driver)``; raises ``TypeError``/``ValueError`` on misuse and
#: :class:`~relay_proto.ConnectionLostError` when not connected.
SendRequest = Callable[[str, "dict[str, Any]", "float | None"], "tuple[str, Driver]"]

#: At most this many given-up dials are remembered (to hang up their late legs).
MAX_ABANDONED_DIALS = 256


class RequestWaiter:
    """One request waiting for its outcome event (not the core's ledger entry).

    When the request is a command on *call*, the call is told synchronously
    when the outcome is dispatched (:meth:`~relaykit.client.Call.outcome_dispatched`:
    it starts keeping the events that follow for its next ``wait_for``).
    ``on_outcome`` runs then too (a cancelled request's late outcome).
    """

    __slots__ = ("call", "done", "on_outcome", "outcome")

    def __init__(
        self,
        done: AsyncEvent,
        call: CallBase | None = None,
        on_outcome: Callable[[], None] | None = None,
    ) -> None:
        self.done = done
        self.call = call
        self.on_outcome = on_outcome
        self.outcome: Event | None = None


class DialWaiter:
    """One ``dial()`` waiting for its ``DialCompleted``."""

    __slots__ = ("done", "outcome")

    def __init__(self, done: AsyncEvent) -> None:
        self.done = done
        self.outcome: DialCompleted | None = None


class Dispatcher:
    """Routes the core's events to the client's objects and owns their registries.

    Args:
        client: The client the calls and messages belong to (``Call(client, ...)``);
            only its public ``slow_listener_threshold`` is read.
        runtime: The event-loop runtime (events, clock, ids).
        send: The client's function that hands a request to the core.
        abandon_dial: The client's function that asks the core to abandon a
            dial (``RelayConnection.abandon_dial``); False when it cannot
            (no connection).
    """

    def __init__(
        self,
        client: RelayClient,
        runtime: Runtime,
        send: SendRequest,
        abandon_dial: Callable[[str], bool],
    ) -> None:
        self.client = client
        self.runtime = runtime
        self.send = send
        self.abandon_in_core = abandon_dial
        #: Where handlers and callbacks run (set by the client while connected).
        self.pool: TaskPool | None = None
        #: The session's protocol string (from ``SessionAuthenticated``).
        self.protocol = ""
        self.on_call: Callable[[Call], Awaitable[Any]] | None = None
        self.on_message: Callable[[Message], Awaitable[Any]] | None = None
        #: True while draining: inbound calls are passed back.
        self.draining = False
        self.requests: dict[str, RequestWaiter] = {}
        self.dials: dict[str, DialWaiter] = {}
        self.calls: dict[str, Call] = {}
        #: Every running action, by control_id (the model's only action registry).
        self.actions: dict[str, Action] = {}
        # Sent messages by message_id, and by the id of their unanswered
        # messaging.send (the core releases early states right after the
        # result, before the awaiting task runs: the Message must exist then).
        self.messages: dict[str, Message] = {}
        self.message_sends: dict[str, Message] = {}
        self.handlers_running = 0
        #: OpenTelemetry spans and metrics (relaykit/client/_telemetry.py), None when off.
        self.telemetry: Recorder | None = None
        #: Connection changes and health() (relaykit/client/_health.py).
        self.monitor = ConnectionMonitor(self)
        self._handlers_idle: AsyncEvent | None = None
        #: Inbound calls whose handler is running (hung up if it outlives shutdown_grace).
        self.handler_calls: set[Call] = set()
        #: Dials that dial() gave up on while the core still routes them, by tag:
        #: the ids of their legs already hung up.  A leg or winner seen later is
        #: hung up when its event arrives.  (Bounded: MAX_ABANDONED_DIALS.)
        self.abandoned_dials: dict[str, set[str]] = {}
        #: Calls we sent calling.end for and whose end has not arrived yet.
        self.hanging_up: set[str] = set()
        # Bound once: a bound method per spawned handler is 64 B per held call.
        self._report_handler = self._handler_done
        self._table: dict[type[Event], Callable[[Any], None]] = {
            ResponseReceived: self._outcome_received,
            RequestFailed: self._outcome_received,
            RequestTimedOut: self._outcome_received,
            RequestCancelled: self._outcome_received,
            CallReceived: self._call_received,
            CallStateChanged: self._call_state_changed,
            ActionCompleted: self._action_completed,
            DialCompleted: self._dial_completed,
            CallHungUpByCore: self._call_hung_up_by_core,
            MessageReceived: self._message_received,
            MessageStateChanged: self._message_state_changed,
            MessageCompleted: self._message_completed,
            CallDropped: self._call_dropped,
        }

    # ------------------------------------------------------------------
    # Events in (called by the driver, once per event)
    # ------------------------------------------------------------------

    def dispatch(self, event: Event) -> None:
        """Hand one event of the core to the object it is about."""
        if self.telemetry is not None:
            self.telemetry.event(event)
        handler = self._table.get(type(event))
        if handler is not None:
            handler(event)
        elif isinstance(event, RelayEvent):
            params = event.params
            if self.actions:
                control_id = params.get("control_id")
                action = self.actions.get(control_id) if control_id else None
                if action is not None:
                    action.note_progress(event)
            call_id = params.get("call_id")
            if call_id:
                call = self.calls.get(call_id)
                if call is not None:
                    call.deliver(event)
        else:
            self._session_event(event)

    def _session_event(self, event: Event) -> None:
        self.monitor.note(event)
        if isinstance(event, SessionAuthenticated):
            self.protocol = event.protocol or self.protocol
            logger.debug("session authenticated (restored=%s)", event.session_restored)
        elif isinstance(event, AuthenticationRejected):
            logger.warning("authentication rejected (attempt %d): %s", event.attempt, event.message)
        elif isinstance(event, ConnectionClosed) and event.will_reconnect:
            logger.warning("connection lost: %s", event.reason)
        elif isinstance(event, ServerDisconnectRequested):
            logger.info("server requested a disconnect (restart=%s)", event.restart)

    def _outcome_received(self, event: Any) -> None:
        if self.message_sends:
            message = self.message_sends.pop(event.request_id, None)
            if message is not None and type(event) is ResponseReceived:
                message_id = event.result.get("message_id")
                if isinstance(message_id, str) and message_id:
                    message.message_id = message_id
                    self.messages[message_id] = message
        waiter = self.requests.pop(event.request_id, None)
        if waiter is not None:
            waiter.outcome = event
            waiter.done.set()
            if waiter.call is not None:
                waiter.call.outcome_dispatched()
            if waiter.on_outcome is not None:
                waiter.on_outcome()

    def new_call(
        self, params: Any, call_id: str, *, tag: str = "", context: str = "", state: str = ""
    ) -> Call:
        """Create and register the :class:`Call` for *call_id* from an event's params.

        *state* is the core's decided state when an event carries one
        (``CallReceived.state``, ``CallStateChanged.state``); otherwise the
        params' ``call_state`` is the best there is (a dial's winning leg).
        """

        def text(key: str) -> str:
            value = params.get(key) if hasattr(params, "get") else None
            return value if isinstance(value, str) else ""

        device = params.get("device") if hasattr(params, "get") else None
        call = Call(
            self.client,
            call_id,
            # Few distinct values, held by every live call: one string each.
            intern(text("node_id")),
            intern(text("project_id")),
            intern(context or text("context")),
            tag=text("tag") or tag,
            direction=intern(text("direction")),
            device=device if isinstance(device, dict) else {},
            state=intern(state or text("call_state")),
            segment_id=text("segment_id"),
        )
        self.calls[call_id] = call
        return call

    def _call_received(self, event: CallReceived) -> None:
        known = self.calls.get(event.call_id)
        if known is not None:  # a repeated offer: never start a second handler
            known.deliver(event)
            return
        call = self.new_call(event.params, event.call_id, state=event.state)
        call.deliver(event)
        if self.draining:
            logger.info("draining: passing inbound call %s back to routing", call.call_id)
            # Counted as running work: drain() (and run()'s shutdown) waits for the
            # pass to be answered before disconnecting, or the call would ring on
            # with nobody to take it (tests/integration/test_workers.py found it).
            if self.pool is not None:
                self.handlers_running += 1
            self.spawn(partial(self._pass_back, call), what=f"pass of call {call.call_id}")
            return
        handler = self.on_call
        if handler is None:
            logger.warning("inbound call %s but no @client.on_call handler", call.call_id)
            return
        self._spawn_handler(handler, call)

    def _call_state_changed(self, event: CallStateChanged) -> None:
        call_id = event.call_id
        call = self.calls.get(call_id)
        if call is None:
            # The core only lets state events through for calls it registered:
            # here, a leg of one of our dials.
            call = self.new_call(event.params, call_id, state=event.state)
            if self.abandoned_dials and call.tag in self.abandoned_dials:
                self._end_abandoned_leg(call.tag, call)
        call.deliver(event)
        if call.state == "ended":
            del self.calls[call_id]
            if self.hanging_up:
                self.hanging_up.discard(call_id)

    def _call_hung_up_by_core(self, event: CallHungUpByCore) -> None:
        self.hanging_up.add(event.call_id)
        logger.warning(
            "hanging up call %s: a leg of dial %s, which dial() gave up on (%s)",
            event.call_id,
            event.tag,
            event.reason,
        )

    def _call_dropped(self, event: CallDropped) -> None:
        if event.passed:
            logger.info("inbound call %s passed back: %s", event.call_id, event.reason)
        else:
            logger.warning("inbound call %s not taken: %s", event.call_id, event.reason)

    def _action_completed(self, event: ActionCompleted) -> None:
        action = self.actions.pop(event.control_id, None)
        if action is not None:
            action.settle(event.event, event.reason)

    def _dial_completed(self, event: DialCompleted) -> None:
        waiter = self.dials.get(event.tag)
        if waiter is not None:
            waiter.outcome = event
            waiter.done.set()
            return
        if event.tag in self.abandoned_dials:
            # A dial given up on resolved late: its winner must not stay up unowned.
            if event.reason == "answered" and event.call_id:
                self._end_abandoned_leg(event.tag, self.winner_call(event))
            del self.abandoned_dials[event.tag]

    def _message_received(self, event: MessageReceived) -> None:
        message = inbound_message(event, self.client)
        handler = self.on_message
        if handler is None:
            logger.warning(
                "inbound message %s but no @client.on_message handler", message.message_id
            )
            return
        self._spawn_handler(handler, message)

    def _message_state_changed(self, event: MessageStateChanged) -> None:
        # The core releases a message's states in order, after its send result;
        # states of messages sent by other clients are ignored.
        message = self.messages.get(event.message_id)
        if message is not None:
            message.note_state(event)

    def _message_completed(self, event: MessageCompleted) -> None:
        message = self.messages.pop(event.message_id, None)
        if message is not None:
            message.settle(event.event)

    # ------------------------------------------------------------------
    # Requests out (called by the client, calls and actions)
    # ------------------------------------------------------------------

    async def request(
        self, method: str, params: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Send one request and return its result (errors as :meth:`await_outcome`)."""
        request_id, driver = self.send(method, params, timeout)
        return await self.await_outcome(request_id, driver)

    def send_for_call(
        self, call: CallBase, method: str, extra_params: Mapping[str, Any] | None
    ) -> tuple[str, Driver]:
        """Hand ``calling.<method>`` for *call* to the core (``node_id``/``call_id`` added).

        The call is told first (:meth:`~relaykit.client.Call.command_sent`):
        the events it missed before this command are no longer "just now".
        """
        params: dict[str, Any] = {"node_id": call.node_id, "call_id": call.call_id}
        if extra_params:
            params.update(extra_params)
        call.command_sent()
        return self.send(f"calling.{method}", params, None)

    def call_command(
        self, call: CallBase, method: str, extra_params: Mapping[str, Any] | None = None
    ) -> Awaitable[dict[str, Any]]:
        """Send ``calling.<method>`` for *call*; await the result (the call-gone rule applies).

        The one path of every plain command of a call and of its actions
        (``stop``, ``pause``, ``volume``...).  Sent synchronously, awaited by
        the caller: no coroutine per layer stays alive while a request is in
        flight.

        Returns:
            The result object, or ``{}`` when the server says the call is gone
            (404/410), which is logged and not raised.
        """
        request_id, driver = self.send_for_call(call, method, extra_params)
        return self.await_outcome(request_id, driver, call=call, gone_ok_for=call.call_id)

    async def await_outcome(
        self,
        request_id: str,
        driver: Driver,
        *,
        call: CallBase | None = None,
        on_abandon: Callable[[Event], None] | None = None,
        gone_ok_for: str = "",
    ) -> dict[str, Any]:
        """Wait for the outcome of a request handed to the core as *request_id*.

        Args:
            call: The call the request is a command on: told when the outcome
                is dispatched (:meth:`~relaykit.client.Call.outcome_dispatched`)
                and when the awaiting task runs again, even if cancelled
                (:meth:`~relaykit.client.Call.resumed`).  A reference instead of
                two bound-method callbacks per command in flight.
            on_abandon: When the awaiting task is cancelled first, run with the
                outcome once it is known (at once if it already arrived):
                what the request did must still be dealt with.
            gone_ok_for: A call id: a 404/410 answer then means that call (or its
                action) no longer exists, which is logged and returns ``{}``
                instead of raising :class:`~relay_proto.CallGoneError`.

        Raises:
            RelayServerError: A non-2xx answer (``CallGoneError`` for 404/410).
            RelayTimeoutError: No answer within the request timeout.
            ConnectionLostError: The request was cancelled or the client disconnected.
        """
        waiter = RequestWaiter(self.runtime.create_event(), call)
        self.requests[request_id] = waiter
        driver.kick()
        try:
            await waiter.done.wait()
        except BaseException:
            if self.requests.get(request_id) is waiter:
                del self.requests[request_id]
            if on_abandon is not None:
                self._hand_over(request_id, waiter, on_abandon)
            raise
        finally:
            if self.requests.get(request_id) is waiter:
                del self.requests[request_id]
            if call is not None:
                call.resumed()
        outcome = waiter.outcome
        if type(outcome) is ResponseReceived:
            return dict(outcome.result)
        if type(outcome) is RequestFailed:
            if outcome.call_gone and gone_ok_for:
                logger.info(
                    "%s on call %s: %s (call gone, ignored)",
                    outcome.method,
                    gone_ok_for,
                    outcome.message or outcome.code,
                )
                return {}
            cls = CallGoneError if outcome.call_gone else RelayServerError
            raise cls(outcome.code, outcome.message or f"{outcome.method} failed")
        if type(outcome) is RequestTimedOut:
            raise RelayTimeoutError(
                -1, f"{outcome.method} timed out after {outcome.timeout} s", sent=outcome.sent
            )
        if type(outcome) is RequestCancelled:
            raise ConnectionLostError(-1, f"{outcome.method}: {outcome.reason}", sent=outcome.sent)
        raise ConnectionLostError(-1, "the client disconnected")

    def _hand_over(
        self, request_id: str, waiter: RequestWaiter, on_abandon: Callable[[Event], None]
    ) -> None:
        """Give *on_abandon* the outcome of a request whose awaiting task left early."""
        if waiter.outcome is not None:
            on_abandon(waiter.outcome)
            return
        if waiter.done.is_set():
            return  # released by a disconnect: there will be no outcome
        late = RequestWaiter(self.runtime.create_event())

        def outcome_arrived() -> None:
            if late.outcome is not None:
                on_abandon(late.outcome)

        late.on_outcome = outcome_arrived
        self.requests[request_id] = late

    async def send_message(self, params: dict[str, Any], message: Message) -> None:
        """Send ``messaging.send`` for *message*; dispatch binds its id on the result."""
        request_id, driver = self.send("messaging.send", params, None)
        # The core releases early states right after the result: see _outcome_received.
        self.message_sends[request_id] = message
        try:
            await self.await_outcome(request_id, driver)
        finally:
            self.message_sends.pop(request_id, None)

    def expect_dial(self, tag: str) -> DialWaiter:
        """Register a waiter for the ``DialCompleted`` of *tag* (until :meth:`forget_dial`)."""
        waiter = self.dials[tag] = DialWaiter(self.runtime.create_event())
        return waiter

    def forget_dial(self, tag: str) -> None:
        """Drop the dial waiter of *tag*."""
        self.dials.pop(tag, None)

    def register_action(self, action: Action) -> None:
        """Track *action* until the core completes it (``ActionCompleted``)."""
        self.actions[action.control_id] = action

    def forget_action(self, control_id: str) -> None:
        """Stop tracking an action whose start failed (the core forgets it too)."""
        self.actions.pop(control_id, None)

    # ------------------------------------------------------------------
    # Ending calls nobody owns (given-up dials, failed or overdue handlers)
    # ------------------------------------------------------------------

    def end_call(self, call: Call, why: str) -> bool:
        """Send ``calling.end`` for *call* without waiting (logged); False if it cannot go out.

        Synchronous, so it also works from a cancelled task or a dispatch
        callback; the outcome is not awaited (the call's ``ended`` state event
        says it worked).
        """
        call_id = call.call_id
        if call_id in self.hanging_up or call.is_ended:
            return True
        logger.warning("hanging up call %s: %s", call_id, why)
        params = {"node_id": call.node_id, "call_id": call_id, "reason": "hangup"}
        try:
            request_id, driver = self.send("calling.end", params, None)
        except (RelayError, RuntimeError, TypeError, ValueError) as exc:
            logger.warning("could not hang up call %s: %s", call_id, exc)
            return False
        self.hanging_up.add(call_id)
        # Nobody awaits it, so a failed hang-up is logged here: never a silent loss.
        waiter = RequestWaiter(self.runtime.create_event())
        waiter.on_outcome = partial(self._hang_up_outcome, call_id, waiter)
        self.requests[request_id] = waiter
        driver.kick()
        return True

    def _hang_up_outcome(self, call_id: str, waiter: RequestWaiter) -> None:
        outcome = waiter.outcome
        if type(outcome) is ResponseReceived:
            return
        if type(outcome) is RequestFailed:
            if outcome.call_gone:
                return  # ended already
            why = f"the server answered {outcome.code} {outcome.message}"
        elif type(outcome) is RequestCancelled and outcome.sent is False:
            why = f"calling.end never left this client ({outcome.reason}); the call may be up"
        elif type(outcome) is RequestCancelled:
            why = f"calling.end was sent, but its answer was lost ({outcome.reason})"
        else:
            why = f"no answer to calling.end ({type(outcome).__name__})"
        self.hanging_up.discard(call_id)
        logger.warning("hanging up call %s failed: %s", call_id, why)

    def winner_call(self, outcome: DialCompleted) -> Call:
        """The :class:`Call` of an answered dial's winning leg (made from the dial event if new)."""
        call = self.calls.get(outcome.call_id)
        if call is None:
            winner = outcome.event.call if outcome.event is not None else {}
            call = self.new_call(winner, outcome.call_id, tag=outcome.tag)
        return call

    def _end_abandoned_leg(self, tag: str, call: Call) -> None:
        ended = self.abandoned_dials.get(tag)
        if ended is None or call.call_id in ended:
            return
        ended.add(call.call_id)
        self.end_call(call, f"a leg of dial {tag}, which dial() gave up on")

    def abandon_dial(self, tag: str, waiter: DialWaiter) -> list[Call]:
        """``dial()`` gave up on *tag*: hang up every leg known, and any seen later.

        *waiter* tells whether the core still routes the dial (no outcome yet,
        not released by a disconnect): then the tag is remembered, and a leg
        or winner whose event arrives later is hung up on arrival.  An answered
        outcome whose ``dial()`` did not return the call (cancelled just then)
        has its winner hung up too.

        Returns:
            The legs being hung up now.
        """
        outcome = waiter.outcome
        legs = [call for call in self.calls.values() if call.tag == tag and not call.is_ended]
        if outcome is not None and outcome.reason == "answered" and outcome.call_id:
            winner = self.winner_call(outcome)
            if winner not in legs and not winner.is_ended:
                legs.append(winner)
        if outcome is None and not waiter.done.is_set() and self.abandon_in_core(tag):
            # Still pending: the core owns the dial's legs, so it ends every one,
            # known now or reported later (after a resume too), and says so with
            # CallHungUpByCore.  Marked here so that nobody ends them twice.
            self.hanging_up.update(call.call_id for call in legs)
            return legs
        if outcome is None and not waiter.done.is_set():
            # No connection to ask (the client is closing): later legs may still
            # reach us, and are ended on arrival.
            abandoned = self.abandoned_dials
            if len(abandoned) >= MAX_ABANDONED_DIALS:
                del abandoned[next(iter(abandoned))]
            abandoned[tag] = {call.call_id for call in legs}
        why = f"a leg of dial {tag}, which dial() gave up on"
        return [call for call in legs if self.end_call(call, why)]

    def abandon_all_dials(self) -> list[Call]:
        """The client disconnects: hang up every known leg of every dial still waiting."""
        legs: dict[str, Call] = {}
        for tag, waiter in list(self.dials.items()):
            if waiter.outcome is None:
                legs.update((call.call_id, call) for call in self.abandon_dial(tag, waiter))
        for call in list(self.calls.values()):
            abandoned = call.tag in self.abandoned_dials and not call.is_ended
            if abandoned and self.end_call(call, "disconnecting"):
                legs[call.call_id] = call
        return list(legs.values())

    def hang_up_handler_calls(self, why: str) -> list[Call]:
        """Hang up every inbound call whose handler still runs (shutdown); returns them."""
        return [
            call
            for call in list(self.handler_calls)
            if not call.is_ended and self.end_call(call, f"its handler still runs ({why})")
        ]

    def release_waiters(self) -> None:
        """The client stopped: wake every request and dial still waiting (they fail)."""
        for waiter in self.requests.values():
            waiter.done.set()
        for dial in self.dials.values():
            dial.done.set()
        self.hanging_up.clear()
        self.abandoned_dials.clear()

    # ------------------------------------------------------------------
    # Handlers, tasks and callbacks
    # ------------------------------------------------------------------

    def _spawn_handler(self, handler: Callable[[Any], Any], arg: Call | Message) -> None:
        pool = self.pool
        if pool is None:
            logger.warning("not running %s: the client is shutting down", _handler_what(arg))
            return
        self.handlers_running += 1
        if isinstance(arg, Call):
            self.handler_calls.add(arg)
        # A coroutine function runs as the task itself (no wrapper coroutine
        # per call: thousands of calls may be held at once); anything else
        # (a sync function, a partial) through _call_handler.
        func = handler if inspect.iscoroutinefunction(handler) else partial(_call_handler, handler)
        if self.telemetry is not None:
            func = self.telemetry.wrap_handler(func, _handler_what(arg))
        # The task is named by the call's (or message's) id: that string is
        # already held, where a "call handler for call <id>" name would be one
        # more string per held call for as long as its handler runs (asyncio
        # keeps every task's name); logs still say which handler it was.
        name = arg.call_id if isinstance(arg, Call) else arg.message_id
        pool.start_reported(func, arg, self._report_handler, name=name)

    def _handler_done(self, arg: Call | Message, error: Exception | None) -> None:
        if isinstance(arg, Call):
            self.handler_calls.discard(arg)
        if error is not None:
            logger.error("%s raised", _handler_what(arg), exc_info=error)
            if isinstance(arg, Call) and not arg.is_ended:
                self.end_call(arg, "its handler raised")
        self._work_done()

    async def _pass_back(self, call: Call) -> None:
        try:
            await call.pass_()
        finally:
            self._work_done()

    def _work_done(self) -> None:
        self.handlers_running -= 1
        if self.handlers_running == 0 and self._handlers_idle is not None:
            self._handlers_idle.set()

    async def wait_handlers_idle(self, deadline: float) -> bool:
        """Wait until no handler runs, or until *deadline*; True if none runs."""
        if self.handlers_running == 0:
            return True
        rt = self.runtime
        idle = self._handlers_idle = rt.create_event()
        with rt.move_on_at(deadline):
            await idle.wait()
        return self.handlers_running == 0

    def spawn(self, func: Callable[[], Awaitable[Any]], *, what: str) -> None:
        """Run ``await func()`` as a task of the client; errors are logged as *what*."""
        pool = self.pool
        if pool is None:
            logger.warning("not running %s: the client is shutting down", what)
            return
        pool.start_soon(self._guarded, func, what, name=what)

    async def _guarded(self, func: Callable[[], Awaitable[Any]], what: str) -> None:
        try:
            await func()
        except Exception:
            logger.exception("%s raised", what)

    def run_callback(self, callback: Callable[[Any], Any], arg: Any, what: str) -> None:
        """Run a sync or async user callback (``on_completed``); never let it break dispatch."""
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

        if self.pool is None:
            coro.close()
            logger.warning("not running %s: the client is shutting down", what)
            return
        self.spawn(run, what=what)

    def run_listener(self, handler: Callable[[RelayEvent], Any], event: RelayEvent) -> None:
        """Run one ``call.on``/``message.on`` listener, timing synchronous ones."""
        rt = self.runtime
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
        if elapsed > self.client.slow_listener_threshold:
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


def _handler_what(arg: Call | Message) -> str:
    """How logs name the handler running for *arg*."""
    if isinstance(arg, Call):
        return f"call handler for call {arg.call_id}"
    return f"message handler for message {arg.message_id}"
