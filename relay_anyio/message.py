"""``signalwire.relay.message`` for relay_anyio (see :mod:`relay_proto.api.message`)."""

from relay_proto.api.message import *  # noqa: F403
from relay_proto.api.message import __all__ as __all__
