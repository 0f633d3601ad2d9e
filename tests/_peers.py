"""The one WebSocket test peer: wsproto in either role, sans-IO, independent of relay_proto.

Every test that needs "the other end of a WebSocket" builds on :class:`WsPeer`:
the core's fake RELAY server (``tests/core/helpers.py``), the adapters' loopback
servers (``tests/adapters/_servers.py``) and the emulator's mini client
(``tests/emulator/_client.py``).  It does the parts that are the same for all of
them once: the opening handshake (either side), reassembling fragmented text
messages, answering pings and answering a close.  It is bytes in, bytes out
(``receive``/``take``, as h11's ``ConnectionPair`` and wsproto itself): whoever
owns a socket moves the bytes.

It uses wsproto directly and never relay_proto's WebSocket layer or codec, so
a test checks relay_proto against an independent implementation; what the
messages mean (JSON, RPC) is up to each user.
"""

from __future__ import annotations

from typing import Any, Literal

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    Pong,
    RejectConnection,
    Request,
    TextMessage,
)

__all__ = ["WsPeer"]


class WsPeer:
    """One end of a WebSocket (wsproto), fed bytes, handing out whole messages.

    Args:
        role: ``"server"`` (answers the opening handshake) or ``"client"``
            (sends it: :meth:`start`).
        accept: Server role: accept the handshake (default), or leave it
            unanswered for the test to answer through :attr:`ws` (``False``).
        reject_status: Server role: answer the handshake with this HTTP status
            instead of accepting it.

    Attributes:
        ws: The wsproto connection, for a test to send what the peer does not.
        request: Server role: the client's handshake request, once received.
        accepted / rejected_status: Client role: the server's answer.
        texts: Every complete text message received, verbatim.
        log: What else happened, in order: ``("ping", payload)``, ``("pong",
            payload)``, ``("binary", data)``, ``("close", code)``.
        close_code / close_reason: The peer's close frame, once received
            (1006 at end of stream without one).
    """

    def __init__(
        self,
        role: Literal["server", "client"],
        *,
        accept: bool = True,
        reject_status: int | None = None,
    ) -> None:
        self.ws = WSConnection(ConnectionType.SERVER if role == "server" else ConnectionType.CLIENT)
        self.accept = accept
        self.reject_status = reject_status
        self.out = bytearray()
        self.request: Request | None = None
        self.accepted = False
        self.rejected_status: int | None = None
        self.texts: list[str] = []
        self.log: list[tuple[str, Any]] = []
        self.close_code: int | None = None
        self.close_reason = ""
        self._parts: list[str] = []

    @property
    def is_open(self) -> bool:
        """Whether messages can still be sent (handshake done, no close yet)."""
        return self.ws.state is ConnectionState.OPEN

    def start(self, host: str, target: str = "/") -> None:
        """Client role: queue the opening handshake request."""
        self.out += self.ws.send(Request(host=host, target=target))

    def receive(self, data: bytes | None) -> list[str | bytes]:
        """Feed bytes from the other end (``None``: end of stream; ``b""``: nothing).

        Handshakes, pings and close frames are answered into the output buffer
        (:meth:`take`) as a side effect.

        Returns:
            The complete messages received, in order: ``str`` for text, ``bytes``
            for binary.
        """
        messages: list[str | bytes] = []
        if data == b"":
            return messages  # an empty write is not an end of stream
        self.ws.receive_data(data)
        for event in self.ws.events():
            if isinstance(event, Request):
                self.request = event
                if self.reject_status is not None:
                    self.out += self.ws.send(
                        RejectConnection(status_code=self.reject_status, has_body=False)
                    )
                elif self.accept:
                    self.out += self.ws.send(AcceptConnection())
            elif isinstance(event, AcceptConnection):
                self.accepted = True
            elif isinstance(event, RejectConnection):
                self.rejected_status = event.status_code
            elif isinstance(event, TextMessage):
                self._parts.append(event.data)
                if event.message_finished:
                    text = "".join(self._parts)
                    self._parts.clear()
                    self.texts.append(text)
                    messages.append(text)
            elif isinstance(event, BytesMessage):
                self.log.append(("binary", bytes(event.data)))
                messages.append(bytes(event.data))
            elif isinstance(event, Ping):
                self.log.append(("ping", event.payload))
                self.out += self.ws.send(event.response())
            elif isinstance(event, Pong):
                self.log.append(("pong", event.payload))
            elif isinstance(event, CloseConnection):
                self.close_code, self.close_reason = event.code, event.reason or ""
                self.log.append(("close", event.code))
                if self.ws.state is ConnectionState.REMOTE_CLOSING:
                    self.out += self.ws.send(event.response())
        if data is None and self.close_code is None:
            self.close_code = 1006  # the stream ended without a close frame
        return messages

    def message_bytes(self, message: str | bytes) -> bytes:
        """The frame bytes of one text (``str``) or binary (``bytes``) message."""
        return self.ws.send(Message(data=message))

    def send(self, message: str | bytes) -> None:
        """Queue one message; dropped silently once the connection is closing."""
        if self.is_open:
            self.out += self.message_bytes(message)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Queue a close frame (when still open)."""
        if self.is_open:
            self.out += self.ws.send(CloseConnection(code=code, reason=reason))

    def take(self) -> bytes:
        """Everything queued for the other end since the last call."""
        data = bytes(self.out)
        self.out.clear()
        return data
