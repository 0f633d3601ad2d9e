"""A minimal RELAY test client: anyio socket + wsproto client framing + relay_proto.rpc.

Deliberately tiny and independent of the adapters' high-level API: it answers
server pings and ACKs events (unless told not to), and lets tests send requests
and wait for responses and events.
"""

from __future__ import annotations

import contextlib
import itertools
import ssl
from collections.abc import Callable
from typing import Any

import anyio
import anyio.abc
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

from relay_proto import rpc as _rpc


class Closed(Exception):
    """The server closed the connection."""


class MiniClient:
    """One WebSocket connection to the emulator."""

    def __init__(self, stream: anyio.abc.ByteStream, host: str) -> None:
        self.stream = stream
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.host = host
        self.ids = itertools.count(1)
        self.responses: dict[str | int, _rpc.Response | _rpc.ResponseError] = {}
        self.events: list[dict[str, Any]] = []
        self.server_requests: list[_rpc.Request] = []
        self.raw: list[str | bytes] = []
        self.close_code: int | None = None
        self.close_reason: str = ""
        self.auto_ack = True
        self._changed = anyio.Event()
        self._send_lock = anyio.Lock()  # ACKs from run() and the test's requests
        self._parts: list[str] = []
        self.protocol: str | None = None
        self.authorization_state: str | None = None

    @classmethod
    async def open(cls, url_host: str, tls: ssl.SSLContext | None = None) -> MiniClient:
        """Connect to ``host:port`` and finish the WebSocket handshake."""
        host, _, port = url_host.rpartition(":")
        stream: anyio.abc.ByteStream = await anyio.connect_tcp(
            host, int(port), tls=tls is not None, ssl_context=tls, tls_standard_compatible=False
        )
        client = cls(stream, url_host)
        await client._send(client.ws.send(Request(host=url_host, target="/")))
        while True:
            data = await stream.receive()
            client.ws.receive_data(data)
            for event in client.ws.events():
                if isinstance(event, AcceptConnection):
                    return client
                if isinstance(event, RejectConnection):
                    raise Closed(f"rejected {event.status_code}")

    async def _send(self, data: bytes) -> None:
        # The server may have closed on us (some tests provoke it); reads report it.
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            async with self._send_lock:
                await self.stream.send(data)

    async def send_text(self, text: str) -> None:
        """Send one text message (silently dropped once the connection is closing)."""
        if self.ws.state is ConnectionState.OPEN:
            await self._send(self.ws.send(Message(data=text)))

    async def send_bytes(self, data: bytes) -> None:
        if self.ws.state is ConnectionState.OPEN:
            await self._send(self.ws.send(Message(data=data)))

    async def run(self) -> None:
        """Read loop (run in a task group)."""
        try:
            while True:
                try:
                    data = await self.stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                    self.ws.receive_data(None)
                    data = b""
                else:
                    self.ws.receive_data(data)
                for event in self.ws.events():
                    await self._handle(event)
                self._changed.set()
                self._changed = anyio.Event()
                if not data or self.close_code is not None:
                    if self.close_code is None:
                        self.close_code = 1006
                    return
        finally:
            self._changed.set()

    async def _handle(self, event: object) -> None:
        if isinstance(event, TextMessage):
            self._parts.append(event.data)
            if not event.message_finished:
                return
            text = "".join(self._parts)
            self._parts.clear()
            self.raw.append(text)
            msg = _rpc.decode(text)
            if isinstance(msg, (_rpc.Response, _rpc.ResponseError)):
                if msg.id is not None:
                    self.responses[msg.id] = msg
            elif isinstance(msg, _rpc.Request):
                self.server_requests.append(msg)
                if msg.method == "signalwire.event":
                    self.events.append(msg.params)
                    if msg.params.get("event_type") == "signalwire.authorization.state":
                        self.authorization_state = msg.params["params"]["authorization_state"]
                    if self.auto_ack and msg.id is not None:
                        await self.send_text(_rpc.encode_result(msg.id, {}))
                elif msg.id is not None and self.auto_ack:
                    await self.send_text(_rpc.encode_result(msg.id, {}))
        elif isinstance(event, BytesMessage):
            self.raw.append(bytes(event.data))
        elif isinstance(event, Ping):
            await self._send(self.ws.send(event.response()))
        elif isinstance(event, CloseConnection):
            self.close_code, self.close_reason = event.code, event.reason or ""
            with contextlib.suppress(Exception):
                await self._send(self.ws.send(event.response()))

    async def wait(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        with anyio.fail_after(timeout):
            while not predicate():
                if self.close_code is not None and not predicate():
                    raise Closed(f"closed {self.close_code} {self.close_reason}")
                await self._changed.wait()

    async def request(
        self,
        method: str,
        params: dict[str, Any],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> _rpc.Response | _rpc.ResponseError:
        req_id = f"r-{next(self.ids)}"
        await self.send_text(_rpc.encode_request(req_id, method, params))
        await self.wait(lambda: req_id in self.responses, timeout)
        return self.responses[req_id]

    async def result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Request; assert success; return the result."""
        resp = await self.request(method, params)
        assert isinstance(resp, _rpc.Response), resp
        return resp.result

    async def connect(
        self, project: str = "p", token: str = "t", contexts: list[str] | None = None, **extra: Any
    ) -> _rpc.Response | _rpc.ResponseError:
        params: dict[str, Any] = {
            "version": {"major": 2, "minor": 0, "revision": 0},
            "agent": "relaykit-tests",
            "event_acks": True,
            "authentication": {"project": project, "token": token},
            **extra,
        }
        if contexts:
            params["contexts"] = contexts
        resp = await self.request("signalwire.connect", params)
        if isinstance(resp, _rpc.Response):
            self.protocol = resp.result["protocol"]
        return resp

    def events_of(self, event_type: str, **match: Any) -> list[dict[str, Any]]:
        out = []
        for ev in self.events:
            if ev.get("event_type") != event_type:
                continue
            inner = ev.get("params", {})
            if all(inner.get(k) == v for k, v in match.items()):
                out.append(inner)
        return out

    async def wait_event(
        self,
        event_type: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        **match: Any,
    ) -> dict[str, Any]:
        await self.wait(lambda: bool(self.events_of(event_type, **match)), timeout)
        return self.events_of(event_type, **match)[0]

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(Exception):
                await self._send(self.ws.send(CloseConnection(code=1000)))
            await self.stream.aclose()
