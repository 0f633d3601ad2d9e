"""``signalwire.relay.constants`` for relay_anyio (see :mod:`relay_proto.api.constants`)."""

from relay_proto.api.constants import *  # noqa: F403
from relay_proto.api.constants import __all__ as __all__
