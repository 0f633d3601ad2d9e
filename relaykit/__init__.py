"""relaykit: a SignalWire RELAY client, its object model, emulator and tools.

The distribution has four packages, each a layer (``docs/architecture.md``):

* ``relay_proto``: the sans-IO core (bytes and ``now`` in; bytes, events and
  deadlines out);
* ``relaykit.client``: the object model (``RelayClient``, ``Call``, actions,
  ``Message``, the connection driver and the ``Runtime`` interface), written
  once and importing no event-loop library;
* ``relaykit.emulator``: the RELAY emulator (a sans-IO server plus an anyio
  runner), and ``relaykit`` the command-line tool;
* ``relay_anyio`` and ``relay_trio``: the bindings you import in a program.
"""

from __future__ import annotations

from typing import Any

__all__ = ["__version__"]

#: The distribution's version; its one source is ``relay_proto.__version__`` (the
#: core imports no other package), read on first use so that ``import relaykit``
#: costs nothing.
__version__: str


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from relay_proto import __version__

        return __version__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
