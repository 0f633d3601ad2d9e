"""The official SDK's event class names, and ``parse_event``.

``signalwire.relay.event`` names its event classes ``CallStateEvent``,
``PlayEvent``, ...; here they are aliases of the core's past-tense classes
(``PlayEvent is PlayStateChanged``), so ``isinstance`` checks and attribute
reads both work.  :func:`parse_event` builds the typed event of a raw
``signalwire.event`` payload, as the official client's function does.

``__all__`` below is the one list of these names: :mod:`relaykit.client`,
:mod:`relaykit.client.sdk.event` and the adapters re-export it with a star
import (which type checkers follow, as they do not follow a computed
``__all__``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import relay_proto as _core

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
CallStateEvent = _core.CallStateChanged
CallReceiveEvent = _core.CallReceived
PlayEvent = _core.PlayStateChanged
RecordEvent = _core.RecordStateChanged
CollectEvent = _core.CollectResultReceived
ConnectEvent = _core.ConnectStateChanged
DetectEvent = _core.DetectResultReceived
FaxEvent = _core.FaxStateChanged
TapEvent = _core.TapStateChanged
StreamEvent = _core.StreamStateChanged
SendDigitsEvent = _core.SendDigitsStateChanged
DialEvent = _core.DialStateChanged
ReferEvent = _core.ReferStateChanged
DenoiseEvent = _core.DenoiseStateChanged
PayEvent = _core.PayStateChanged
QueueEvent = _core.QueueStateChanged
EchoEvent = _core.EchoStateChanged
TranscribeEvent = _core.TranscribeStateChanged
HoldEvent = _core.HoldStateChanged
AIEvent = _core.AIStateChanged
ConferenceEvent = _core.ConferenceUpdated
CallingErrorEvent = _core.CallingErrorReceived
MessageReceiveEvent = _core.MessageReceived
MessageStateEvent = _core.MessageStateChanged


def parse_event(payload: Mapping[str, Any]) -> _core.RelayEvent:
    """Build the typed event for a ``signalwire.event`` payload (as ``signalwire.relay`` does).

    Args:
        payload: ``{"event_type": ..., "params": {...}, "timestamp": ...}``.

    Returns:
        The matching event class instance (``UnknownEventReceived`` for new types).
    """
    event_type = payload.get("event_type")
    params = payload.get("params")
    timestamp = payload.get("timestamp")
    return _core.parse_relay_event(
        event_type if isinstance(event_type, str) else "",
        dict(params) if isinstance(params, Mapping) else {},
        float(timestamp) if isinstance(timestamp, (int, float)) else 0.0,
    )
