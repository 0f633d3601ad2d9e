"""The sans-IO RELAY emulator: the server side of the session and a simulated world.

No I/O, clock or randomness here (see ``relay_anyio.emulator`` for the runnable
server).  :class:`EmulatorServer` takes bytes per connection and ``now``; it
returns bytes per connection and its next timer deadline.
"""

from ._calls import EmulatorServer, MessageRecord
from ._core import Flood, ServerCore, Session
from ._journal import Journal, JournalEntry
from ._schema import METHODS, SchemaError, check
from ._script import Caller, CallRecord, NumberBehavior, Step
from ._wsserver import ServerWebSocket

__all__ = [
    "METHODS",
    "CallRecord",
    "Caller",
    "EmulatorServer",
    "Flood",
    "Journal",
    "JournalEntry",
    "MessageRecord",
    "NumberBehavior",
    "SchemaError",
    "ServerCore",
    "ServerWebSocket",
    "Session",
    "Step",
    "check",
]
