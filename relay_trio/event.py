"""``signalwire.relay.event`` for relay_trio (see :mod:`relay_proto.api.event`)."""

from relay_proto.api.event import *  # noqa: F403
from relay_proto.api.event import __all__ as __all__
