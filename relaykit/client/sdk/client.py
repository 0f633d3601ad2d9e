"""The names of ``signalwire.relay.client`` other than the client class itself.

Each adapter's ``client`` submodule adds its bound :class:`RelayClient`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from relaykit.client import (
    AGENT_STRING,
    DEFAULT_RELAY_HOST,
    EVENT_AUTHORIZATION_STATE,
    EVENT_CALL_DIAL,
    EVENT_CALL_RECEIVE,
    EVENT_CALL_STATE,
    EVENT_MESSAGING_RECEIVE,
    EVENT_MESSAGING_STATE,
    METHOD_SIGNALWIRE_CONNECT,
    METHOD_SIGNALWIRE_DISCONNECT,
    METHOD_SIGNALWIRE_EVENT,
    METHOD_SIGNALWIRE_PING,
    METHOD_SIGNALWIRE_RECEIVE,
    METHOD_SIGNALWIRE_UNRECEIVE,
    PROTOCOL_VERSION,
    RECONNECT_BACKOFF_FACTOR,
    RECONNECT_MAX_AUTH_ATTEMPTS,
    RECONNECT_MAX_DELAY,
    RECONNECT_MIN_DELAY,
    Call,
    Message,
    RelayError,
)

#: The type of an ``on_call`` handler, as ``signalwire.relay.client`` spells it.
CallHandler = Callable[[Call], Coroutine[Any, Any, None]]
#: The type of an ``on_message`` handler, as ``signalwire.relay.client`` spells it.
MessageHandler = Callable[[Message], Coroutine[Any, Any, None]]

__all__ = [
    "AGENT_STRING",
    "DEFAULT_RELAY_HOST",
    "EVENT_AUTHORIZATION_STATE",
    "EVENT_CALL_DIAL",
    "EVENT_CALL_RECEIVE",
    "EVENT_CALL_STATE",
    "EVENT_MESSAGING_RECEIVE",
    "EVENT_MESSAGING_STATE",
    "METHOD_SIGNALWIRE_CONNECT",
    "METHOD_SIGNALWIRE_DISCONNECT",
    "METHOD_SIGNALWIRE_EVENT",
    "METHOD_SIGNALWIRE_PING",
    "METHOD_SIGNALWIRE_RECEIVE",
    "METHOD_SIGNALWIRE_UNRECEIVE",
    "PROTOCOL_VERSION",
    "RECONNECT_BACKOFF_FACTOR",
    "RECONNECT_MAX_AUTH_ATTEMPTS",
    "RECONNECT_MAX_DELAY",
    "RECONNECT_MIN_DELAY",
    "Call",
    "CallHandler",
    "Message",
    "MessageHandler",
    "RelayError",
]
