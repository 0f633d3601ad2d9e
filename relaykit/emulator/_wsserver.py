"""Server-side WebSocket framing for the emulator, over wsproto (sans-IO).

One :class:`ServerWebSocket` per accepted TCP connection.  Bytes go in, whole
text messages come out; text messages go in, bytes come out.  It completes the
opening handshake on any request target (``/`` or ``/api/relay/ws``), answers
WebSocket pings, reassembles fragmented messages up to ``max_message_size``,
and closes the connection with a reason for everything RELAY does not use
(binary frames, oversized messages, broken framing).

Fast path.  The emulator is the benchmarks' load generator, and ``wsproto``'s
general framing (extensions, fragmentation, both roles) costs it several
microseconds per frame.  So the two kinds of frame that carry the traffic are
framed here directly, and everything else still goes through ``wsproto``,
which stays the connection's state machine:

* outbound text messages become one unmasked ``FIN`` text frame (a 2/4/10-byte
  header + the UTF-8 payload; byte-identical to what ``wsproto`` builds, which
  the tests check);
* inbound, once the handshake is done, complete masked ``FIN`` text frames with
  no RSV bits are unmasked and decoded here.  Complete control frames (ping,
  pong, close) are handed to ``wsproto`` one whole frame at a time, so its
  parser is always at a frame boundary.  Anything else (fragments, binary
  frames, unmasked or malformed frames, bad UTF-8, a large frame still
  arriving, the closing phase) hands the rest of the stream to ``wsproto`` for
  good, at a frame boundary, so those cases behave exactly as before.

The opening handshake also goes through ``wsproto``: its request head is fed
to it alone (up to the blank line), so no frame bytes end up buffered inside
``wsproto`` when the fast path takes over.
"""

from __future__ import annotations

import logging
import struct
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

__all__ = [
    "CLOSE_MESSAGE_TOO_BIG",
    "CLOSE_POLICY",
    "CLOSE_UNSUPPORTED",
    "ServerWebSocket",
    "text_frame",
]

logger = logging.getLogger("relaykit.emulator")

CLOSE_NORMAL: Final = 1000
CLOSE_GOING_AWAY: Final = 1001
CLOSE_PROTOCOL: Final = 1002
CLOSE_UNSUPPORTED: Final = 1003
CLOSE_POLICY: Final = 1008
CLOSE_MESSAGE_TOO_BIG: Final = 1009
CLOSE_SERVICE_RESTART: Final = 1012

_HEAD_END: Final = b"\r\n\r\n"
_MAX_HEAD: Final = 64 * 1024  # a longer request head goes to wsproto as is (and is refused)
# An incomplete frame longer than this is left to wsproto, which takes it in pieces
# (and checks the message size as they come), instead of being buffered here.
_MAX_FAST_WAIT: Final = 64 * 1024
_FIN_TEXT: Final = 0x81
_MASK: Final = 0x80
_FIN_CONTROL: Final = frozenset((0x88, 0x89, 0x8A))  # FIN + close / ping / pong, no RSV


_SHORT_HEADERS: Final = tuple(bytes((_FIN_TEXT, n)) for n in range(126))
_pack16 = struct.Struct("!BBH").pack
_pack64 = struct.Struct("!BBQ").pack


def _header(n: int) -> bytes:
    """The header of an unmasked FIN text frame with an *n*-byte payload."""
    if n < 126:
        return _SHORT_HEADERS[n]
    if n < 65536:
        return _pack16(_FIN_TEXT, 126, n)
    return _pack64(_FIN_TEXT, 127, n)


def text_frame(payload: bytes) -> bytes:
    """One unmasked, unfragmented server text frame carrying *payload* (UTF-8).

    Byte-identical to what ``wsproto`` (server role, no extensions) sends for
    ``Message(data=payload.decode())``.
    """
    return _header(len(payload)) + payload


