"""WebSocket client framing over ``wsproto``: the bottom layer of the core.

This layer turns socket bytes into complete text messages and back, and does
the WebSocket duties nobody above it should think about: the opening
handshake, answering WebSocket pings with pongs, the close handshake,
refusing binary messages and enforcing the inbound message size cap.

It never raises for bad input.  ``wsproto`` and ``h11`` raise several
exception types for garbage (bad HTTP, bad handshake headers, frames after a
close); they are all converted here into a :class:`WsDead` signal, so the
session layer sees one clean "this socket is unusable" instead of a crash.

:meth:`WebSocketClient.receive_data` returns a list that mixes ``str`` (one
complete text message each, in order) with the small signal objects below.
Plain strings keep the hot path free of wrapper allocations.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final, final

if TYPE_CHECKING:
    from dataclasses import dataclass

    import wsproto
    import wsproto.connection
    import wsproto.events
else:  # the same classes for less import time (see record_class)
    from ._event_base import record_class as dataclass

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "WebSocketClient",
    "WsClosed",
    "WsDead",
    "WsOpened",
    "WsProblem",
    "WsSignal",
]

logger = logging.getLogger("relaykit.core.ws")

#: The official client's inbound cap: 10 MiB per message (all fragments together).
DEFAULT_MAX_MESSAGE_SIZE: Final = 10 * 1024 * 1024

# RFC 6455 close codes we send.
_CLOSE_NORMAL: Final = 1000
_CLOSE_TOO_BIG: Final = 1009


@final
@dataclass(frozen=True, slots=True)
class WsOpened:
    """The server accepted the WebSocket handshake; text messages may flow."""


@final
@dataclass(frozen=True, slots=True)
class WsProblem:
    """Something the peer sent was skipped (e.g. a binary message); the socket is fine."""

    message: str


@final
@dataclass(frozen=True, slots=True)
class WsDead:
    """The socket is unusable (handshake rejected, bad frame, oversized message, EOF)."""

    reason: str


@final
@dataclass(frozen=True, slots=True)
class WsClosed:
    """The WebSocket close handshake finished (either side started it)."""

    code: int
    reason: str


WsSignal = WsOpened | WsProblem | WsDead | WsClosed

_OPENED: Final = WsOpened()


def _import_wsproto() -> None:
    """Import ``wsproto`` into this module, on the first :class:`WebSocketClient`.

    ``wsproto`` (and ``h11`` under it) is most of a client's import time, and a
    program only needs it once it opens a connection (a message-stream
    transport, such as ``httpx``'s, never does): importing ``relay_proto`` must
    not pay for it.
    """
    global wsproto
    import wsproto
    import wsproto.connection
    import wsproto.events


class WebSocketClient:
    """The client side of one WebSocket connection (one instance per socket).

    Args:
        host: Value of the ``Host`` header (may carry ``:port``).
        target: The request target of the handshake (``"/"`` for RELAY).
        max_message_size: Largest inbound message in bytes, counting all fragments.
            A larger one closes the connection with code 1009 and reports
            :class:`WsDead`.

    Call :meth:`start` once, then feed bytes to :meth:`receive_data`, queue text
    with :meth:`send_text`, and collect the bytes to write from :attr:`out`.
    """

    __slots__ = (
        "_done",
        "_fragments",
        "_max",
        "_size",
        "_ws",
        "host",
        "out",
        "target",
    )

    def __init__(self, host: str, target: str, max_message_size: int) -> None:
        self.host = host
        self.target = target
        self._max = max_message_size
        if "wsproto" not in globals():
            _import_wsproto()
        self._ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        #: Bytes waiting to be written; the owner drains it (``data_to_send``).
        self.out = bytearray()
        # Fragments of the text message being reassembled, and its size so far.
        self._fragments: list[str] = []
        self._size = 0
        # Set once the socket is dead or closed: later input is ignored.
        self._done = False

    @property
    def is_open(self) -> bool:
        """True while text messages may be sent (handshake done, no close started)."""
        return self._ws.state is wsproto.connection.ConnectionState.OPEN

    def start(self) -> None:
        """Queue the HTTP upgrade request (the opening handshake)."""
        self.out += self._ws.send(wsproto.events.Request(host=self.host, target=self.target))

    def send_text(self, text: str) -> bool:
        """Queue one text message.

        Returns:
            False (and queues nothing) when the WebSocket is not open.
        """
        if self._ws.state is not wsproto.connection.ConnectionState.OPEN:
            return False
        self.out += self._ws.send(wsproto.events.Message(data=text))
        return True

    def close(self, code: int = _CLOSE_NORMAL, reason: str = "") -> bool:
        """Start the close handshake.

        Returns:
            True when a close frame was queued; the server's reply arrives as
            :class:`WsClosed`.  False when there is nothing to close politely
            (handshake not finished, or already closing).
        """
        if self._ws.state is not wsproto.connection.ConnectionState.OPEN:
            return False
        self.out += self._ws.send(wsproto.events.CloseConnection(code=code, reason=reason))
        return True

    def receive_data(self, data: bytes) -> list[str | WsSignal]:
        """Feed bytes from the socket (``b""`` = end of stream).

        Returns:
            Complete text messages (``str``) and signals, in arrival order.
            Never raises for bad input: it becomes :class:`WsDead`.
        """
        if self._done:
            return []
        if not data and self._ws.state is wsproto.connection.ConnectionState.CONNECTING:
            # End of stream before the handshake finished.
            self._done = True
            return [WsDead("connection closed during the WebSocket handshake")]
        output: list[str | WsSignal] = []
        try:
            self._ws.receive_data(data if data else None)
            text_message = wsproto.events.TextMessage
            for event in self._ws.events():
                if type(event) is text_message:
                    text = self._on_text(event, output)
                    if text is not None:
                        output.append(text)
                elif self._on_other(event, output):
                    break
        except Exception as exc:  # wsproto/h11 raise many types for garbage
            # Bad HTTP, a bad Sec-WebSocket-Accept, an extension we never offered,
            # data after the close...: the socket is unusable.  Never let it escape.
            self._done = True
            output.append(WsDead(f"WebSocket protocol error: {type(exc).__name__}: {exc}"))
        if not data and not self._done:
            # End of stream in a state where wsproto reports nothing.
            self._done = True
            output.append(WsDead("connection closed by peer"))
        return output

    def _on_text(
        self, event: wsproto.events.TextMessage, output: list[str | WsSignal]
    ) -> str | None:
        # Fast path: a whole message in one frame, small enough by character count
        # (a character is at most 4 UTF-8 bytes, so 4*len is an upper bound).
        data = event.data
        if event.message_finished and not self._fragments:
            if len(data) * 4 <= self._max or len(data.encode()) <= self._max:
                return data
            self._too_big(output)
            return None
        self._fragments.append(data)
        self._size += len(data)
        if self._size * 4 > self._max:
            # Only now pay for an exact byte count.
            exact = sum(len(f.encode()) for f in self._fragments)
            if exact > self._max:
                self._too_big(output)
                return None
        if not event.message_finished:
            return None
        text = "".join(self._fragments)
        self._fragments = []
        self._size = 0
        return text

    def _too_big(self, output: list[str | WsSignal]) -> None:
        self._fragments = []
        self._size = 0
        self.close(_CLOSE_TOO_BIG, "message too big")
        self._done = True
        output.append(WsDead(f"inbound message larger than {self._max} bytes"))

    def _on_other(self, event: object, output: list[str | WsSignal]) -> bool:
        """Handle a non-text wsproto event.  Returns True to stop reading."""
        if isinstance(event, wsproto.events.AcceptConnection):
            output.append(_OPENED)
        elif isinstance(event, wsproto.events.BytesMessage):
            # RELAY is text only.  Count the size (a huge binary stream is still
            # a resource attack) and skip the message as a protocol problem.
            self._size += len(event.data)
            if self._size > self._max:
                self._too_big(output)
                return True
            if event.message_finished:
                self._size = 0
                output.append(WsProblem("binary WebSocket message ignored (RELAY is text only)"))
        elif isinstance(event, wsproto.events.Ping):
            # wsproto leaves pongs to us (unlike h2, which auto-ACKs PING frames).
            if self._ws.state is wsproto.connection.ConnectionState.OPEN:
                self.out += self._ws.send(event.response())
        elif isinstance(event, wsproto.events.CloseConnection):
            self._done = True
            state = self._ws.state
            if state is wsproto.connection.ConnectionState.REMOTE_CLOSING:
                # The server started the close handshake: answer it.
                self.out += self._ws.send(event.response())
                output.append(WsClosed(event.code, event.reason or ""))
            elif state is wsproto.connection.ConnectionState.OPEN:
                # wsproto reports a frame it could not parse as a CloseConnection
                # without changing state: close with that code ourselves.
                self.out += self._ws.send(
                    wsproto.events.CloseConnection(code=event.code, reason="")
                )
                output.append(WsDead(f"bad WebSocket frame: {event.reason}"))
            elif event.code == 1006:
                output.append(WsDead("connection closed without a WebSocket close"))
            else:
                output.append(WsClosed(event.code, event.reason or ""))
            return True
        elif isinstance(event, wsproto.events.RejectConnection):
            self._done = True
            output.append(WsDead(f"WebSocket handshake rejected with HTTP {event.status_code}"))
            return True
        # Pong and RejectData need nothing.
        return False
