"""Errors raised by relaykit.

Two families, split the way h11 splits them (``h11/_util.py``):

* **Protocol errors** are about the conversation itself.  ``LocalProtocolError``
  means *we* (the caller of the core) misused it: a command in the wrong state,
  bad arguments.  ``RemoteProtocolError`` means the *server* sent something that
  cannot be understood.  ``receive_data`` never lets a ``RemoteProtocolError``
  escape: bad input becomes a :class:`~relay_proto.ProtocolErrorReceived` event
  or a clean connection failure.  The fuzz targets check exactly that.

* **Request errors** are the outcome of one RELAY request.  :class:`RelayError`
  carries the numeric ``code`` and the ``message`` (``except RelayError as e:
  e.code, e.message`` as in the seed docs).  Its subclasses say *whose* fault it
  was: :class:`RelayServerError` for a non-2xx answer from the server (remote),
  and :class:`RelayLocalError` for outcomes decided on this side (timeouts, the
  connection dropping, the offline queue overflowing), which all use code ``-1``
  like the official client.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationFailed",
    "CallGoneError",
    "ConnectionLostError",
    "LocalProtocolError",
    "ProtocolError",
    "QueueFullError",
    "RelayError",
    "RelayLocalError",
    "RelayServerError",
    "RelayTimeoutError",
    "RemoteProtocolError",
]


class ProtocolError(Exception):
    """Base class for misuse of the core or garbage from the peer.

    Never instantiate this directly; use one of the two subclasses.
    """

    def __init__(self, msg: str) -> None:
        if type(self) is ProtocolError:
            raise TypeError("tried to directly instantiate ProtocolError")
        super().__init__(msg)
        self.msg = msg


class LocalProtocolError(ProtocolError):
    """The caller asked the core for something it cannot do in its current state."""


class RemoteProtocolError(ProtocolError):
    """The server sent bytes or JSON that violate the RELAY wire protocol."""


class RelayError(Exception):
    """A RELAY request did not succeed.

    Args:
        code: The numeric error code.  Server result codes are strings on the wire
            (``"404"``); they are converted with ``int()``, falling back to ``-1`` when
            not numeric.  Locally decided failures use ``-1``.
        message: The server's message, or a description of the local failure.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"RELAY error {self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class RelayServerError(RelayError):
    """The server answered with a non-2xx result code or a JSON-RPC error (remote fault)."""


class CallGoneError(RelayServerError):
    """The server said the call no longer exists (404 or 410).

    Call methods swallow this and return ``{}``; it is only raised by
    ``execute()`` callers who asked for raw behaviour.
    """


class AuthenticationFailed(RelayServerError):
    """``signalwire.connect`` was rejected 3 times in a row before ever succeeding.

    This is fatal: the client stops reconnecting instead of looping forever.
    """


class RelayLocalError(RelayError):
    """A failure decided on this side of the wire (by convention code ``-1``)."""


class _MaybeSent:
    """The ``sent`` attribute of a request whose outcome is unknown.

    ``sent=True``: the request had been handed to the socket, so the server may
    have executed it (a retry could run it twice: check first, or make the
    request idempotent).  ``False``: it never left this client (it was still
    in the offline queue), so a retry is safe.  ``None``: not known.
    """

    sent: bool | None

    def _init_sent(self, sent: bool | None) -> None:
        self.sent = sent

    def _sent_note(self) -> str:
        if self.sent is True:
            return " (it had been sent: the server may have run it)"
        if self.sent is False:
            return " (it never left this client: safe to retry)"
        return ""


class RelayTimeoutError(_MaybeSent, RelayLocalError, TimeoutError):
    """No response arrived within the request timeout (default 10 s).

    Args:
        code: As :class:`RelayError`.
        message: As :class:`RelayError`.
        sent: Whether the request had reached the socket (see ``sent`` below).

    Attributes:
        sent: ``True`` when it had been sent (the server may have run it),
            ``False`` when it never left, ``None`` when not known.
    """

    def __init__(self, code: int, message: str, *, sent: bool | None = None) -> None:
        super().__init__(code, message)
        self._init_sent(sent)

    def __str__(self) -> str:
        return super().__str__() + self._sent_note()


class ConnectionLostError(_MaybeSent, RelayLocalError, ConnectionError):
    """The connection closed while the request was in flight, or the client is closing.

    Args:
        code: As :class:`RelayError`.
        message: As :class:`RelayError`.
        sent: Whether the request had reached the socket before it was lost.

    Attributes:
        sent: ``True`` when the request had been sent, so the server may have
            executed it (in a reconnect storm it usually has: check the call's
            state before retrying a command that must not run twice);
            ``False`` when it never left this client, so retrying is safe;
            ``None`` when not known (the client was closing).
    """

    def __init__(self, code: int, message: str, *, sent: bool | None = None) -> None:
        super().__init__(code, message)
        self._init_sent(sent)

    def __str__(self) -> str:
        return super().__str__() + self._sent_note()


class QueueFullError(RelayLocalError):
    """The offline request queue is full (default 500 requests) while disconnected."""
