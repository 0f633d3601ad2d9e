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

__version__ = "0.1.0"

__all__ = ["__version__"]
