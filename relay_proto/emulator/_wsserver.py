"""Server-side WebSocket framing for the emulator, over wsproto (sans-IO).

One :class:`ServerWebSocket` per accepted TCP connection.  Bytes go in, whole
text messages come out; text messages go in, bytes come out.  It completes the
opening handshake on any request target (``/`` or ``/api/relay/ws``), answers
WebSocket pings, reassembles fragmented messages up to ``max_message_size``,
and closes the connection with a reason for everything RELAY does not use
(binary frames, oversized messages, broken framing).
"""

from __future__ import annotations

import logging
from typing import Any, Final

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
from wsproto.utilities import RemoteProtocolError

__all__ = ["CLOSE_MESSAGE_TOO_BIG", "CLOSE_POLICY", "CLOSE_UNSUPPORTED", "ServerWebSocket"]

logger = logging.getLogger("relaykit.emulator")

CLOSE_NORMAL: Final = 1000
CLOSE_GOING_AWAY: Final = 1001
CLOSE_PROTOCOL: Final = 1002
CLOSE_UNSUPPORTED: Final = 1003
CLOSE_POLICY: Final = 1008
CLOSE_MESSAGE_TOO_BIG: Final = 1009
CLOSE_SERVICE_RESTART: Final = 1012


class ServerWebSocket:
    """The server half of one WebSocket connection.

    Args:
        max_message_size: Largest inbound message accepted (bytes of UTF-8 text).
    """

    __slots__ = ("_buffer", "_closed", "_eof", "_max", "_open", "_out", "_parts", "_size", "_ws")

    def __init__(self, max_message_size: int = 10 * 1024 * 1024) -> None:
        self._ws = WSConnection(ConnectionType.SERVER)
        self._out = bytearray()
        self._parts: list[str] = []
        self._size = 0
        self._max = max_message_size
        self._open = False
        self._closed = False
        self._eof = False
        self._buffer: list[str] = []

    @property
    def is_open(self) -> bool:
        """True between a completed handshake and the start of closing."""
        return self._open and not self._closed

    @property
    def is_closed(self) -> bool:
        """True once the connection is closing or closed: the socket can go after a flush."""
        return self._closed

    @property
    def is_finished(self) -> bool:
        """True once the closing handshake completed (or the peer went away)."""
        return self._eof or self._ws.state is ConnectionState.CLOSED

    def receive_data(self, data: bytes) -> list[str]:
        """Feed bytes from the socket (``b""`` = EOF).

        Returns:
            The complete text messages received, in order (none once closing: the
            input is then only read for the peer's close frame).  Never raises: a
            protocol violation queues a close frame and marks the connection closed.
        """
        if not data:
            self._eof = True
        if self._ws.state is ConnectionState.CLOSED:
            return []
        try:
            self._ws.receive_data(data if data else None)
            for event in self._ws.events():
                self._handle(event)
        except RemoteProtocolError as exc:
            logger.info("emulator: WebSocket protocol error from client: %s", exc)
            if exc.event_hint is not None and self._ws.state is ConnectionState.CONNECTING:
                self._out += self._ws.send(exc.event_hint)
            else:
                self.close(CLOSE_PROTOCOL, "protocol error")
            self._closed = True
            self._eof = True  # nothing more worth reading
        if not data:
            self._closed = True
        texts, self._buffer = self._buffer, []
        return [] if self._closed else texts

    def _handle(self, event: object) -> None:
        if isinstance(event, Request):
            self._out += self._ws.send(AcceptConnection())
            self._open = True
        elif isinstance(event, TextMessage):
            if self._closed:
                return
            self._size += len(event.data)
            if self._size > self._max:
                self.close(CLOSE_MESSAGE_TOO_BIG, "message too big")
                return
            self._parts.append(event.data)
            if event.message_finished:
                text = self._parts[0] if len(self._parts) == 1 else "".join(self._parts)
                self._parts.clear()
                self._size = 0
                self._buffer.append(text)
        elif isinstance(event, BytesMessage):
            if not self._closed:
                self.close(CLOSE_UNSUPPORTED, "binary frames are not supported")
        elif isinstance(event, Ping):
            if self._ws.state is ConnectionState.OPEN:
                self._out += self._ws.send(event.response())
        elif isinstance(event, CloseConnection):
            if self._ws.state is ConnectionState.REMOTE_CLOSING:
                self._out += self._ws.send(event.response())
            self._closed = True

    def send_text(self, text: str) -> None:
        """Queue one text message (ignored once closing)."""
        if self._open and not self._closed:
            self._out += self._ws.send(Message(data=text))

    def send_raw_frame(self, payload: str | bytes) -> None:
        """Queue one frame carrying *payload* as is: text for ``str``, binary for ``bytes``."""
        if self._open and not self._closed:
            frame: Message[Any] = Message(data=payload)
            self._out += self._ws.send(frame)

    def send_garbage(self, data: bytes) -> None:
        """Queue raw bytes outside any frame (a broken stream, for fault tests)."""
        if self._open and not self._closed:
            self._out += data

    def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        """Start the closing handshake with *code* and *reason* (once)."""
        if self._closed:
            return
        self._closed = True
        if self._ws.state is ConnectionState.OPEN:
            self._out += self._ws.send(CloseConnection(code=code, reason=reason))
        elif self._ws.state is ConnectionState.CONNECTING:
            self._out += self._ws.send(RejectConnection(status_code=503))

    def data_to_send(self) -> bytes:
        """Everything queued for the socket, coalesced."""
        if not self._out:
            return b""
        data = bytes(self._out)
        self._out.clear()
        return data
