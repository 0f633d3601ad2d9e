"""Per-call progress events: actions (play, record, collect...) and call features.

Each class reads its fields lazily and tolerantly from the raw ``params`` (see
:mod:`._event_base`).  Where the public frames of the corpus disagree with the
protocol reference, the accessors read both shapes; each such place says so.
When an action *ends* is not decided here but in :mod:`._actions` (one row per
action kind); the ``is_final`` / ``outcome`` helpers here are the readings that
table uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, final

from ._event_base import FallbackDict, RelayEvent, _float, _int, _num, _obj, _str, _text

__all__ = [
    "AIStateChanged",
    "CollectResultReceived",
    "DenoiseStateChanged",
    "DetectResultReceived",
    "EchoStateChanged",
    "FaxStateChanged",
    "HoldStateChanged",
    "PayStateChanged",
    "PlayStateChanged",
    "QueueStateChanged",
    "RecordStateChanged",
    "ReferStateChanged",
    "SendDigitsStateChanged",
    "StreamStateChanged",
    "TapStateChanged",
    "TranscribeStateChanged",
]

_RECORD_FLAT_KEYS: Final = ("url", "duration", "size")
# Collect result types that end the collect whatever ``final``/``state`` say:
# the platform's own end markers (corpus: "finished" and "error" result types).
_COLLECT_END_TYPES: Final = frozenset({"finished", "error"})
# Result types that end a collect unless the server says more follow
# (``final: false``) or the collect is continuous (``state: "collecting"``).
_COLLECT_RESULT_TYPES: Final = frozenset({"digit", "speech", "no_input", "no_match"})
_COLLECT_END_STATES: Final = frozenset({"finished", "error", "no_input", "no_match"})
#: Pay progress (the ``for`` field) that ends a payment, and what it means.
PAY_OUTCOMES: Final[Mapping[str, str]] = {
    "payment-completed": "completed",
    "payment-failed": "failed",
    "payment-canceled": "canceled",
}


@final
class PlayStateChanged(RelayEvent):
    """``calling.call.play``: playing, paused, finished, error."""

    __slots__ = ()


@final
class RecordStateChanged(RelayEvent):
    """``calling.call.record``: recording, paused, finished, no_input, error.

    The finished payload carries ``url``/``duration``/``size`` at the top
    level or nested in ``record`` (the corpus has both); the accessors read
    either, top level first.
    """

    __slots__ = ()

    @classmethod
    def _build(
        cls, event_type: str, params: dict[str, Any], timestamp: float
    ) -> RecordStateChanged:
        # The seed docs read event.params["record"]["url"]; the wire may put url
        # at the top level.  Let the nested object answer for the flat keys.
        if any(k in params for k in _RECORD_FLAT_KEYS):
            record = params.get("record")
            if not isinstance(record, FallbackDict):
                base = record if isinstance(record, dict) else {}
                params["record"] = FallbackDict(
                    base, {k: params[k] for k in _RECORD_FLAT_KEYS if k in params}
                )
        return cls(event_type, params, timestamp=timestamp)

    def _either(self, key: str) -> Any:
        """The top-level value of *key*, else the one nested in ``record``."""
        value = self.params.get(key)
        return value if value is not None else _obj(self.params, "record").get(key)

    @property
    def url(self) -> str:
        return _str(self.params, "url") or _str(self.record, "url")

    @property
    def duration(self) -> float:
        """Seconds; ``15``, ``15.5`` or ``"15"`` as sent, top level or nested."""
        number = _num(self._either("duration"))
        return 0.0 if number is None else number

    @property
    def size(self) -> int:
        number = _num(self._either("size"))
        return int(number) if number is not None and number.is_integer() else 0

    @property
    def recording_id(self) -> str:
        return _str(self.params, "recording_id") or _str(self.record, "recording_id")

    @property
    def start_time(self) -> float:
        return _float(self.params, "start_time")

    @property
    def end_time(self) -> float:
        return _float(self.params, "end_time")

    @property
    def record(self) -> Mapping[str, Any]:
        return _obj(self.params, "record")


@final
class CollectResultReceived(RelayEvent):
    """``calling.call.collect``: a (possibly partial) collect result."""

    __slots__ = ()

    @classmethod
    def _build(
        cls, event_type: str, params: dict[str, Any], timestamp: float
    ) -> CollectResultReceived:
        # The seed docs read result["digits"]; the wire nests it in result.params.
        result = params.get("result")
        if isinstance(result, dict) and not isinstance(result, FallbackDict):
            nested = result.get("params")
            if isinstance(nested, dict):
                params["result"] = FallbackDict(result, nested)
        return cls(event_type, params, timestamp=timestamp)

    @property
    def result(self) -> Mapping[str, Any]:
        return _obj(self.params, "result")

    @property
    def type(self) -> str:
        """``digit``, ``speech``, ``no_input``, ``no_match``, ``start_of_input``,
        ``finished`` or ``error``."""
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
        """As sent: the sources use both 0-100 (83.4) and 0-1 (0.95) scales."""
        return _float(_obj(self.result, "params"), "confidence")

    @property
    def final(self) -> bool | None:
        value = self.params.get("final")
        return value if isinstance(value, bool) else None

    @property
    def is_final(self) -> bool:
        """True when this result ends a collect (protocol reference §6.6, and the corpus).

        ``finished`` and ``error`` results always end it; a digit, speech,
        no-input or no-match result ends it unless ``final`` is false or the
        collect is continuous (``state: "collecting"``); without a result, a
        terminal ``state`` ends it.
        """
        kind = self.type
        if kind in _COLLECT_END_TYPES:
            return True
        if kind in _COLLECT_RESULT_TYPES:
            return self.params.get("final") is not False and self.state != "collecting"
        return not kind and self.state in _COLLECT_END_STATES


@final
class DetectResultReceived(RelayEvent):
    """``calling.call.detect``: progress and result live in ``detect.params.event``."""

    __slots__ = ()

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
        """True only when a beep was detected (the field is absent otherwise)."""
        return _obj(self.detect, "params").get("beep") is True

    @property
    def segment_id(self) -> str:
        return _str(self.params, "segment_id")


@final
class FaxStateChanged(RelayEvent):
    """``calling.call.fax``: progress in ``fax.type`` (page, finished, error)."""

    __slots__ = ()

    @property
    def fax(self) -> Mapping[str, Any]:
        return _obj(self.params, "fax")

    @property
    def type(self) -> str:
        return _str(self.fax, "type")

    @property
    def success(self) -> bool:
        return _obj(self.fax, "params").get("success") is True

    @property
    def pages(self) -> int:
        """Pages so far / in all; the sources send ``3`` and ``"1"`` alike."""
        return _int(_obj(self.fax, "params"), "pages")

    @property
    def result(self) -> str:
        """The fax result code as text (sent as ``0`` or ``"1231"``)."""
        return _text(_obj(self.fax, "params"), "result")

    @property
    def result_text(self) -> str:
        return _str(_obj(self.fax, "params"), "result_text")

    @property
    def document(self) -> str:
        return _str(_obj(self.fax, "params"), "document")


@final
class TapStateChanged(RelayEvent):
    """``calling.call.tap``: tapping, finished."""

    __slots__ = ()

    @property
    def tap(self) -> Mapping[str, Any]:
        """What is tapped: ``{"type": "audio", "params": {"direction": ...}}``."""
        return _obj(self.params, "tap")

    @property
    def device(self) -> Mapping[str, Any]:
        """Where it goes: ``{"type": "rtp"|"ws", "params": {...}}`` (ports may be strings)."""
        return _obj(self.params, "device")


@final
class StreamStateChanged(RelayEvent):
    """``calling.call.stream``: streaming, finished."""

    __slots__ = ()

    @property
    def url(self) -> str:
        return _str(self.params, "url")

    @property
    def name(self) -> str:
        return _str(self.params, "name")


@final
class SendDigitsStateChanged(RelayEvent):
    """``calling.call.send_digits``: finished."""

    __slots__ = ()


@final
class PayStateChanged(RelayEvent):
    """``calling.call.pay``.

    The platform sends no ``state``: progress is in ``for``
    (``payment-card-number``, ..., ``payment-completed``, ``payment-failed``,
    ``payment-canceled``), with ``error_type``, ``payment_method`` and masked
    card fields.
    """

    __slots__ = ()

    @property
    def progress(self) -> str:
        """The raw ``for`` field (``"payment-card-number"``, ``"payment-completed"``...)."""
        return _str(self.params, "for")

    @property
    def outcome(self) -> str:
        """How the payment ended: ``completed``, ``failed``, ``canceled``; ``""`` while running.

        Read from ``for``; a ``state`` of ``finished``/``error`` (the protocol
        reference's shape, seen only in SDK-written frames) reads as
        ``completed``/``failed``.
        """
        outcome = PAY_OUTCOMES.get(self.progress)
        if outcome is not None:
            return outcome
        state = self.state
        return "completed" if state == "finished" else "failed" if state == "error" else ""

    @property
    def error_type(self) -> str:
        return _str(self.params, "error_type")

    @property
    def payment_method(self) -> str:
        return _str(self.params, "payment_method")


@final
class QueueStateChanged(RelayEvent):
    """``calling.call.queue``: ``status`` is ``enqueue``, ``leave`` or ``dequeue``.

    ``dequeue`` (the caller was bridged) arrives with ``control_id: null``;
    timestamps (``enqueue_ts``...) are in microseconds.
    """

    __slots__ = ()

    @property
    def status(self) -> str:
        return _str(self.params, "status")

    @property
    def queue_id(self) -> str:
        return _str(self.params, "id")

    @property
    def queue_name(self) -> str:
        return _str(self.params, "name")

    @property
    def position(self) -> int:
        return _int(self.params, "position")

    @property
    def size(self) -> int:
        return _int(self.params, "size")

    @property
    def avg_time(self) -> float:
        return _float(self.params, "avg_time")


@final
class TranscribeStateChanged(RelayEvent):
    """``calling.call.transcribe``."""

    __slots__ = ()

    @property
    def url(self) -> str:
        return _str(self.params, "url")

    @property
    def recording_id(self) -> str:
        return _str(self.params, "recording_id")

    @property
    def duration(self) -> float:
        return _float(self.params, "duration")

    @property
    def size(self) -> int:
        return _int(self.params, "size")


@final
class AIStateChanged(RelayEvent):
    """``calling.call.ai`` (unconfirmed on the real server; tolerated)."""

    __slots__ = ()


@final
class ReferStateChanged(RelayEvent):
    """``calling.call.refer``: ``state: "success"`` with SIP codes as strings."""

    __slots__ = ()

    @property
    def sip_refer_to(self) -> str:
        return _str(self.params, "sip_refer_to")

    @property
    def sip_refer_response_code(self) -> str:
        return _text(self.params, "sip_refer_response_code")

    @property
    def sip_notify_response_code(self) -> str:
        return _text(self.params, "sip_notify_response_code")


@final
class DenoiseStateChanged(RelayEvent):
    """``calling.call.denoise``: ``denoised`` true/false."""

    __slots__ = ()

    @property
    def denoised(self) -> bool:
        return self.params.get("denoised") is True


@final
class EchoStateChanged(RelayEvent):
    """``calling.call.echo``."""

    __slots__ = ()


@final
class HoldStateChanged(RelayEvent):
    """``calling.call.hold``."""

    __slots__ = ()
