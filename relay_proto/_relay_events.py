"""RELAY events (``signalwire.event``) and the :class:`Event` base of every event.

The connection and bookkeeping events are in :mod:`relay_proto._events`, which
re-exports everything here; import from there (or from :mod:`relay_proto`).

Modelled on ``h11/_events.py`` and ``h2/events.py``:

* every event is a frozen, slotted, keyword-only dataclass on the :class:`Event`
  base (``__slots__ = ()``); no back-references, no mutation;
* received facts have past-tense names (``CallStateChanged``, ``RequestFailed``);
* every RELAY ``signalwire.event`` type has its own class, all on
  :class:`RelayEvent`, which keeps the raw inner ``params`` untouched.  Typed
  fields are *lazy properties* over ``params`` (no per-event parsing beyond the
  envelope, which keeps the hot path cheap), and they are tolerant: a field of
  the wrong type reads as its empty default instead of raising.
* :class:`UnknownEventReceived` carries event types we do not know yet.

The seed documentation reads some results in a flattened form
(``event.params["result"]["digits"]``, ``event.params["record"]["url"]``) while
the wire nests them (``result.params.digits``, top-level ``url``).  Both reads
work: :func:`parse_relay_event` wraps exactly those two sub-objects in
:class:`FallbackDict`, a ``dict`` that still *is* the wire object (it serialises
to the same JSON) but answers a missing key from the nested location.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, final

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

_EMPTY: Final[Mapping[str, Any]] = {}


class Event:
    """Base class of every event the core emits."""

    __slots__ = ()


# ---------------------------------------------------------------------------
# Helpers: tolerant, allocation-free reads from raw params.
# ---------------------------------------------------------------------------


def _str(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    return value if isinstance(value, str) else ""


def _obj(params: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = params.get(key)
    return value if isinstance(value, Mapping) else _EMPTY


class FallbackDict(dict[str, Any]):
    """A wire object that also answers keys from a nested fallback mapping.

    ``FallbackDict({"type": "digit", "params": {"digits": "1"}}, fallback)``
    compares, iterates and serialises exactly like the wire dict, but
    ``d["digits"]`` and ``d.get("digits")`` find ``"1"`` in *fallback* when the
    key is not present at the top level.  Used for the seed docs' flat reads.
    """

    __slots__ = ("_fallback",)

    def __init__(self, data: Mapping[str, Any], fallback: Mapping[str, Any]) -> None:
        super().__init__(data)
        self._fallback = fallback

    def __missing__(self, key: str) -> Any:
        return self._fallback[key]

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            return self[key]
        return self._fallback.get(key, default)


# ---------------------------------------------------------------------------
# RELAY events (``signalwire.event``).
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayEvent(Event):
    """Base of every ``signalwire.event`` the core parses.

    Attributes:
        event_type: The envelope's ``event_type`` (``"calling.call.play"``).
        params: The raw inner ``params`` object, as received.
        timestamp: The envelope's ``timestamp`` (epoch seconds), 0.0 if absent.
    """

    event_type: str
    params: Mapping[str, Any]
    timestamp: float = 0.0

    @property
    def call_id(self) -> str:
        return _str(self.params, "call_id")

    @property
    def node_id(self) -> str:
        return _str(self.params, "node_id")

    @property
    def control_id(self) -> str:
        return _str(self.params, "control_id")

    @property
    def tag(self) -> str:
        return _str(self.params, "tag")

    @property
    def state(self) -> str:
        """The generic ``state`` field (play, record, tap, ...); ``""`` when absent."""
        return _str(self.params, "state")


class _CallInfo:
    """Fields shared by call state and call receive events (mixin, no slots of its own)."""

    __slots__ = ()
    params: Mapping[str, Any]

    @property
    def call_state(self) -> str:
        return _str(self.params, "call_state")

    @property
    def direction(self) -> str:
        return _str(self.params, "direction")

    @property
    def device(self) -> Mapping[str, Any]:
        return _obj(self.params, "device")

    @property
    def context(self) -> str:
        return _str(self.params, "context")

    @property
    def end_reason(self) -> str:
        return _str(self.params, "end_reason")

    @property
    def peer(self) -> Mapping[str, Any]:
        return _obj(self.params, "peer")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CallStateChanged(_CallInfo, RelayEvent):
    """``calling.call.state``: created → ringing → answered → ending → ended."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CallReceived(_CallInfo, RelayEvent):
    """``calling.call.receive``: a new inbound call on a subscribed context."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class DialStateChanged(RelayEvent):
    """``calling.call.dial``: ``dialing``, ``answered`` (winner in ``call``) or ``failed``."""

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
@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectStateChanged(RelayEvent):
    """``calling.call.connect``: connecting, connected, disconnected, failed."""

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
@dataclass(frozen=True, slots=True, kw_only=True)
class PlayStateChanged(RelayEvent):
    """``calling.call.play``: playing, paused, finished, error."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RecordStateChanged(RelayEvent):
    """``calling.call.record``: recording, paused, finished, no_input."""

    @property
    def url(self) -> str:
        return _str(self.params, "url") or _str(_obj(self.params, "record"), "url")

    @property
    def duration(self) -> float:
        for src in (self.params, _obj(self.params, "record")):
            value = src.get("duration")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        return 0.0

    @property
    def size(self) -> int:
        for src in (self.params, _obj(self.params, "record")):
            value = src.get("size")
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return 0

    @property
    def record(self) -> Mapping[str, Any]:
        return _obj(self.params, "record")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CollectResultReceived(RelayEvent):
    """``calling.call.collect``: a (possibly partial) collect result."""

    @property
    def result(self) -> Mapping[str, Any]:
        return _obj(self.params, "result")

    @property
    def type(self) -> str:
        """``digit``, ``speech``, ``no_input``, ``no_match``, ``error`` or ``start_of_input``."""
        return _str(self.result, "type")

    @property
    def digits(self) -> str:
        return _str(_obj(self.result, "params"), "digits")

    @property
    def terminator(self) -> str:
        return _str(_obj(self.result, "params"), "terminator")

    @property
    def speech(self) -> str:
        return _str(_obj(self.result, "params"), "text")

    text = speech

    @property
    def confidence(self) -> float:
        value = _obj(self.result, "params").get("confidence")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return 0.0

    @property
    def final(self) -> bool | None:
        value = self.params.get("final")
        return value if isinstance(value, bool) else None

    @property
    def is_final(self) -> bool:
        """True when this result ends a collect (see the protocol reference §6.6)."""
        kind = self.type
        return (
            kind in ("digit", "speech", "no_input", "no_match", "error")
            and self.params.get("final") is not False
            and self.state != "collecting"
        ) or (not kind and self.state in ("finished", "error", "no_input", "no_match"))


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class DetectResultReceived(RelayEvent):
    """``calling.call.detect``: progress and result live in ``detect.params.event``."""

    @property
    def detect(self) -> Mapping[str, Any]:
        return _obj(self.params, "detect")

    @property
    def type(self) -> str:
        return _str(self.detect, "type")

    @property
    def result(self) -> str:
        """``MACHINE``, ``HUMAN``, ``UNKNOWN``, ``READY``, ``CED``, digits, ``finished``..."""
        return _str(_obj(self.detect, "params"), "event")

    @property
    def beep(self) -> bool:
        return _obj(self.detect, "params").get("beep") is True


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class FaxStateChanged(RelayEvent):
    """``calling.call.fax``: progress in ``fax.type`` (page, finished, error)."""

    @property
    def fax(self) -> Mapping[str, Any]:
        return _obj(self.params, "fax")

    @property
    def type(self) -> str:
        return _str(self.fax, "type")

    @property
    def success(self) -> bool:
        return _obj(self.fax, "params").get("success") is True


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TapStateChanged(RelayEvent):
    """``calling.call.tap``: tapping, finished."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class StreamStateChanged(RelayEvent):
    """``calling.call.stream``: streaming, finished."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SendDigitsStateChanged(RelayEvent):
    """``calling.call.send_digits``: finished."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ReferStateChanged(RelayEvent):
    """``calling.call.refer``."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class DenoiseStateChanged(RelayEvent):
    """``calling.call.denoise``: ``denoised`` true/false."""

    @property
    def denoised(self) -> bool:
        return self.params.get("denoised") is True


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PayStateChanged(RelayEvent):
    """``calling.call.pay``."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueStateChanged(RelayEvent):
    """``calling.call.queue``."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class EchoStateChanged(RelayEvent):
    """``calling.call.echo``."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class TranscribeStateChanged(RelayEvent):
    """``calling.call.transcribe``."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HoldStateChanged(RelayEvent):
    """``calling.call.hold``."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AIStateChanged(RelayEvent):
    """``calling.call.ai`` (unconfirmed on the real server; tolerated)."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ConferenceUpdated(RelayEvent):
    """``calling.conference``."""

    @property
    def conference_id(self) -> str:
        return _str(self.params, "conference_id")

    @property
    def status(self) -> str:
        return _str(self.params, "status")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CallingErrorReceived(RelayEvent):
    """``calling.error``: an asynchronous failure report."""

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
@dataclass(frozen=True, slots=True, kw_only=True)
class MessageReceived(_MessageInfo, RelayEvent):
    """``messaging.receive``: an inbound SMS/MMS."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class MessageStateChanged(_MessageInfo, RelayEvent):
    """``messaging.state``: queued → initiated → sent → delivered / undelivered / failed."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationStateUpdated(RelayEvent):
    """``signalwire.authorization.state``.

    The core stores the opaque state for resume; it is a credential, so this
    event's ``params`` are always empty and the value never leaves the core.
    """


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEventReceived(RelayEvent):
    """A ``signalwire.event`` type this version does not know."""


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

