"""``signalwire.relay.constants`` for relay_anyio (see :mod:`relaykit.client.sdk.constants`)."""

from relaykit.client.sdk.constants import *  # noqa: F403
from relaykit.client.sdk.constants import __all__ as __all__
