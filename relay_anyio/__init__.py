"""relay_anyio: the relaykit RELAY client on anyio (asyncio, or trio through anyio).

A program written for ``signalwire.relay`` runs with only its import line
changed.  Everything below is the object model of :mod:`relaykit.client`,
re-exported unchanged, with :class:`RelayClient` bound to :class:`AnyioRuntime`
(the default TCP/TLS transport; pass ``transport=HttpxWsTransport()`` to go
through httpx and its proxy settings).
"""

from __future__ import annotations

# Without its extra, say which one to install (rather than fail deep inside an import).
import importlib.util as _util
from typing import TYPE_CHECKING, Any

if _util.find_spec("anyio") is None:
    raise ModuleNotFoundError(
        "relay_anyio needs anyio: pip install 'relaykit[anyio]'", name="anyio"
    )

from relay_proto import __version__ as __version__
from relaykit.client import *  # noqa: F403
from relaykit.client import __all__ as _api_all

# Spelled out for type checkers, which cannot follow api's computed __all__.
from relaykit.client._constants import *  # noqa: F403
from relaykit.client._events import *  # noqa: F403

from ._anyio import AnyioStream, AnyioTransport
from ._client import RelayClient as RelayClient
from ._runtime import AnyioRuntime

if TYPE_CHECKING:
    from ._httpx import HttpxWsTransport

__all__ = [
    *_api_all,  # RelayClient among them, bound to AnyioRuntime
    "AnyioRuntime",
    "AnyioStream",
    "AnyioTransport",
    "HttpxWsTransport",
]


def __getattr__(name: str) -> Any:
    # HttpxWsTransport is imported on first use: its module imports wsproto's
    # exceptions (and the proxy users who need it are few), which a client on
    # the default transport must not pay for at import time.
    if name == "HttpxWsTransport":
        from ._httpx import HttpxWsTransport

        globals()[name] = HttpxWsTransport
        return HttpxWsTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