_RECORD_FLAT_KEYS: Final = ("url", "duration", "size")


def parse_relay_event(event_type: str, params: dict[str, Any], timestamp: float) -> RelayEvent:
    """Build the typed event for one ``signalwire.event`` envelope.

    Args:
        event_type: The envelope's ``event_type``.
        params: The envelope's inner ``params`` (must already be a dict).
        timestamp: The envelope's ``timestamp``.

    Returns:
        The matching :class:`RelayEvent` subclass, or :class:`UnknownEventReceived`.
        Collect results and record results get the seed-friendly
        :class:`FallbackDict` views described in the module docstring.
    """
    cls = EVENT_CLASSES.get(event_type, UnknownEventReceived)
    if cls is CollectResultReceived:
        result = params.get("result")
        if isinstance(result, dict) and not isinstance(result, FallbackDict):
            nested = result.get("params")
            if isinstance(nested, dict):
                params["result"] = FallbackDict(result, nested)
    elif cls is RecordStateChanged:
        if any(k in params for k in _RECORD_FLAT_KEYS):
            record = params.get("record")
            base = record if isinstance(record, dict) else {}
            params["record"] = FallbackDict(
                base, {k: params[k] for k in _RECORD_FLAT_KEYS if k in params}
            )
    elif cls is AuthorizationStateUpdated:
        params = {}
    return cls(event_type=event_type, params=params, timestamp=timestamp)
