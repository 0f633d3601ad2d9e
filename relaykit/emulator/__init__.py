"""The RELAY emulator: a real RELAY server with a simulated telephone world.

Two layers, like the client:

* the **sans-IO server** (:class:`EmulatorServer` and the modules beside it):
  bytes per connection and ``now`` go in, bytes per connection and the next
  timer deadline come out; no I/O, clock or randomness;
* the **runner** (:class:`Emulator`, in ``_runner.py``): sockets, TLS, the
  timer and the HTTP control endpoint on anyio.  It is imported on first use
  of one of its names, so the sans-IO server needs no event-loop library::

      from relaykit.emulator import Caller, Emulator

      async with Emulator(project="p", token="t", time_scale=0.001) as emu:
          ...  # point a client at emu.url
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._core import EmulatorServer
from ._flood import Flood
from ._journal import Journal, JournalEntry
from ._messaging import MessageRecord
from ._schema import METHODS, SchemaError, check
from ._script import Caller, CallRecord, NumberBehavior, Step
from ._sessions import ServerSession
from ._wsserver import ServerWebSocket

if TYPE_CHECKING:
    from ._runner import EmulatedCall, Emulator, FloodResult

#: Names served by the anyio runner, imported lazily (see the module docstring).
_RUNNER_NAMES = frozenset({"EmulatedCall", "Emulator", "FloodResult"})

__all__ = [
    "METHODS",
    "CallRecord",
    "Caller",
    "EmulatedCall",
    "Emulator",
    "EmulatorServer",
    "Flood",
    "FloodResult",
    "Journal",
    "JournalEntry",
    "MessageRecord",
    "NumberBehavior",
    "SchemaError",
    "ServerSession",
    "ServerWebSocket",
    "Step",
    "check",
]


def __getattr__(name: str) -> Any:
    if name in _RUNNER_NAMES:
        from . import _runner

        return getattr(_runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
