"""relay_trio: the relaykit RELAY client on trio, natively (no anyio anywhere).

The same public API as ``relay_anyio`` (the object model of
:mod:`relaykit.client`, re-exported unchanged) with :class:`RelayClient` bound
to :class:`TrioRuntime`: ``trio.open_tcp_stream``/``trio.SSLStream``,
nurseries, ``trio.Event`` and cancel scopes.  Trio-native entry points:
``async with relay_trio.open_client(...) as client:`` inside your own
nursery-structured code, and the blocking ``client.run()`` (``trio.run``).
"""

# Without its extra, say which one to install (rather than fail deep inside an import).
import importlib.util as _util

if _util.find_spec("trio") is None:
    raise ModuleNotFoundError("relay_trio needs trio: pip install 'relaykit[trio]'", name="trio")

from relay_proto import __version__ as __version__
from relaykit.client import *  # noqa: F403
from relaykit.client import __all__ as _api_all

# Spelled out for type checkers, which cannot follow api's computed __all__.
from relaykit.client._constants import *  # noqa: F403
from relaykit.client._events import *  # noqa: F403

from ._client import RelayClient as RelayClient
from ._client import open_client
from ._runtime import TrioRuntime, TrioStream, TrioTransport

__all__ = [
    *_api_all,  # RelayClient among them, bound to TrioRuntime
    "TrioRuntime",
    "TrioStream",
    "TrioTransport",
    "open_client",
]
