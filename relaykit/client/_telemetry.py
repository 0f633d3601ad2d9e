"""Metrics and traces through OpenTelemetry (the ``otel`` extra), and handler visibility.

Nothing here runs unless telemetry is on: the client's dispatcher holds a
:class:`Recorder` or ``None``, and every hook on a hot path (one per event,
one per request) is a single ``if telemetry is not None:``.  OpenTelemetry is
imported only when a recorder is made, never at relaykit import time.

Telemetry is on when the client's ``telemetry`` argument says so:

* ``None`` (the default): on when the program has imported OpenTelemetry and
  configured a global tracer or meter provider (``set_tracer_provider``,
  ``set_meter_provider``, or ``opentelemetry-instrument``); off otherwise, so
  a program without the extra, or with it and no provider, runs unchanged.
* ``True``: on with the global providers (no-op ones when none is set: the
  handler lag warnings still work).  ``False``: off.
* :class:`Telemetry`: on with the providers it names (tests use the SDK's
  in-memory exporter and reader this way), and its lag settings.

What is recorded (names in docs/observability.md): a span per call (inbound
from its offer, outbound from its ``calling.dial``) with a child span per
command and a ``relaykit.dial`` span from the dial request to the answer; span
events for call states and action completions; counters, histograms and
up-down counters for events, commands, reconnects, resumed sessions, refused
calls, protocol errors, dial time, handler time and event-loop lag.

Handler visibility: each handler's coroutine is stepped through a thin
wrapper that times every step (the code between two awaits); a lag monitor
task sleeps a short interval and measures how late it wakes.  A blocking step
of a handler (or a late wake-up) past the threshold is logged as a WARNING
naming the handler.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any

from relay_proto import (
    ActionCompleted,
    CallDropped,
    CallReceived,
    CallStateChanged,
    DialCompleted,
    Event,
    ProtocolErrorReceived,
    ReconnectScheduled,
    RelayConnection,
    RelayEvent,
    RequestCancelled,
    RequestFailed,
    RequestTimedOut,
    ResponseReceived,
    SessionAuthenticated,
    __version__,
)

if TYPE_CHECKING:
    from opentelemetry.metrics import (
        CallbackOptions,
        Counter,
        Histogram,
        Meter,
        MeterProvider,
        Observation,
        UpDownCounter,
    )
    from opentelemetry.trace import Span, TracerProvider

    from ._dispatch import Dispatcher

__all__ = ["METRICS", "Recorder", "Telemetry", "check_option", "open_telemetry"]

logger = logging.getLogger("relaykit.client")

#: The instrumentation scope of every span and instrument.
SCOPE = "relaykit"

#: How often the lag monitor wakes up (seconds), by default.
DEFAULT_LAG_INTERVAL = 0.1

#: Every instrument relaykit records: name -> (instrument, unit, description).  The
#: metrics table of docs/observability.md lists the same (tests/telemetry checks it).
METRICS: dict[str, tuple[str, str, str]] = {
    "relaykit.events.received": ("Counter", "{event}", "RELAY events received, by event type"),
    "relaykit.commands": ("Counter", "{command}", "Requests sent, by method and outcome"),
    "relaykit.command.duration": ("Histogram", "s", "Request round trip: sent to outcome"),
    "relaykit.reconnects": ("Counter", "{reconnect}", "Reconnects scheduled"),
    "relaykit.sessions.resumed": (
        "Counter",
        "{session}",
        "Reconnects whose session the server resumed",
    ),
    "relaykit.calls.refused": (
        "Counter",
        "{call}",
        "Inbound calls not taken: max_active_calls reached",
    ),
    "relaykit.protocol.errors": ("Counter", "{error}", "Unusable server input, skipped"),
    "relaykit.dial.duration": (
        "Histogram",
        "s",
        "calling.dial sent to its outcome (ringing to answer)",
    ),
    "relaykit.calls.active": (
        "UpDownCounter",
        "{call}",
        "Calls with an open span (inbound and outbound)",
    ),
    "relaykit.requests.in_flight": (
        "UpDownCounter",
        "{request}",
        "Requests awaiting their outcome",
    ),
    "relaykit.requests.queued": (
        "ObservableUpDownCounter",
        "{request}",
        "Requests waiting in the offline queue",
    ),
    "relaykit.handler.duration": ("Histogram", "s", "on_call / on_message handler run time"),
    "relaykit.event_loop.lag": ("Histogram", "s", "How late the lag monitor woke up"),
}


class Telemetry:
    """Telemetry settings for ``RelayClient(telemetry=...)`` (importing no OpenTelemetry).

    Args:
        tracer_provider: Where spans go (default: the global provider).
        meter_provider: Where metrics go (default: the global provider).
        lag_interval: Seconds between the lag monitor's wake-ups (0.1).
        lag_threshold: Event-loop lag (or one blocking handler step) in
            seconds past which a WARNING names the handler (default: the
            client's ``slow_listener_threshold``, 0.1).

    Raises:
        ValueError: A non-positive interval or threshold.
    """

    __slots__ = ("lag_interval", "lag_threshold", "meter_provider", "tracer_provider")

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        lag_interval: float = DEFAULT_LAG_INTERVAL,
        lag_threshold: float | None = None,
    ) -> None:
        for name, value in (("lag_interval", lag_interval), ("lag_threshold", lag_threshold)):
            if value is not None and not (
                isinstance(value, (int, float)) and 0 < value < float("inf")
            ):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.lag_interval = float(lag_interval)
        self.lag_threshold = None if lag_threshold is None else float(lag_threshold)


def check_option(option: bool | Telemetry | None) -> bool | Telemetry | None:
    """Validate ``RelayClient(telemetry=...)`` at construction time.

    Raises:
        TypeError: Not ``None``, a bool or a :class:`Telemetry`.
        ImportError: ``True`` or a :class:`Telemetry` without the ``otel`` extra.
    """
    if option is None or option is False:
        return option
    if option is not True and not isinstance(option, Telemetry):
        raise TypeError(f"telemetry must be None, a bool or a Telemetry, got {option!r}")
    try:
        import opentelemetry.metrics
        import opentelemetry.trace  # noqa: F401
    except ImportError as exc:
        raise ImportError("telemetry needs OpenTelemetry: pip install 'relaykit[otel]'") from exc
    return option


def _global_providers_configured() -> bool:
    """True when the program set a global tracer or meter provider (never imports otel)."""
    if "opentelemetry" not in sys.modules:
        return False  # a program that configured a provider has imported it
    try:
        from opentelemetry import metrics, trace
    except ImportError:  # pragma: no cover - a broken installation
        return False
    tracing = not isinstance(
        trace.get_tracer_provider(), (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
    )
    provider = metrics.get_meter_provider()
    # The API's placeholder before set_meter_provider() is a private proxy class.
    metering = not isinstance(provider, metrics.NoOpMeterProvider) and not type(
        provider
    ).__name__.startswith("_Proxy")
    return tracing or metering


def open_telemetry(
    option: bool | Telemetry | None,
    dispatcher: Dispatcher,
    conn: RelayConnection,
) -> Recorder | None:
    """The client's recorder for this start (made once, reused), started; or None when off."""
    if option is False:
        return None
    recorder = dispatcher.telemetry
    if recorder is None:
        if option is None:
            if not _global_providers_configured():
                return None
            option = True
        settings = option if isinstance(option, Telemetry) else Telemetry()
        recorder = Recorder(settings, dispatcher)
    recorder.start(conn)
    return recorder


class _Instruments:
    """Makes the instruments of :data:`METRICS` on one meter: ``make(name)``."""

    __slots__ = ("_meter",)

    def __init__(self, meter: Meter) -> None:
        self._meter = meter

    def __call__(self, name: str, callbacks: list[Callable[..., Any]] | None = None) -> Any:
        """The instrument *name* (an observable one reads *callbacks*)."""
        kind, unit, description = METRICS[name]
        create = getattr(self._meter, _FACTORIES[kind])
        if kind.startswith("Observable"):
            return create(name, callbacks, unit, description)
        return create(name, unit, description)


#: The Meter method that makes each kind of instrument of :data:`METRICS`.
_FACTORIES = {
    "Counter": "create_counter",
    "Histogram": "create_histogram",
    "UpDownCounter": "create_up_down_counter",
    "ObservableUpDownCounter": "create_observable_up_down_counter",
}


class _Dial:
    """An outbound call's span and its dial span, until ``DialCompleted``."""

    __slots__ = ("call_span", "span", "start")

    def __init__(self, call_span: Span, span: Span, start: float) -> None:
        self.call_span = call_span
        self.span = span
        self.start = start


class _Command:
    """One request's span until its outcome."""

    __slots__ = ("call_id", "method", "span", "start")

    def __init__(self, span: Span, method: str, start: float, call_id: str) -> None:
        self.span = span
        self.method = method
        self.start = start
        self.call_id = call_id


class Recorder:
    """Records the client's spans and metrics; watches handlers and the event loop.

    Made once per client (the first start with telemetry on) and reused by
    later starts.  Every input is synchronous and runs on the driver's task
    (events) or the caller's (requests); nothing here sends or awaits, except
    the lag monitor, a task of the client.
    """

    def __init__(self, settings: Telemetry, dispatcher: Dispatcher) -> None:
        from opentelemetry import metrics, trace
        from opentelemetry.context import Context
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self._dispatcher = dispatcher
        tracer_provider = settings.tracer_provider or trace.get_tracer_provider()
        meter_provider = settings.meter_provider or metrics.get_meter_provider()
        self._tracer = tracer_provider.get_tracer(SCOPE, __version__)
        meter = meter_provider.get_meter(SCOPE, __version__)
        self._trace = trace
        self._empty_context = Context()
        self._client_kind = SpanKind.CLIENT
        self._server_kind = SpanKind.SERVER
        self._error = Status(StatusCode.ERROR)
        self._status = Status
        self._error_code = StatusCode.ERROR
        self._observation = metrics.Observation
        self.lag_interval = settings.lag_interval
        self.lag_threshold = settings.lag_threshold

        make = _Instruments(meter)
        self._events: Counter = make("relaykit.events.received")
        self._commands: Counter = make("relaykit.commands")
        self._command_duration: Histogram = make("relaykit.command.duration")
        self._reconnects: Counter = make("relaykit.reconnects")
        self._resumed: Counter = make("relaykit.sessions.resumed")
        self._refused: Counter = make("relaykit.calls.refused")
        self._protocol_errors: Counter = make("relaykit.protocol.errors")
        self._dial_duration: Histogram = make("relaykit.dial.duration")
        self._active_calls: UpDownCounter = make("relaykit.calls.active")
        self._in_flight: UpDownCounter = make("relaykit.requests.in_flight")
        make("relaykit.requests.queued", [self._observe_queue])
        self._handler_duration: Histogram = make("relaykit.handler.duration")
        self._loop_lag: Histogram = make("relaykit.event_loop.lag")

        self._conn: RelayConnection | None = None
        self._calls: dict[str, Span] = {}
        self._dials: dict[str, _Dial] = {}
        self._requests: dict[str, _Command] = {}
        # Call ids of the answered dials among _calls.
        self._outbound: set[str] = set()
        self._attrs: dict[tuple[str, str], dict[str, str]] = {}
        # The longest handler step since the lag monitor last woke, and whose.
        self.worst_step = 0.0
        self.worst_handler = ""
        self._table: dict[type[Event], Callable[[Any], None]] = {
            ResponseReceived: self._outcome,
            RequestFailed: self._outcome,
            RequestTimedOut: self._outcome,
            RequestCancelled: self._outcome,
            CallReceived: self._call_received,
            CallStateChanged: self._call_state,
            ActionCompleted: self._action_completed,
            DialCompleted: self._dial_completed,
            CallDropped: self._call_dropped,
            ProtocolErrorReceived: self._protocol_error,
            ReconnectScheduled: self._reconnect,
            SessionAuthenticated: self._authenticated,
        }

    # ------------------------------------------------------------ lifecycle

    def start(self, conn: RelayConnection) -> None:
        """A client start: watch *conn*'s queue, run the lag monitor in the client's pool."""
        self._conn = conn
        self._dispatcher.spawn(self._watch_loop, what="relaykit event-loop lag monitor")

    def stop(self) -> None:
        """The client stopped: end every span still open (its calls are no longer ours)."""
        self._conn = None
        for call_id, span in list(self._calls.items()):
            self._end_call(call_id, span, "client_closed")
        for dial in self._dials.values():
            dial.span.set_status(self._error)
            dial.span.end()
            dial.call_span.set_attribute("relaykit.call.end_reason", "client_closed")
            dial.call_span.end()
        self._dials.clear()
        for command in self._requests.values():
            self._in_flight.add(-1)
            command.span.set_attribute("relaykit.command.outcome", "cancelled")
            command.span.end()
        self._requests.clear()

    # ---------------------------------------------------------------- inputs

    def event(self, event: Event) -> None:
        """One event of the core (the dispatcher calls it for every event)."""
        handler = self._table.get(type(event))
        if handler is not None:
            handler(event)
        elif isinstance(event, RelayEvent):
            self._count(event.event_type)

    def request_sent(self, request_id: str, method: str, params: dict[str, Any]) -> None:
        """A request was handed to the core (the client calls it for every request)."""
        now = self._dispatcher.runtime.current_time()
        call_id = params.get("call_id")
        call_id = call_id if isinstance(call_id, str) else ""
        attributes: dict[str, str] = {"rpc.system": "relay", "rpc.method": method}
        control_id = params.get("control_id")
        if isinstance(control_id, str) and control_id:
            attributes["relaykit.control_id"] = control_id
        parent = self._calls.get(call_id) if call_id else None
        if call_id:
            attributes["relaykit.call.id"] = call_id
        if method == "calling.dial":
            parent = self._dial_started(params, now)
        context = self._trace.set_span_in_context(parent) if parent is not None else None
        span = self._tracer.start_span(
            method, context=context, kind=self._client_kind, attributes=attributes
        )
        self._requests[request_id] = _Command(span, method, now, call_id)
        self._in_flight.add(1)

    def wrap_handler(
        self, func: Callable[[Any], Awaitable[Any]], what: str
    ) -> Callable[[Any], Awaitable[None]]:
        """*func* (a handler) timed, stepped for blocking code, inside its call's span."""
        trace = self._trace

        async def run(arg: Any) -> None:
            call_id = getattr(arg, "call_id", None)
            kind = "call" if isinstance(call_id, str) else "message"
            span = self._calls.get(call_id) if isinstance(call_id, str) else None
            from opentelemetry import context as otel_context

            token = otel_context.attach(trace.set_span_in_context(span)) if span else None
            clock = self._dispatcher.runtime.current_time
            start = clock()
            outcome = "cancelled"
            try:
                await _Stepped(func(arg), self, what, clock)
                outcome = "ok"
            except Exception:
                outcome = "error"
                raise
            finally:
                self._handler_duration.record(
                    clock() - start,
                    {"relaykit.handler.kind": kind, "relaykit.handler.outcome": outcome},
                )
                if token is not None:
                    otel_context.detach(token)

        return run

    # ------------------------------------------------------------- the events

    def _count(self, event_type: str) -> None:
        self._events.add(1, self._attributes("relaykit.event.type", event_type))

    def _attributes(self, key: str, value: str) -> dict[str, str]:
        attributes = self._attrs.get((key, value))
        if attributes is None:
            attributes = self._attrs[(key, value)] = {key: value}
        return attributes

    def _outcome(self, event: Any) -> None:
        command = self._requests.pop(event.request_id, None)
        if command is None:
            return  # not sent through the client (subscribe, internal), or before telemetry
        now = self._dispatcher.runtime.current_time()
        self._in_flight.add(-1)
        span = command.span
        kind = type(event)
        if kind is ResponseReceived:
            outcome = "ok"
            code = event.result.get("code")
            if code is not None:
                span.set_attribute("relaykit.command.result_code", str(code))
            if command.method == "calling.pass" and command.call_id:
                passed = self._calls.get(command.call_id)
                if passed is not None:  # another consumer takes it: no more events here
                    self._end_call(command.call_id, passed, "passed")
        elif kind is RequestFailed:
            outcome = "error"
            span.set_attribute("relaykit.command.result_code", str(event.code))
            span.set_attribute("error.type", str(event.code))
            span.set_status(self._status(self._error_code, event.message or None))
        elif kind is RequestTimedOut:
            outcome = "timeout"
            span.set_attribute("error.type", "timeout")
            span.set_attribute("relaykit.command.sent", event.sent)
            span.set_status(self._error)
        else:
            outcome = "cancelled"
            span.set_attribute("error.type", "cancelled")
            span.set_attribute("relaykit.command.sent", event.sent)
            span.set_status(self._status(self._error_code, event.reason))
        span.set_attribute("relaykit.command.outcome", outcome)
        span.end()
        attributes = self._attrs.get((command.method, outcome))
        if attributes is None:
            attributes = self._attrs[(command.method, outcome)] = {
                "rpc.method": command.method,
                "relaykit.command.outcome": outcome,
            }
        self._commands.add(1, attributes)
        self._command_duration.record(now - command.start, attributes)

    def _call_received(self, event: CallReceived) -> None:
        self._count(event.event_type)
        call_id = event.call_id
        if not call_id or call_id in self._calls:
            return
        span = self._tracer.start_span(
            "relaykit.call",
            context=self._empty_context,  # an inbound call starts its own trace
            kind=self._server_kind,
            attributes={
                "relaykit.call.id": call_id,
                "relaykit.call.context": event.context,
                "relaykit.call.direction": "inbound",
            },
        )
        span.add_event("relaykit.call.state", {"relaykit.call.state": event.state})
        self._calls[call_id] = span
        self._active_calls.add(1, self._attributes("relaykit.call.direction", "inbound"))

    def _call_state(self, event: CallStateChanged) -> None:
        self._count(event.event_type)
        call_id = event.call_id
        span = self._calls.get(call_id)
        attributes = {"relaykit.call.state": event.state, "relaykit.call.id": call_id}
        if span is None:
            dial = self._dials.get(event.tag) if event.tag else None
            if dial is not None:  # a leg of a pending dial: ringing, answered...
                dial.span.add_event("relaykit.call.state", attributes)
            return
        span.add_event("relaykit.call.state", attributes)
        if event.state == "ended":
            self._end_call(call_id, span, event.end_reason or "ended")

    def _end_call(self, call_id: str, span: Span, reason: str) -> None:
        del self._calls[call_id]
        span.set_attribute("relaykit.call.end_reason", reason)
        span.end()
        direction = "outbound" if call_id in self._outbound else "inbound"
        self._outbound.discard(call_id)
        self._active_calls.add(-1, self._attributes("relaykit.call.direction", direction))

    def _action_completed(self, event: ActionCompleted) -> None:
        span = self._calls.get(event.call_id)
        if span is not None:
            span.add_event(
                "relaykit.action.completed",
                {
                    "relaykit.action.kind": event.kind,
                    "relaykit.control_id": event.control_id,
                    "relaykit.action.reason": event.reason,
                },
            )

    def _dial_started(self, params: dict[str, Any], now: float) -> Span:
        tag = params.get("tag")
        tag = tag if isinstance(tag, str) else ""
        # An outbound call's trace nests under the caller's current span, if any.
        call_span = self._tracer.start_span(
            "relaykit.call",
            kind=self._client_kind,
            attributes={"relaykit.call.direction": "outbound", "relaykit.dial.tag": tag},
        )
        dial_span = self._tracer.start_span(
            "relaykit.dial",
            context=self._trace.set_span_in_context(call_span),
            kind=self._client_kind,
            attributes={"relaykit.dial.tag": tag},
        )
        previous = self._dials.pop(tag, None)
        if previous is not None:  # a tag reused while pending: the core keeps the last
            previous.span.end()
            previous.call_span.end()
        self._dials[tag] = _Dial(call_span, dial_span, now)
        return call_span

    def _dial_completed(self, event: DialCompleted) -> None:
        dial = self._dials.pop(event.tag, None)
        if dial is None:
            return
        now = self._dispatcher.runtime.current_time()
        reason = event.reason
        dial.span.set_attribute("relaykit.dial.result", reason)
        call_span = dial.call_span
        attributes = self._attributes("relaykit.dial.result", reason)
        self._dial_duration.record(now - dial.start, attributes)
        if reason == "answered" and event.call_id:
            dial.span.end()
            call_span.set_attribute("relaykit.call.id", event.call_id)
            self._calls[event.call_id] = call_span
            self._outbound.add(event.call_id)
            self._active_calls.add(1, self._attributes("relaykit.call.direction", "outbound"))
            return
        dial.span.set_status(self._error)
        dial.span.end()
        call_span.set_attribute("relaykit.call.end_reason", reason)
        call_span.set_status(self._error)
        call_span.end()

    def _call_dropped(self, event: CallDropped) -> None:
        self._refused.add(
            1, {"relaykit.refusal.reason": event.reason, "relaykit.call.passed": event.passed}
        )

    def _protocol_error(self, event: ProtocolErrorReceived) -> None:
        self._protocol_errors.add(1)

    def _reconnect(self, event: ReconnectScheduled) -> None:
        self._reconnects.add(1)

    def _authenticated(self, event: SessionAuthenticated) -> None:
        if event.session_restored:
            self._resumed.add(1)

    def _observe_queue(self, options: CallbackOptions) -> Generator[Observation, None, None]:
        conn = self._conn
        if conn is not None:
            yield self._observation(conn.stats.queued)

    # ----------------------------------------------------- handler visibility

    def note_step(self, handler: str, duration: float) -> None:
        """A handler ran *duration* seconds without awaiting (from :class:`_Stepped`)."""
        if duration > self.worst_step:
            self.worst_step = duration
            self.worst_handler = handler

    async def _watch_loop(self) -> None:
        """Sleep ``lag_interval``, measure the oversleep, report it; forever (until cancelled)."""
        rt = self._dispatcher.runtime
        interval = self.lag_interval
        threshold = self.lag_threshold
        if threshold is None:
            threshold = self._dispatcher.client.slow_listener_threshold
        record = self._loop_lag.record
        while True:
            start = rt.current_time()
            await rt.sleep_until(start + interval)
            lag = max(0.0, rt.current_time() - start - interval)
            record(lag)
            worst, culprit = self.worst_step, self.worst_handler
            self.worst_step, self.worst_handler = 0.0, ""
            if worst >= threshold and culprit:
                logger.warning(
                    "%s blocked the event loop for %.3f s without awaiting (event-loop lag "
                    "%.3f s): make the blocking work async or run it in a thread",
                    culprit,
                    worst,
                    lag,
                )
            elif lag >= threshold:
                logger.warning(
                    "event-loop lag %.3f s, not inside a relaykit handler step (a slow "
                    "call.on listener, or another task of the program)",
                    lag,
                )


class _Stepped(Generator[Any, Any, Any]):
    """Awaits a handler's coroutine step by step, timing each step (telemetry only).

    A step is the code a coroutine runs between two suspensions; one that
    takes long is blocking code.  The wrapper passes values, exceptions and
    the event loop's own yields straight through, so it works on any loop.
    """

    __slots__ = ("_clock", "_coro", "_name", "_recorder")

    def __init__(
        self,
        awaitable: Awaitable[Any],
        recorder: Recorder,
        name: str,
        clock: Callable[[], float],
    ) -> None:
        self._coro: Any = awaitable.__await__()
        self._recorder = recorder
        self._name = name
        self._clock = clock

    def __await__(self) -> Generator[Any, Any, Any]:
        return self

    def send(self, value: Any) -> Any:
        clock = self._clock
        start = clock()
        try:
            return self._coro.send(value)
        finally:
            self._recorder.note_step(self._name, clock() - start)

    def throw(self, *args: Any) -> Any:
        clock = self._clock
        start = clock()
        try:
            return self._coro.throw(*args)
        finally:
            self._recorder.note_step(self._name, clock() - start)

    def close(self) -> None:
        self._coro.close()
