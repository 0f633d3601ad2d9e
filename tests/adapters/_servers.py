"""Tiny loopback servers for the adapter tests (anyio, so they run on either backend).

The WebSocket server is :class:`tests._peers.WsPeer` (the suite's one wsproto
peer) on a loopback socket.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
from anyio.streams.tls import TLSListener
from wsproto.events import Request

from .._peers import WsPeer

_GONE = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError)


async def _listen(
    ssl_context: ssl.SSLContext | None,
) -> tuple[anyio.abc.Listener[anyio.abc.ByteStream], int]:
    tcp = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port: int = tcp.extra(anyio.abc.SocketAttribute.local_port)
    if ssl_context is None:
        return tcp, port
    return TLSListener(tcp, ssl_context, standard_compatible=False), port


@asynccontextmanager
async def echo_server(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """Echo bytes back; on receiving ``b"quit"`` close the connection (client sees EOF)."""

    async def handle(stream: anyio.abc.ByteStream) -> None:
        async with stream:
            try:
                while True:
                    data = await stream.receive()
                    if data == b"quit":
                        return
                    await stream.send(data)
            except _GONE:
                return

    listener, port = await _listen(ssl_context)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        yield port
        tg.cancel_scope.cancel()


class WsServer:
    """What a :func:`ws_server` saw: handshake requests, texts, close codes."""

    def __init__(self, port: int, reject: bool) -> None:
        self.port = port
        self.reject = reject
        self.requests: list[Request] = []
        self.texts: list[str] = []
        self.close_codes: list[int] = []
        self.connection_ended = anyio.Event()

    async def handle(self, stream: anyio.abc.ByteStream) -> None:
        peer = WsPeer("server", reject_status=403 if self.reject else None)
        try:
            async with stream:
                await self._serve(peer, stream)
        finally:
            self.connection_ended.set()

    async def _serve(self, peer: WsPeer, stream: anyio.abc.ByteStream) -> None:
        while True:
            try:
                data = await stream.receive()
            except _GONE:
                return
            handshaking = peer.request is None
            for message in peer.receive(data):
                if isinstance(message, str):
                    self._on_text(peer, message)
            if handshaking and peer.request is not None:
                self.requests.append(peer.request)
            reply = peer.take()
            if reply:
                await stream.send(reply)
            if peer.request is not None and self.reject:
                return
            if peer.close_code is not None:
                self.close_codes.append(peer.close_code)
                return

    def _on_text(self, peer: WsPeer, text: str) -> None:
        """``close-me``: close with 1000; ``big:N``: answer N characters; else echo."""
        self.texts.append(text)
        if text == "close-me":
            peer.close(1000, "bye")
        elif text.startswith("big:"):
            peer.send("x" * int(text[4:]))
        elif text == "binary-then-echo":
            peer.send(b"\x00\x01")
            peer.send(text)
        else:
            peer.send(text)


@asynccontextmanager
async def ws_server(
    ssl_context: ssl.SSLContext | None = None, *, reject: bool = False
) -> AsyncIterator[WsServer]:
    """A wsproto WebSocket server on 127.0.0.1 (``reject``: answer the upgrade with 403)."""
    listener, port = await _listen(ssl_context)
    server = WsServer(port, reject)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, server.handle)
        yield server
        tg.cancel_scope.cancel()


class ConnectProxy:
    """An HTTP CONNECT proxy that records the request lines it tunnelled."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.request_lines: list[str] = []

    async def handle(self, client: anyio.abc.ByteStream) -> None:
        async with client:
            buffer = b""
            try:
                while b"\r\n\r\n" not in buffer:
                    buffer += await client.receive()
            except _GONE:
                return
            head, rest = buffer.split(b"\r\n\r\n", 1)
            line = head.split(b"\r\n", 1)[0].decode("ascii")
            self.request_lines.append(line)
            method, target, _version = line.split(" ")
            if method != "CONNECT":
                await client.send(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            host, port = target.rsplit(":", 1)
            upstream = await anyio.connect_tcp(host, int(port))
            await client.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
            async with upstream, anyio.create_task_group() as tg:
                if rest:
                    await upstream.send(rest)
                tg.start_soon(_pipe, client, upstream, tg.cancel_scope)
                tg.start_soon(_pipe, upstream, client, tg.cancel_scope)


async def _pipe(
    source: anyio.abc.ByteStream, sink: anyio.abc.ByteStream, scope: anyio.CancelScope
) -> None:
    try:
        while True:
            await sink.send(await source.receive())
    except _GONE:
        scope.cancel()


@asynccontextmanager
async def connect_proxy() -> AsyncIterator[ConnectProxy]:
    listener, port = await _listen(None)
    proxy = ConnectProxy(port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, proxy.handle)
        yield proxy
        tg.cancel_scope.cancel()
