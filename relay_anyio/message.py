"""``signalwire.relay.message`` for relay_anyio (see :mod:`relaykit.client.sdk.message`)."""

from relaykit.client.sdk.message import *  # noqa: F403
from relaykit.client.sdk.message import __all__ as __all__
