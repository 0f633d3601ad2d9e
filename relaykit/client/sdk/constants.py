"""The names of ``signalwire.relay.constants`` (and a few more of our own)."""

from .._constants import *  # noqa: F403
from .._constants import __all__ as __all__
