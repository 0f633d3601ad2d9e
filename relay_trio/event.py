"""``signalwire.relay.event`` for relay_trio (see :mod:`relaykit.client.sdk.event`)."""

from relaykit.client.sdk.event import *  # noqa: F403
from relaykit.client.sdk.event import __all__ as __all__
