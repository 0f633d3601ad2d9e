"""The names of ``signalwire.relay.message``: :class:`Message` and friends."""

from __future__ import annotations

from relaykit.client import (
    MESSAGE_TERMINAL_STATES,
    Message,
    RelayEvent,
)

__all__ = [
    "MESSAGE_TERMINAL_STATES",
    "Message",
    "RelayEvent",
]
