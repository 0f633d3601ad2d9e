"""``RelayClient`` bound to trio, and the ``open_client`` context manager."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from relaykit import client as api

from ._runtime import TrioRuntime

__all__ = ["RelayClient", "open_client"]


class RelayClient(api.RelayClient):
    __doc__ = api.RelayClient.__doc__
    _runtime = TrioRuntime()


@asynccontextmanager
async def open_client(*args: Any, **kwargs: Any) -> AsyncIterator[RelayClient]:
    """Connect a :class:`RelayClient` for the duration of an ``async with`` block.

    The client's task group (connection driver, call handlers) is opened in the
    caller's task, nested in whatever nursery or cancel scope surrounds the
    block, so cancelling that scope stops the client, and leaving the block
    disconnects it (WebSocket close handshake) even on error::

        async with trio.open_nursery() as nursery:
            async with relay_trio.open_client(contexts=["office"]) as client:
                message = await client.send_message(to_number=..., from_number=..., body="hi")
                await message.wait(30)

    Args:
        *args: Positional arguments of :class:`RelayClient`.
        **kwargs: Keyword arguments of :class:`RelayClient` (``project``, ``token``,
            ``host``, ``url``, ``contexts``, ...).

    Yields:
        The connected client.

    Raises:
        ValueError: Invalid or missing configuration (see :class:`RelayClient`).
        AuthenticationFailed: The server rejected the credentials.
        ConnectionRefusedError: The server could not be reached.
    """
    client = RelayClient(*args, **kwargs)
    await client.connect()
    try:
        yield client
    finally:
        # Not wrapped in a shield here: disconnect() exits the client's task
        # group, which was entered before any scope we could open now; the
        # bounded goodbye is shielded inside disconnect() itself.
        await client.disconnect()
