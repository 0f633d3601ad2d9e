"""relay_proto: the sans-IO core of relaykit (SignalWire RELAY over JSON-RPC/WebSocket).

Bytes and timer ticks go in; bytes to send, typed events and the next deadline
come out.  Nothing here performs I/O, reads a clock or draws randomness.
"""

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
from ._routing import ACTION_KINDS, CallInfo, is_call_scoped
from ._session import DEFAULT_AGENT
from ._state import SessionState
from ._ws import DEFAULT_MAX_MESSAGE_SIZE

__version__ = "0.1.0"

__all__ = [
    "ACTION_KINDS",
    "DEFAULT_AGENT",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "RELAY_VERSION",
    "AuthenticationFailed",
    "CallInfo",
    "CallGoneError",
    "ConnectionLostError",
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
    *_events_all,
]
