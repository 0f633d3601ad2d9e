"""relaykit.client: the user-facing object model, written once for every event loop.

``RelayClient``, ``Call``, ``Message``, the actions and the connection driver
live here and import no event-loop library (nor socket, ssl, time, threading,
random or uuid).  Everything that needs the loop goes through the small
``Runtime`` interface (:mod:`relaykit.client._runtime`), which each adapter
implements.

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
runtime through the client that created them (its dispatcher), so
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
``__all__`` below.  The submodules of ``signalwire.relay`` (``call``,
``client``, ``constants``, ``event``, ``message``) are in :mod:`relaykit.client.sdk`.

The adapter-author protocols (``Runtime``, ``TaskPool``, ``GroupTaskPool``,
``CancelScope``, ``ByteStream``, ``MessageStream``, ``AsyncLock``, ``AsyncEvent``,
``TaskGroup``, ``Transport``, ``TransportClosed``) are importable from here and
from :mod:`relaykit.client._runtime`, but they are not in ``__all__``: a star
import (the adapters' drop-in ``signalwire.relay`` namespace) does not carry them.
"""

from __future__ import annotations

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
from ._events import *  # noqa: F403
from ._events import __all__ as _events_all
from ._message import Message

# Adapter-author protocols: importable here, deliberately not in __all__.
from ._runtime import AsyncEvent as AsyncEvent
from ._runtime import AsyncLock as AsyncLock
from ._runtime import CancelScope as CancelScope
from ._runtime import GroupTaskPool as GroupTaskPool
from ._runtime import Runtime as Runtime
from ._runtime import TaskGroup as TaskGroup
from ._runtime import TaskPool as TaskPool
from ._runtime import Transport as Transport
from ._runtime import TransportClosed as TransportClosed

__all__ = [
    "AIAction",
    "AIStateChanged",
    "Action",
    "AuthenticationFailed",
    "Call",
    "CallGoneError",
    "CallReceived",
    "CallStateChanged",
    "CallingErrorReceived",
    "CollectAction",
    "CollectResultReceived",
    "ConferenceUpdated",
    "ConnectStateChanged",
    "ConnectionLostError",
    "DenoiseStateChanged",
    "DetectAction",
    "DetectResultReceived",
    "DialStateChanged",
    "EchoStateChanged",
    "FaxAction",
    "FaxStateChanged",
    "HoldStateChanged",
    "Message",
    "MessageReceived",
    "MessageStateChanged",
    "PausableAction",
    "PayAction",
    "PayStateChanged",
    "PlayAction",
    "PlayStateChanged",
    "QueueFullError",
    "QueueStateChanged",
    "RecordAction",
    "RecordStateChanged",
    "ReferStateChanged",
    "RelayClient",
    "RelayError",
    "RelayEvent",
    "RelayLocalError",
    "RelayServerError",
    "RelayTimeoutError",
    "SendDigitsStateChanged",
    "StandaloneCollectAction",
    "StoppableAction",
    "StreamAction",
    "StreamStateChanged",
    "TapAction",
    "TapStateChanged",
    "TranscribeAction",
    "TranscribeStateChanged",
    "VolumeAction",
    *_events_all,  # the official SDK's event names (CallStateEvent, ...) and parse_event
    *_constants_all,
]
