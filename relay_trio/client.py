"""``signalwire.relay.client`` for relay_trio: the bound RelayClient, RelayError and friends."""

from relay_proto.api.client import *  # noqa: F403
from relay_proto.api.client import __all__ as _names

from ._client import RelayClient

__all__ = [*_names, "RelayClient"]
