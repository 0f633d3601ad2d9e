"""``AnyioRuntime``: the runtime a ``relay_anyio`` client class holds, which picks once per client.

A client calls :meth:`AnyioRuntime.bind` when it starts (``connect()``, or
``run()`` once its loop runs).  On asyncio (and uvloop) that returns the
asyncio-native runtime of :mod:`relay_anyio._asyncio`, bound to the running
loop; anywhere else (trio through anyio) the portable anyio runtime itself.
From then on the client's every clock read, event, lock and task goes straight
to the chosen runtime: nothing re-detects the loop per operation.
"""

from __future__ import annotations

from relaykit.client._runtime import Runtime

from ._anyio import PortableRuntime
from ._asyncio import AsyncioRuntime, running_loop

__all__ = ["AnyioRuntime"]


class AnyioRuntime(PortableRuntime):
    """:class:`~relaykit.client._runtime.Runtime` on anyio (asyncio or trio underneath).

    Unbound (before a client starts, or used directly) it is the portable anyio
    runtime, correct on every backend; :meth:`bind` specialises it per client.

    Args:
        backend: The event loop :meth:`run` starts (``"asyncio"`` or ``"trio"``).
            With ``"asyncio"``, ``RELAYKIT_UVLOOP=1`` selects uvloop when it is
            installed.
        transport: The transport to open connections with (default: the loop's
            own TCP/TLS on asyncio, :class:`~relay_anyio.AnyioTransport` under
            trio; see :class:`relay_anyio.HttpxWsTransport`).
    """

    def bind(self) -> Runtime:
        """The asyncio-native runtime on the running asyncio loop, else this one."""
        loop = running_loop()
        if loop is None:
            return self
        return AsyncioRuntime(loop, self.backend, self.transport)
