"""``signalwire.relay.message`` for relay_trio (see :mod:`relaykit.client.message`)."""

from relaykit.client.message import *  # noqa: F403
from relaykit.client.message import __all__ as __all__
