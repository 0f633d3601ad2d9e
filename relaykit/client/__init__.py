"""relaykit.client: the user-facing object model, written once for every event loop.

``RelayClient``, ``Call``, ``Message``, the actions and the connection driver
live here and import no event-loop library (nor socket, ssl, time, threading,
random or uuid).  Everything that needs the loop goes through the small
:class:`~relaykit.client.Runtime` interface (``_runtime.py``), which each
adapter implements.

Binding an adapter
==================

An adapter binds the object model with **one class attribute**, on a subclass
of :class:`RelayClient`::

    from relaykit import client as api
    from ._runtime import AnyioRuntime

    class RelayClient(api.RelayClient):
        __doc__ = api.RelayClient.__doc__
        _runtime = AnyioRuntime()

and re-exports everything else unchanged::

    from relaykit.client import Call, Message, PlayAction, ..., EVENT_CALL_STATE, ...
    from relaykit.client import __all__ as _api_all   # the complete public list

``Call``, ``Message`` and the actions are *not* subclassed: they reach the
runtime through the client that created them (``call._client._runtime``), so
``isinstance(x, relay_anyio.Call)`` and ``isinstance(x, relay_trio.Call)``
are the same check.  The runtime supplies the clock, events, locks, cancel
scopes, task groups, signals, ``run()`` for the blocking ``client.run()``, the
default transport, and the two things the core may not compute itself:
``make_id()`` (UUIDv4 strings for request ids, control ids and dial tags) and
``jitter()`` (``random.random`` for reconnect backoff).

Instantiating ``relaykit.client.RelayClient`` directly raises ``TypeError``.

A program written for ``signalwire.relay`` runs with only its import line
changed: every name it imports (``RelayClient``, ``RelayError``, ``Call``,
``Message``, the actions, the event classes under the official names such as
``CallStateEvent`` and ``PlayEvent``, ``parse_event``, and the ``EVENT_*``,
``CALL_STATE_*``, ``CONNECT_STATE_*``, ``MESSAGE_STATE_*`` constants) is in
``__all__`` below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relay_proto import (
    AIStateChanged,
    AuthenticationFailed,
    CallGoneError,
    CallingErrorReceived,
    CallReceived,
    CallStateChanged,
    CollectResultReceived,
    ConferenceUpdated,
    ConnectionLostError,
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
    QueueFullError,
    QueueStateChanged,
    RecordStateChanged,
    ReferStateChanged,
    RelayError,
    RelayEvent,
    RelayLocalError,
    RelayServerError,
    RelayTimeoutError,
    SendDigitsStateChanged,
    StreamStateChanged,
    TapStateChanged,
    TranscribeStateChanged,
    parse_relay_event,
)

from ._actions import (
    Action,
    AIAction,
    CollectAction,
    DetectAction,
    FaxAction,
    PausableAction,
    PayAction,
    PlayAction,
    RecordAction,
    StandaloneCollectAction,
    StoppableAction,
    StreamAction,
    TapAction,
    TranscribeAction,
    VolumeAction,
)
from ._call import Call
from ._client import RelayClient
from ._constants import *  # noqa: F403
from ._constants import __all__ as _constants_all
from ._message import Message
from ._runtime import (
    AsyncEvent,
    AsyncLock,
    CancelScope,
    GroupTaskPool,
    Runtime,
    TaskGroup,
    TaskPool,
    Transport,
    TransportClosed,
)

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


__all__ = [
    "AIAction",
    "PausableAction",
    "StoppableAction",
    "VolumeAction",
    "AIEvent",
    "Action",
    "AsyncEvent",
    "AsyncLock",
    "AuthenticationFailed",
    "Call",
    "CallGoneError",
    "CallReceiveEvent",
    "CallReceived",
    "CallStateChanged",
    "CallStateEvent",
    "CallingErrorEvent",
    "CallingErrorReceived",
    "CancelScope",
    "CollectAction",
    "CollectEvent",
    "CollectResultReceived",
    "ConferenceEvent",
    "ConferenceUpdated",
    "ConnectEvent",
    "ConnectStateChanged",
    "ConnectionLostError",
    "DenoiseEvent",
    "DenoiseStateChanged",
    "DetectAction",
    "DetectEvent",
    "DetectResultReceived",
    "DialEvent",
    "DialStateChanged",
    "EchoEvent",
    "EchoStateChanged",
    "FaxAction",
    "FaxEvent",
    "FaxStateChanged",
    "HoldEvent",
    "HoldStateChanged",
    "Message",
    "MessageReceiveEvent",
    "MessageReceived",
    "MessageStateChanged",
    "MessageStateEvent",
    "PayAction",
    "PayEvent",
    "PayStateChanged",
    "PlayAction",
    "PlayEvent",
    "PlayStateChanged",
    "QueueEvent",
    "QueueFullError",
    "QueueStateChanged",
    "RecordAction",
    "RecordEvent",
    "RecordStateChanged",
    "ReferEvent",
    "ReferStateChanged",
    "RelayClient",
    "RelayError",
    "RelayEvent",
    "RelayLocalError",
    "RelayServerError",
    "RelayTimeoutError",
    "Runtime",
    "SendDigitsEvent",
    "SendDigitsStateChanged",
    "StandaloneCollectAction",
    "StreamAction",
    "StreamEvent",
    "StreamStateChanged",
    "TapAction",
    "TapEvent",
    "TapStateChanged",
    "GroupTaskPool",
    "TaskGroup",
    "TaskPool",
    "TranscribeAction",
    "TranscribeEvent",
    "TranscribeStateChanged",
    "Transport",
    "TransportClosed",
    "parse_event",
    *_constants_all,
]
