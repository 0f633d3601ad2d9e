"""The names of ``signalwire.relay.call``: :class:`Call`, the action classes, and the
constants that module re-exports.

A program that does ``from signalwire.relay.call import Call`` runs unchanged as
``from relay_anyio.call import Call`` (or ``relay_trio.call``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

# Every name of relaykit.client, of which __all__ below keeps this module's: one
# list, not an import list and an export list (so ruff cannot tell the names
# are defined: F405 off for this file).  _events and _constants are
# star-imported too, for type checkers, which cannot follow the computed
# __all__ of relaykit.client.
# ruff: noqa: F405
from relaykit.client import *  # noqa: F403
from relaykit.client import RelayEvent
from relaykit.client._constants import *  # noqa: F403
from relaykit.client._events import *  # noqa: F403

#: The type of a ``call.on(...)`` / ``on_completed`` handler (sync or async), as
#: ``signalwire.relay.call`` spells it.
EventHandler = Callable[[RelayEvent], Coroutine[Any, Any, None] | None]

__all__ = [
    "CALL_STATE_ANSWERED",
    "CALL_STATE_CREATED",
    "CALL_STATE_ENDED",
    "CALL_STATE_ENDING",
    "CALL_STATE_RINGING",
    "EVENT_CALL_COLLECT",
    "EVENT_CALL_DETECT",
    "EVENT_CALL_FAX",
    "EVENT_CALL_PAY",
    "EVENT_CALL_PLAY",
    "EVENT_CALL_RECORD",
    "EVENT_CALL_STATE",
    "EVENT_CALL_STREAM",
    "EVENT_CALL_TAP",
    "EVENT_CALL_TRANSCRIBE",
    "PLAY_STATE_ERROR",
    "PLAY_STATE_FINISHED",
    "RECORD_STATE_FINISHED",
    "RECORD_STATE_NO_INPUT",
    "AIAction",
    "Action",
    "Call",
    "CollectAction",
    "DetectAction",
    "EventHandler",
    "FaxAction",
    "PausableAction",
    "PayAction",
    "PlayAction",
    "RecordAction",
    "RelayEvent",
    "StandaloneCollectAction",
    "StoppableAction",
    "StreamAction",
    "TapAction",
    "TranscribeAction",
    "VolumeAction",
    "parse_event",
]
