"""The names of ``signalwire.relay.event``: the typed events under the official SDK's names.

Each name is the same class as the core's past-tense name (``PlayEvent is
PlayStateChanged``); ``EVENT_CLASS_MAP`` maps event types to them.  The event
names are the one list of :mod:`relaykit.client._events` (a module that
star-imports this one for type checkers also star-imports that one).
"""

from __future__ import annotations

from relay_proto import EVENT_CLASSES as EVENT_CLASS_MAP
from relay_proto import RelayEvent
from relaykit.client._events import *  # noqa: F403
from relaykit.client._events import __all__ as _events_all

__all__ = ["EVENT_CLASS_MAP", "RelayEvent", *_events_all]
