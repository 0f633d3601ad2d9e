"""``signalwire.relay.call`` for relay_trio (see :mod:`relay_proto.api.call`)."""

from relay_proto.api.call import *  # noqa: F403
from relay_proto.api.call import __all__ as __all__
