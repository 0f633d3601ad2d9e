"""``signalwire.relay.call`` for relay_trio (see :mod:`relaykit.client.call`)."""

from relaykit.client.call import *  # noqa: F403
from relaykit.client.call import __all__ as __all__
