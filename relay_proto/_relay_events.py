"""RELAY events (``signalwire.event``): the event-type table and its parser.

The connection and bookkeeping events are in :mod:`relay_proto._events`, which
re-exports everything here; import from there (or from :mod:`relay_proto`).
This module holds the call, dial, connect, conference, error and messaging
events and :data:`EVENT_CLASSES`; the per-call action and feature events are in
:mod:`._call_events`, the bases in :mod:`._event_base`.

Modelled on ``h11/_events.py`` and ``h2/events.py``:

* every event is a frozen, slotted dataclass on the :class:`Event` base
  (``__slots__ = ()``); no back-references, no mutation.  RELAY events take
  ``event_type`` and ``params`` by position or keyword (as the official SDK's
  constructors do) and everything else by keyword only.  A RELAY event class
  that adds no field is *not* decorated again: it declares ``__slots__ = ()``
  and inherits :class:`RelayEvent`'s generated ``__init__``, ``__repr__``,
  ``__eq__``, ``__hash__`` and frozen ``__setattr__`` (which already work per
  class: the repr names the subclass, equality needs the same class), and
  ``dataclasses.fields``/``replace`` see the inherited fields.  Each
  ``@dataclass`` costs about a millisecond of import time, this way only
  :class:`RelayEvent`, :class:`CallStateChanged` and :class:`CallReceived` pay it;
* received facts have past-tense names (``CallStateChanged``, ``RequestFailed``);
* every RELAY ``signalwire.event`` type has its own class, all on
  :class:`RelayEvent`, which keeps the raw inner ``params`` untouched.  Typed
  fields are *lazy properties* over ``params`` (no per-event parsing beyond the
  envelope, which keeps the hot path cheap), and they are tolerant: a field of
  the wrong type reads as its empty default instead of raising.  Every class
  has ``from_payload(envelope)``, as the official ones do.
* :class:`UnknownEventReceived` carries event types we do not know yet.

The seed documentation reads some results in a flattened form
(``event.params["result"]["digits"]``, ``event.params["record"]["url"]``) while
the wire nests them (``result.params.digits``, top-level ``url``).  Both reads
work: collect and record events wrap exactly those two sub-objects in
:class:`FallbackDict`, a ``dict`` that still *is* the wire object (it serialises
to the same JSON) but answers a missing key from the nested location.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, final

from ._call_events import (
    AIStateChanged,
    CollectResultReceived,
    DenoiseStateChanged,
    DetectResultReceived,
    EchoStateChanged,
    FaxStateChanged,
    HoldStateChanged,
    PayStateChanged,
    PlayStateChanged,
    QueueStateChanged,
    RecordStateChanged,
    ReferStateChanged,
    SendDigitsStateChanged,
    StreamStateChanged,
    TapStateChanged,
    TranscribeStateChanged,
)
from ._event_base import Event, FallbackDict, RelayEvent, _obj, _str

__all__ = [
    "EVENT_CLASSES",
    "AIStateChanged",
    "AuthorizationStateUpdated",
    "CallReceived",
    "CallStateChanged",
    "CallingErrorReceived",
    "CollectResultReceived",
    "ConferenceUpdated",
    "ConnectStateChanged",
    "DenoiseStateChanged",
    "DetectResultReceived",
    "DialStateChanged",
    "EchoStateChanged",
    "Event",
    "FallbackDict",
    "FaxStateChanged",
    "HoldStateChanged",
    "MessageReceived",
    "MessageStateChanged",
    "PayStateChanged",
    "PlayStateChanged",
    "QueueStateChanged",
    "RecordStateChanged",
    "ReferStateChanged",
    "RelayEvent",
    "SendDigitsStateChanged",
    "StreamStateChanged",
    "TapStateChanged",
    "TranscribeStateChanged",
    "UnknownEventReceived",
    "parse_relay_event",
]

# end_reason spellings seen in the sources -> the spelling of the END_REASON_*
# constants (the official SDK's values: "noAnswer", "decline").  The docs list
# no_answer/declined, a 2019 fixture has noAnswer; both must compare equal.
_END_REASON_ALIASES: Final[Mapping[str, str]] = {
    "no_answer": "noAnswer",
    "no-answer": "noAnswer",
    "declined": "decline",
    "maxDuration": "max_duration",
    "notFound": "not_found",
}


def _default_state(event: CallStateChanged | CallReceived) -> None:
    """An event built without ``state`` (outside a connection) tracks its own ``call_state``."""
    if not event.state:
        # Frozen dataclass: the one sanctioned way to set a field in __post_init__.
        object.__setattr__(event, "state", _str(event.params, "call_state"))


class _CallInfo:
    """Fields shared by call state and call receive events (mixin, no slots of its own)."""

    __slots__ = ()
    params: Mapping[str, Any]

    @property
    def call_state(self) -> str:
        """The ``call_state`` of *this event*, as sent (see ``state`` for the tracked one)."""
        return _str(self.params, "call_state")

    @property
    def direction(self) -> str:
        return _str(self.params, "direction")

    @property
    def device(self) -> Mapping[str, Any]:
        return _obj(self.params, "device")

    @property
    def end_reason(self) -> str:
        """Why the call ended, in the spelling of the ``END_REASON_*`` constants.

        ``no_answer`` and ``noAnswer`` both read ``"noAnswer"``, ``declined``
        and ``decline`` both ``"decline"``; ``null`` or absent reads ``""``;
        any other value as sent.  ``params["end_reason"]`` keeps the raw value.
        """
        reason = _str(self.params, "end_reason")
        return _END_REASON_ALIASES.get(reason, reason)

    @property
    def peer(self) -> Mapping[str, Any]:
        return _obj(self.params, "peer")

    @property
    def segment_id(self) -> str:
        return _str(self.params, "segment_id")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CallStateChanged(_CallInfo, RelayEvent):
    """``calling.call.state``: created → ringing → answered → ending → ended.

    Attributes:
        state: The call's state as the core tracks it after this event:
            forward-only; equals ``call_state`` unless the event would have
            moved it backward (a late ``ringing`` after ``answered``), or
            names no known state.  Filled in by the router; an event built
            without it (outside a connection) gets its own ``call_state``.
    """

    state: str = ""

    def __post_init__(self) -> None:
        _default_state(self)

    @property
    def context(self) -> str:
        return _str(self.params, "context")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CallReceived(_CallInfo, RelayEvent):
    """``calling.call.receive``: a new inbound call on a subscribed context.

    Attributes:
        state: The call's state as the core tracks it after this event
            (forward-only, as for :class:`CallStateChanged`; ``created`` for a
            new call).
    """

    state: str = ""

    def __post_init__(self) -> None:
        _default_state(self)

    @property
    def context(self) -> str:
        """The context the call arrived on (``protocol`` in older SDK-written frames)."""
        return _str(self.params, "context") or _str(self.params, "protocol")

    @property
    def project_id(self) -> str:
        return _str(self.params, "project_id")


@final
class DialStateChanged(RelayEvent):
    """``calling.call.dial``: ``dialing``, ``answered`` (winner in ``call``) or ``failed``."""

    __slots__ = ()

    @property
    def dial_state(self) -> str:
        return _str(self.params, "dial_state")

    @property
    def call(self) -> Mapping[str, Any]:
        return _obj(self.params, "call")

    @property
    def reason(self) -> str:
        return _str(self.params, "reason")


@final
class ConnectStateChanged(RelayEvent):
    """``calling.call.connect``: connecting, connected, disconnected, failed."""

    __slots__ = ()

    @property
    def connect_state(self) -> str:
        return _str(self.params, "connect_state")

    @property
    def peer(self) -> Mapping[str, Any]:
        return _obj(self.params, "peer")

    @property
    def failed_reason(self) -> str:
        return _str(self.params, "failed_reason")


@final
class ConferenceUpdated(RelayEvent):
    """``calling.conference``."""

    __slots__ = ()

    @property
    def conference_id(self) -> str:
        return _str(self.params, "conference_id")

    @property
    def name(self) -> str:
        return _str(self.params, "name")

    @property
    def status(self) -> str:
        return _str(self.params, "status")


@final
class CallingErrorReceived(RelayEvent):
    """``calling.error``: an asynchronous failure report."""

    __slots__ = ()

    @property
    def code(self) -> str:
        return _str(self.params, "code")

    @property
    def message(self) -> str:
        return _str(self.params, "message")


class _MessageInfo:
    """Fields shared by the two messaging events."""

    __slots__ = ()
    params: Mapping[str, Any]

    @property
    def message_id(self) -> str:
        return _str(self.params, "message_id")

    @property
    def message_state(self) -> str:
        return _str(self.params, "message_state")

    @property
    def context(self) -> str:
        return _str(self.params, "context")

    @property
    def direction(self) -> str:
        return _str(self.params, "direction")

    @property
    def from_number(self) -> str:
        return _str(self.params, "from_number")

    @property
    def to_number(self) -> str:
        return _str(self.params, "to_number")

    @property
    def body(self) -> str:
        return _str(self.params, "body")

    @property
    def media(self) -> list[str]:
        value = self.params.get("media")
        return [m for m in value if isinstance(m, str)] if isinstance(value, list) else []

    @property
    def segments(self) -> int:
        value = self.params.get("segments")
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    @property
    def reason(self) -> str:
        return _str(self.params, "reason")

    @property
    def tags(self) -> list[str]:
        value = self.params.get("tags")
        return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


@final
class MessageReceived(_MessageInfo, RelayEvent):
    """``messaging.receive``: an inbound SMS/MMS."""

    __slots__ = ()


@final
class MessageStateChanged(_MessageInfo, RelayEvent):
    """``messaging.state``: queued → initiated → sent → delivered / undelivered / failed."""

    __slots__ = ()


@final
class AuthorizationStateUpdated(RelayEvent):
    """``signalwire.authorization.state``.

    The core stores the opaque state for resume; it is a credential, so this
    event's ``params`` are always empty and the value never leaves the core.
    """

    __slots__ = ()

    @classmethod
    def _build(
        cls, event_type: str, params: dict[str, Any], timestamp: float
    ) -> AuthorizationStateUpdated:
        # Drop the credential here, so that no way of building this event keeps it.
        return cls(event_type, {}, timestamp=timestamp)


@final
class UnknownEventReceived(RelayEvent):
    """A ``signalwire.event`` type this version does not know."""

    __slots__ = ()


#: event_type → class, for :func:`parse_relay_event`.
EVENT_CLASSES: Final[Mapping[str, type[RelayEvent]]] = {
    "calling.call.state": CallStateChanged,
    "calling.call.receive": CallReceived,
    "calling.call.dial": DialStateChanged,
    "calling.call.connect": ConnectStateChanged,
    "calling.call.play": PlayStateChanged,
    "calling.call.record": RecordStateChanged,
    "calling.call.collect": CollectResultReceived,
    "calling.call.detect": DetectResultReceived,
    "calling.call.fax": FaxStateChanged,
    "calling.call.tap": TapStateChanged,
    "calling.call.stream": StreamStateChanged,
    "calling.call.send_digits": SendDigitsStateChanged,
    "calling.call.refer": ReferStateChanged,
    "calling.call.denoise": DenoiseStateChanged,
    "calling.call.pay": PayStateChanged,
    "calling.call.queue": QueueStateChanged,
    "calling.call.echo": EchoStateChanged,
    "calling.call.transcribe": TranscribeStateChanged,
    "calling.call.hold": HoldStateChanged,
    "calling.call.ai": AIStateChanged,
    "calling.conference": ConferenceUpdated,
    "calling.error": CallingErrorReceived,
    "messaging.receive": MessageReceived,
    "messaging.state": MessageStateChanged,
    "signalwire.authorization.state": AuthorizationStateUpdated,
}


def parse_relay_event(event_type: str, params: dict[str, Any], timestamp: float) -> RelayEvent:
    """Build the typed event for one ``signalwire.event`` envelope.

    Args:
        event_type: The envelope's ``event_type``.
        params: The envelope's inner ``params`` (must already be a dict; it
            becomes the event's ``params`` and may get the views below).
        timestamp: The envelope's ``timestamp``.

    Returns:
        The matching :class:`RelayEvent` subclass, or :class:`UnknownEventReceived`.
        Collect results and record results get the seed-friendly
        :class:`FallbackDict` views described in the module docstring.
    """
    return EVENT_CLASSES.get(event_type, UnknownEventReceived)._build(event_type, params, timestamp)