def _unmask(data: bytes | bytearray, key: bytes | bytearray) -> bytes:
    # One big-integer XOR per frame instead of a loop per byte.
    n = len(data)
    mask = (bytes(key) * ((n >> 2) + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(mask, "little")).to_bytes(n, "little")


class ServerWebSocket:
    """The server half of one WebSocket connection.

    Args:
        max_message_size: Largest inbound message accepted (bytes of UTF-8 text).
        fast_path: Frame the RELAY traffic here (see the module docstring); ``False``
            sends every byte through ``wsproto`` (the reference the tests compare with).
    """

    __slots__ = (
        "_buffer",
        "_closed",
        "_eof",
        "_fast",
        "_inbuf",
        "_max",
        "_open",
        "_out",
        "_parts",
        "_size",
        "_ws",
    )

    def __init__(self, max_message_size: int = 10 * 1024 * 1024, fast_path: bool = True) -> None:
        self._ws = WSConnection(ConnectionType.SERVER)
        self._out = bytearray()
        self._parts: list[str] = []
        self._size = 0
        self._max = max_message_size
        self._open = False
        self._closed = False
        self._eof = False
        self._buffer: list[str] = []
        # Bytes not yet given to wsproto while the fast path reads the stream.
        self._fast = fast_path
        self._inbuf = bytearray()

    @property
    def is_open(self) -> bool:
        """True between a completed handshake and the start of closing."""
        return self._open and not self._closed

    @property
    def is_closed(self) -> bool:
        """True once the connection is closing or closed: the socket can go after a flush."""
        return self._closed

    @property
    def has_output(self) -> bool:
        """True when :meth:`data_to_send` has bytes."""
        return bool(self._out)

    @property
    def is_finished(self) -> bool:
        """True once the closing handshake completed (or the peer went away)."""
        return self._eof or self._ws.state is ConnectionState.CLOSED

    def receive_data(self, data: bytes) -> list[str]:
        """Feed bytes from the socket (``b""`` = EOF).

        Returns:
            The complete text messages received, in order, up to the start of
            closing: those that arrived ahead of the peer's close frame (or of a
            close of ours) in the same bytes are delivered, as a server handles
            what it received before the close; none after it (the input is then
            only read for the peer's close frame).  Never raises: a protocol
            violation queues a close frame and marks the connection closed.
        """
        if not data:
            self._eof = True
            if self._fast:
                self._hand_over(b"")  # a partial frame or head: wsproto sees it, then EOF
        if self._ws.state is ConnectionState.CLOSED:
            return []
        if not data:
            self._feed(None)
            self._closed = True
        elif not self._fast:
            self._feed(data)
        elif self._open:
            self._inbuf += data
            self._parse_frames()
        else:
            self._inbuf += data
            self._handshake(len(data))
        # Only texts completed before closing started are ever buffered (both
        # framing paths stop taking texts once closed).
        texts, self._buffer = self._buffer, []
        return texts

    def _feed(self, data: bytes | None) -> None:
        """Give *data* to wsproto and handle its events (``None`` = EOF)."""
        try:
            self._ws.receive_data(data)
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

    def _hand_over(self, data: bytes | bytearray) -> None:
        """Leave the fast path for good: wsproto reads everything from here on."""
        self._fast = False
        rest, self._inbuf = bytes(self._inbuf) + data, bytearray()
        if rest and self._ws.state is not ConnectionState.CLOSED:
            self._feed(rest)

    def _handshake(self, added: int) -> None:
        """Feed wsproto the request head alone, once it is complete."""
        buf = self._inbuf
        end = buf.find(_HEAD_END, max(0, len(buf) - added - 3))
        if end < 0:
            if len(buf) > _MAX_HEAD:
                self._hand_over(b"")
            return
        end += len(_HEAD_END)
        head = bytes(buf[:end]).lower()
        if b"\r\ncontent-length:" in head or b"\r\ntransfer-encoding:" in head:
            self._hand_over(b"")  # a request with a body: leave all of it to wsproto
            return
        head, rest = bytes(buf[:end]), bytes(buf[end:])
        self._inbuf = bytearray()
        self._feed(head)
        if self._open and not self._closed and self._ws.state is ConnectionState.OPEN:
            if rest:
                self._inbuf += rest
                self._parse_frames()
        else:
            self._hand_over(rest)

    def _parse_frames(self) -> None:
        """Take the complete frames at the start of the input buffer (see module docs)."""
        buf = self._inbuf
        size = len(buf)
        pos = 0
        texts = self._buffer
        wait = False  # stopped at an incomplete frame the fast path will take later
        while not self._closed:
            if size - pos < 2:
                wait = True
                break
            b0 = buf[pos]
            b1 = buf[pos + 1]
            if not b1 & _MASK:
                break  # an unmasked client frame: wsproto reports it
            length = b1 & 0x7F
            start = pos + 6  # 2-byte header + 4-byte mask key
            if length == 126:
                start += 2
                if size < start:
                    wait = True
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                if length < 126:
                    break  # not the shortest length encoding: wsproto reports it
            elif length == 127:
                start += 8
                if size < start:
                    wait = True
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                if not 65536 <= length < 1 << 63:
                    break
            end = start + length
            if b0 == _FIN_TEXT:
                if end > size:
                    wait = length <= _MAX_FAST_WAIT
                    break
                try:
                    text = _unmask(buf[start:end], buf[start - 4 : start]).decode()
                except UnicodeDecodeError:
                    break  # wsproto closes with 1007
                if len(text) > self._max:
                    self.close(CLOSE_MESSAGE_TOO_BIG, "message too big")
                    break
                texts.append(text)
            elif b0 in _FIN_CONTROL and length <= 125:
                if end > size:
                    wait = True
                    break
                self._feed(bytes(buf[pos:end]))  # one whole frame: wsproto stays aligned
            else:
                break  # fragments, binary frames, RSV bits: wsproto from here on
            pos = end
        del buf[:pos]
        if not wait:
            # Anything the fast path does not take, and the closing phase (wsproto must
            # see the peer's close frame), goes to wsproto from this frame boundary on.
            self._hand_over(b"")

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
            payload = text.encode()
            out = self._out
            out += _header(len(payload))
            out += payload

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
