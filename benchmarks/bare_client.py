"""The reference ceiling: a bare RELAY client that decodes each frame and ACKs it.

No object model, no dispatch, no per-call state: every frame is decoded with the
standard library's ``json`` and every ``signalwire.event`` gets its ACK straight
back, one write per ACK -- the loop every RELAY client starts from.  It does the
bare minimum of the scenarios too (answer each ``calling.call.receive``, send raw
``calling.play`` requests), so it runs the same benchmark as the real clients.

Two transports:

* ``websockets`` (the library the official SDK is built on) when installed --
  this isolates what the official SDK's own layers cost on top of its transport;
* otherwise raw asyncio (``Protocol`` + ``ssl``) with ``wsproto``, the stack
  relaykit's core frames with.

Run by :mod:`benchmarks._child` (``--client bare`` / ``--client bare-wsproto``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ._common import emit
from .sdk_client import WARMUP_PLAYS

__all__ = ["run_bare"]

_ACK_HEAD = '{"jsonrpc":"2.0","id":'
_ACK_TAIL = ',"result":{}}'
_MEDIA = [{"type": "tts", "params": {"text": "benchmark"}}]


class _WebsocketsLink:
    """Send/receive text frames with ``websockets`` (asyncio)."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws

    async def send(self, text: str) -> None:
        await self._ws.send(text)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._ws.__aiter__()  # type: ignore[no-any-return]


