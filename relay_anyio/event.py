"""``signalwire.relay.event`` for relay_anyio (see :mod:`relaykit.client.event`)."""

from relaykit.client.event import *  # noqa: F403
from relaykit.client.event import __all__ as __all__
