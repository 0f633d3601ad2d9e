"""relay_proto: the sans-IO core of relaykit (SignalWire RELAY over JSON-RPC/WebSocket).

Bytes and timer ticks go in; bytes to send, typed events and the next deadline
come out.  Nothing here performs I/O, reads a clock or draws randomness; ids and
jitter come from callables passed in.  This package is the core and nothing
else: the object model (``relaykit.client``), the emulator (``relaykit.emulator``)
and the event-loop bindings (``relay_anyio``, ``relay_trio``) import only the
names below and the public codec module :mod:`relay_proto.rpc`.
"""

from . import rpc
from ._actions import ACTION_KINDS, ACTION_SPECS, ACTION_SPECS_BY_METHOD, ActionSpec
from ._backoff import BACKOFF_FACTOR, BACKOFF_MAX, BACKOFF_MIN, BACKOFF_RESET_AFTER
from ._connection import RelayConnection
from ._credentials import RELAY_VERSION
from ._errors import (
    AuthenticationFailed,
    CallGoneError,
    ConnectionLostError,
    LocalProtocolError,
    ProtocolError,
    QueueFullError,
    RelayError,
    RelayLocalError,
    RelayServerError,
    RelayTimeoutError,
    RemoteProtocolError,
)
from ._events import *  # noqa: F403
from ._events import __all__ as _events_all
from ._recent import MAX_RECENT_CALLS, MAX_RECENT_EVENT_IDS, MAX_RECENT_MESSAGES
from ._routing import OVER_CAPACITY_POLICIES, CallInfo, is_call_scoped
from ._session import (
    DEFAULT_AGENT,
    DEFAULT_PING_INTERVAL,
    MAX_AUTH_REJECTIONS,
    SERVER_PING_WATCHDOG,
    ConnectionStats,
)
from ._state import SessionState
from ._ws import DEFAULT_MAX_MESSAGE_SIZE

__version__ = "0.1.0"

__all__ = [
    "ACTION_KINDS",
    "ACTION_SPECS",
    "ACTION_SPECS_BY_METHOD",
    "BACKOFF_FACTOR",
    "BACKOFF_MAX",
    "BACKOFF_MIN",
    "BACKOFF_RESET_AFTER",
    "DEFAULT_AGENT",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_PING_INTERVAL",
    "MAX_AUTH_REJECTIONS",
    "MAX_RECENT_CALLS",
    "MAX_RECENT_EVENT_IDS",
    "MAX_RECENT_MESSAGES",
    "OVER_CAPACITY_POLICIES",
    "RELAY_VERSION",
    "SERVER_PING_WATCHDOG",
    "ActionSpec",
    "AuthenticationFailed",
    "CallInfo",
    "CallGoneError",
    "ConnectionLostError",
    "ConnectionStats",
    "LocalProtocolError",
    "ProtocolError",
    "QueueFullError",
    "RelayConnection",
    "RelayError",
    "RelayLocalError",
    "RelayServerError",
    "RelayTimeoutError",
    "RemoteProtocolError",
    "SessionState",
    "__version__",
    "is_call_scoped",
    "rpc",
    *_events_all,
]