class _WsprotoProtocol(asyncio.Protocol):
    """Raw asyncio transport + wsproto framing; received texts go to a queue."""

    def __init__(self, host: str) -> None:
        from wsproto import WSConnection
        from wsproto.connection import ConnectionType

        self._ws = WSConnection(ConnectionType.CLIENT)
        self._host = host
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._parts: list[str] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        from wsproto.events import Request

        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self._ws.send(Request(host=self._host, target="/")))

    def data_received(self, data: bytes) -> None:
        from wsproto.events import (
            AcceptConnection,
            CloseConnection,
            Ping,
            RejectConnection,
            TextMessage,
        )

        self._ws.receive_data(data)
        for event in self._ws.events():
            if isinstance(event, TextMessage):
                self._parts.append(event.data)
                if event.message_finished:
                    self.queue.put_nowait("".join(self._parts))
                    self._parts.clear()
            elif isinstance(event, AcceptConnection):
                self.opened.set_result(None)
            elif isinstance(event, Ping):
                self.write_raw(self._ws.send(event.response()))
            elif isinstance(event, (CloseConnection, RejectConnection)):
                if not self.opened.done():
                    self.opened.set_exception(ConnectionError("handshake rejected"))
                self.queue.put_nowait(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("connection lost"))
        self.queue.put_nowait(None)

    def write_raw(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    async def send(self, text: str) -> None:
        from wsproto.events import TextMessage

        self.write_raw(self._ws.send(TextMessage(data=text)))

    async def __aiter__(self) -> AsyncIterator[str]:
        while True:
            item = await self.queue.get()
            if item is None:
                return
            yield item


async def run_bare(
    *,
    scenario: str,
    host: str,
    project: str,
    token: str,
    context: str,
    count: int,
    ca_file: str | None,
    transport: str = "auto",
) -> None:
    """Connect to ``wss://host`` and run *scenario* (``calls`` or ``roundtrip``).

    Args:
        scenario: ``calls`` (answer and hold every call, ACK everything) or
            ``roundtrip`` (*count* timed sequential ``calling.play`` requests).
        host: ``host:port`` of the emulator.
        project: Project id for ``signalwire.connect``.
        token: Token for ``signalwire.connect``.
        context: The context to receive calls on.
        count: Calls to wait for (``calls``) or timed plays (``roundtrip``).
        ca_file: CA bundle that signs the emulator's certificate (None: system store).
        transport: ``websockets``, ``wsproto`` or ``auto`` (websockets if installed).
    """
    ctx = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    if transport == "auto":
        try:
            import websockets  # noqa: F401

            transport = "websockets"
        except ImportError:
            transport = "wsproto"
    if transport == "websockets":
        from websockets.asyncio.client import connect

        async with connect(
            f"wss://{host}", ssl=ctx, ping_interval=None, max_size=10 * 1024 * 1024
        ) as ws:
            await _session(_WebsocketsLink(ws), scenario, project, token, context, count)
    else:
        loop = asyncio.get_running_loop()
        hostname, _, port = host.rpartition(":")
        tr, proto = await loop.create_connection(
            lambda: _WsprotoProtocol(host), hostname, int(port), ssl=ctx, server_hostname=hostname
        )
        try:
            await proto.opened
            await _session(proto, scenario, project, token, context, count)
        finally:
            tr.close()


async def _session(
    link: Any, scenario: str, project: str, token: str, context: str, count: int
) -> None:
    ids = (str(i) for i in itertools.count(1))
    send: Callable[[str], Awaitable[None]] = link.send
    loads = json.loads
    dumps = json.dumps

    await send(
        dumps(
            {
                "jsonrpc": "2.0",
                "id": "connect",
                "method": "signalwire.connect",
                "params": {
                    "version": {"major": 2, "minor": 0, "revision": 0},
                    "agent": "relaykit-bench-bare/1.0",
                    "event_acks": True,
                    "authentication": {"project": project, "token": token},
                    "contexts": [context],
                },
            }
        )
    )
    frames = link.__aiter__()
    # Wait for the connect result before reporting ready.
    async for raw in frames:
        msg = loads(raw)
        if msg.get("id") == "connect":
            if "error" in msg:
                raise ConnectionError(f"connect rejected: {msg['error']}")
            break
        await _ack(send, msg)
    emit({"ready": True})

    answer_ids: set[str] = set()
    answered = 0
    call: dict[str, Any] | None = None
    async for raw in frames:
        msg = loads(raw)
        method = msg.get("method")
        if method is not None:
            await _ack(send, msg)
            params = msg.get("params") or {}
            if params.get("event_type") == "calling.call.receive":
                inner = params.get("params") or {}
                if scenario == "roundtrip" and call is not None:
                    continue
                call = {"node_id": inner.get("node_id"), "call_id": inner.get("call_id")}
                rid = next(ids)
                answer_ids.add(rid)
                await send(
                    dumps({"jsonrpc": "2.0", "id": rid, "method": "calling.answer", "params": call})
                )
            continue
        rid = msg.get("id")
        if rid in answer_ids:
            answer_ids.discard(rid)
            answered += 1
            if scenario == "calls" and answered == count:
                emit({"answered": answered})
            elif scenario == "roundtrip" and call is not None:
                await _plays(link, frames, send, call, count, ids)
                return


async def _ack(send: Callable[[str], Awaitable[None]], msg: dict[str, Any]) -> None:
    msg_id = msg.get("id")
    if msg_id is not None:
        await send(_ACK_HEAD + json.dumps(msg_id) + _ACK_TAIL)


async def _plays(
    link: Any,
    frames: AsyncIterator[str],
    send: Callable[[str], Awaitable[None]],
    call: dict[str, Any],
    count: int,
    ids: Any,
) -> None:
    clock = time.perf_counter_ns
    latencies: list[int] = []
    for i in range(WARMUP_PLAYS + count):
        rid = next(ids)
        params = dict(call, control_id=f"bare-{rid}", play=_MEDIA)
        t0 = clock()
        await send(
            json.dumps({"jsonrpc": "2.0", "id": rid, "method": "calling.play", "params": params})
        )
        async for raw in frames:
            msg = json.loads(raw)
            if msg.get("method") is not None:
                await _ack(send, msg)
            elif msg.get("id") == rid:
                break
        else:
            raise ConnectionError("connection closed during the round-trip benchmark")
        if i >= WARMUP_PLAYS:
            latencies.append(clock() - t0)
    emit({"latencies_ns": latencies})
