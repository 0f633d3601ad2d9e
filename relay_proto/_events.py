"""Events: everything :meth:`RelayConnection.next_event` can return.

This module holds the connection, request and bookkeeping events (session
authenticated, request outcomes, reconnects, action/dial/message completion) and
re-exports the RELAY events of :mod:`relay_proto._relay_events`, so every event
class is importable from here.  See that module for the conventions they share
(frozen, slotted, keyword-only dataclasses on :class:`Event`; past-tense names;
the raw ``params`` kept; lazy, tolerant typed fields).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, final

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # the same classes for less import time (see record_class)
    from ._event_base import record_class as dataclass

from ._relay_events import (
    EVENT_CLASSES,
    AIStateChanged,
    AuthorizationStateUpdated,
    CallingErrorReceived,
    CallReceived,
    CallStateChanged,
    CollectResultReceived,
    ConferenceUpdated,
    ConnectStateChanged,
    DenoiseStateChanged,
    DetectResultReceived,
    DialStateChanged,
    EchoStateChanged,
    Event,
    FallbackDict,
    FaxStateChanged,
    HoldStateChanged,
    MessageReceived,
    MessageStateChanged,
    PayStateChanged,
    PlayStateChanged,
    QueueStateChanged,
    RecordStateChanged,
    ReferStateChanged,
    RelayEvent,
    SendDigitsStateChanged,
    StreamStateChanged,
    TapStateChanged,
    TranscribeStateChanged,
    UnknownEventReceived,
    parse_relay_event,
)

__all__ = [
    "EVENT_CLASSES",
    "AIStateChanged",
    "ActionCompleted",
    "AuthenticationFatal",
    "AuthenticationRejected",
    "AuthorizationStateUpdated",
    "CallDropped",
    "CallHungUpByCore",
    "CallReceived",
    "CallStateChanged",
    "CallingErrorReceived",
    "CollectResultReceived",
    "ConferenceUpdated",
    "ConnectStateChanged",
    "ConnectionClosed",
    "ConnectionDead",
    "DenoiseStateChanged",
    "DetectResultReceived",
    "DialCompleted",
    "DialStateChanged",
    "EchoStateChanged",
    "Event",
    "FallbackDict",
    "FaxStateChanged",
    "HoldStateChanged",
    "MessageCompleted",
    "MessageReceived",
    "MessageStateChanged",
    "PayStateChanged",
    "PlayStateChanged",
    "ProtocolErrorReceived",
    "QueueStateChanged",
    "ReconnectScheduled",
    "RecordStateChanged",
    "ReferStateChanged",
    "RelayEvent",
    "RequestCancelled",
    "RequestFailed",
    "RequestTimedOut",
    "ResponseReceived",
    "SendDigitsStateChanged",
    "ServerDisconnectRequested",
    "SessionAuthenticated",
    "StreamStateChanged",
    "TapStateChanged",
    "TranscribeStateChanged",
    "UnknownEventReceived",
    "parse_relay_event",
]

# ---------------------------------------------------------------------------
# Connection / session events.
# ---------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SessionAuthenticated(Event):
    """``signalwire.connect`` succeeded; the session is ready.

    Attributes:
        protocol: The server-assigned protocol string (sent back on reconnect).
        identity: The connection identity reported by the server.
        session_restored: True when the server resumed the previous session.
        result: The raw connect result object.
    """

    protocol: str
    identity: str
    session_restored: bool
    result: Mapping[str, Any]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseReceived(Event):
    """A request succeeded (2xx ``code``, or no ``code`` at all)."""

    request_id: str
    method: str
    result: Mapping[str, Any]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFailed(Event):
    """The server rejected a request: non-2xx result code or a JSON-RPC error.

    Adapters turn this into :class:`~relay_proto.RelayServerError` (or
    :class:`~relay_proto.CallGoneError` when :attr:`call_gone`).
    """

    request_id: str
    method: str
    code: int
    message: str
    #: True for 404/410 answers to call-scoped methods: the call no longer exists.
    call_gone: bool = False
    result: Mapping[str, Any] | None = None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestTimedOut(Event):
    """No response arrived within the request's timeout.

    Attributes:
        sent: True when the request had been handed to the socket: the server
            may have received and run it, so its outcome is unknown.  False
            when it timed out still waiting in the offline queue: it never
            left the client and is safe to retry.
    """

    request_id: str
    method: str
    timeout: float
    sent: bool = True


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestCancelled(Event):
    """The request will never get an answer: the connection dropped or the client closed.

    Attributes:
        reason: Why (the connection-loss reason, ``"connection closed by the
            client"``, ``"authentication failed"``, ``"dial abandoned"``).
        sent: True when the request had been handed to the socket before it
            was lost: the server may have received and run it (a ``calling.play``
            may be playing), so the outcome is unknown and a blind retry may
            run it twice.  False when it never left the client (it was still
            in the offline queue): safe to retry.  Defaults to the cautious
            True.
    """

    request_id: str
    method: str
    reason: str
    sent: bool = True


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionDead(Event):
    """The core declared the connection unusable (half-open, ping failures, bad frame).

    The adapter must abort the socket and then call ``connection_lost(now)``.
    """

    reason: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionClosed(Event):
    """The connection is gone (after ``connection_lost``).

    Attributes:
        reason: Why it closed.
        will_reconnect: True when a :class:`ReconnectScheduled` follows.
    """

    reason: str
    will_reconnect: bool


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReconnectScheduled(Event):
    """Open a new socket at time ``at`` and call ``connection_made``."""

    at: float
    delay: float
    attempt: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticationRejected(Event):
    """``signalwire.connect`` was rejected; the client will retry (not yet fatal)."""

    code: int
    message: str
    attempt: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticationFatal(Event):
    """Authentication was rejected 3 times before ever succeeding.  Stop reconnecting."""

    code: int
    message: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ServerDisconnectRequested(Event):
    """The server sent ``signalwire.disconnect`` (already answered by the core)."""

    restart: bool


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolErrorReceived(Event):
    """The server sent something unusable; it was logged and skipped.

    Attributes:
        message: What was wrong.
        data: A short excerpt of the offending input (never credentials).
    """

    message: str
    data: str = ""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CallDropped(Event):
    """An inbound call was ACKed but not taken (``max_active_calls`` reached).

    Attributes:
        call_id: The offered call.
        reason: ``"max_active_calls"``.
        passed: True when the core answered the offer with ``calling.pass``
            (``over_capacity="pass"``) so that another consumer of the context
            takes it; False when it was only ignored (``"ignore"``, the default).
    """

    call_id: str
    reason: str
    passed: bool = False


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CallHungUpByCore(Event):
    """The core sent ``calling.end`` for a call nobody owns any more.

    Emitted once per call, when the first ``calling.end`` goes out (the core
    repeats it, at most a few times, if the call still shows up alive, and
    after a reconnect).  Today the only cause is an abandoned dial: every leg
    of a dial the application gave up on (:meth:`RelayConnection.abandon_dial`,
    or a dial the core failed itself) is hung up, including legs the server
    reports later, so that no phone keeps ringing and no answered call is left
    without an owner.

    Attributes:
        call_id: The leg being hung up.
        tag: The tag of the dial it belongs to.
        reason: ``"dial_abandoned"``.
    """

    call_id: str
    tag: str
    reason: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ActionCompleted(Event):
    """An action (play, record, collect, ...) reached its terminal state.

    Attributes:
        call_id: The call the action ran on.
        control_id: The action's control id.
        kind: The action kind (``"play"``, ``"collect"``, ``"play_and_collect"``, ...).
        event: The terminal RELAY event, or ``None`` when the action ended for
            another reason.
        reason: ``"finished"`` (a terminal event arrived), ``"call_ended"`` (the
            call ended first), ``"call_gone"`` (the server answered 404/410), or
            ``"failed"`` (the start request was rejected).
    """

    call_id: str
    control_id: str
    kind: str
    event: RelayEvent | None
    reason: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class DialCompleted(Event):
    """An outbound dial resolved.

    Attributes:
        tag: The dial's tag.
        call_id: The winning leg's call id when answered, else ``""``.
        event: The ``calling.call.dial`` event, if one arrived.
        reason: ``"answered"``; ``"failed"`` (the server's dial failed);
            ``"request_failed"`` (the ``calling.dial`` request was rejected, or
            timed out before it was sent); ``"connection_lost"`` (the client
            closed, or the dial was on the wire when the socket dropped and the
            next session was *not* resumed, so its events can never come); or
            ``"abandoned"`` (:meth:`RelayConnection.abandon_dial`).  A dial the
            core fails itself (``"connection_lost"``) is also abandoned: its
            legs are hung up (see :class:`CallHungUpByCore`).  While a dropped
            session is resumed, a dial that was on the wire stays pending: its
            events keep coming on the resumed session.
    """

    tag: str
    call_id: str
    event: DialStateChanged | None
    reason: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class MessageCompleted(Event):
    """A message this connection sent (``messaging.send``) reached a terminal state.

    Only a terminal ``messaging.state`` completes a message: messages outlive
    reconnects (their states keep coming on the resumed session), so there is
    no "connection lost" completion.  The terminal :class:`MessageStateChanged`
    itself is emitted just before this event.

    Attributes:
        message_id: The id from the ``messaging.send`` result.
        event: The terminal ``messaging.state`` event.
        reason: The terminal state: ``"delivered"``, ``"undelivered"`` or ``"failed"``.
    """

    message_id: str
    event: MessageStateChanged
    reason: str
