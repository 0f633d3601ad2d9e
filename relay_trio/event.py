"""``signalwire.relay.event`` for relay_trio (see :mod:`relaykit.client.sdk.event`)."""

# For type checkers, which cannot follow sdk.event's computed __all__.
from relaykit.client._events import *  # noqa: F403
from relaykit.client.sdk.event import *  # noqa: F403
from relaykit.client.sdk.event import __all__ as __all__
