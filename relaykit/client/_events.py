"""The official SDK's event class names, and ``parse_event``.

``signalwire.relay.event`` names its event classes ``CallStateEvent``,
``PlayEvent``, ...; here they are aliases of the core's past-tense classes
(``PlayEvent is PlayStateChanged``), so ``isinstance`` checks and attribute
reads both work.  :func:`parse_event` builds the typed event of a raw
``signalwire.event`` payload, as the official client's function does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relay_proto import (
    AIStateChanged,
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
    parse_relay_event,
)

__all__ = [
    "AIEvent",
    "CallReceiveEvent",
    "CallStateEvent",
    "CallingErrorEvent",
    "CollectEvent",
    "ConferenceEvent",
    "ConnectEvent",
    "DenoiseEvent",
    "DetectEvent",
    "DialEvent",
    "EchoEvent",
    "FaxEvent",
    "HoldEvent",
    "MessageReceiveEvent",
    "MessageStateEvent",
    "PayEvent",
    "PlayEvent",
    "QueueEvent",
    "RecordEvent",
    "ReferEvent",
    "SendDigitsEvent",
    "StreamEvent",
    "TapEvent",
    "TranscribeEvent",
    "parse_event",
]

# The official SDK's event class names (signalwire.relay.event), as aliases of
# the core's event classes: isinstance checks and attribute reads both work.
CallStateEvent = CallStateChanged
CallReceiveEvent = CallReceived
PlayEvent = PlayStateChanged
RecordEvent = RecordStateChanged
CollectEvent = CollectResultReceived
ConnectEvent = ConnectStateChanged
DetectEvent = DetectResultReceived
FaxEvent = FaxStateChanged
TapEvent = TapStateChanged
StreamEvent = StreamStateChanged
SendDigitsEvent = SendDigitsStateChanged
DialEvent = DialStateChanged
ReferEvent = ReferStateChanged
DenoiseEvent = DenoiseStateChanged
PayEvent = PayStateChanged
QueueEvent = QueueStateChanged
EchoEvent = EchoStateChanged
TranscribeEvent = TranscribeStateChanged
HoldEvent = HoldStateChanged
AIEvent = AIStateChanged
ConferenceEvent = ConferenceUpdated
CallingErrorEvent = CallingErrorReceived
MessageReceiveEvent = MessageReceived
MessageStateEvent = MessageStateChanged


def parse_event(payload: Mapping[str, Any]) -> RelayEvent:
    """Build the typed event for a ``signalwire.event`` payload (as ``signalwire.relay`` does).

    Args:
        payload: ``{"event_type": ..., "params": {...}, "timestamp": ...}``.

    Returns:
        The matching event class instance (``UnknownEventReceived`` for new types).
    """
    event_type = payload.get("event_type")
    params = payload.get("params")
    timestamp = payload.get("timestamp")
    return parse_relay_event(
        event_type if isinstance(event_type, str) else "",
        dict(params) if isinstance(params, Mapping) else {},
        float(timestamp) if isinstance(timestamp, (int, float)) else 0.0,
    )
