"""``signalwire.relay.constants`` for relay_trio (see :mod:`relaykit.client.constants`)."""

from relaykit.client.constants import *  # noqa: F403
from relaykit.client.constants import __all__ as __all__
