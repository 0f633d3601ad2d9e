"""``signalwire.relay.call`` for relay_trio (see :mod:`relaykit.client.sdk.call`)."""

from relaykit.client.sdk.call import *  # noqa: F403
from relaykit.client.sdk.call import __all__ as __all__
