"""relay_proto: the sans-IO core of relaykit (SignalWire RELAY over JSON-RPC/WebSocket).

Bytes and timer ticks go in; bytes to send, typed events and the next deadline
come out.  Nothing here performs I/O, reads a clock or draws randomness.
"""

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

__version__ = "0.1.0"

__all__ = [
    "AuthenticationFailed",
    "CallGoneError",
    "ConnectionLostError",
    "LocalProtocolError",
    "ProtocolError",
    "QueueFullError",
    "RelayError",
    "RelayLocalError",
    "RelayServerError",
    "RelayTimeoutError",
    "RemoteProtocolError",
    "__version__",
    *_events_all,
]
