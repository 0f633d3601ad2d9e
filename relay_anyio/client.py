"""``signalwire.relay.client`` for relay_anyio: the bound RelayClient, RelayError and friends."""

from relaykit.client.sdk.client import *  # noqa: F403
from relaykit.client.sdk.client import __all__ as _names

from ._client import RelayClient

__all__ = [*_names, "RelayClient"]
