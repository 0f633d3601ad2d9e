"""``RelayClient`` bound to anyio."""

from __future__ import annotations

from relaykit import client as api

from ._runtime import AnyioRuntime

__all__ = ["RelayClient"]


class RelayClient(api.RelayClient):
    __doc__ = api.RelayClient.__doc__
    _runtime = AnyioRuntime()
