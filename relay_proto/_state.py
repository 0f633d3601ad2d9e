"""The session state machine: one enum, one ``(state, input)`` transition table.

Theory of operation
===================

A RELAY client lives through many sockets.  The *session* (credentials,
``protocol``, ``authorization_state``, subscribed contexts, the offline
queue) outlives each socket; this module tracks where the session stands with
respect to the current socket, and nothing else.  As in ``h11/_state.py``, the
whole lifecycle is written down as one table so that it can be read, tested
and reasoned about in one place::

    IDLE --connection_made--> CONNECTING --ws handshake done--> AUTHENTICATING
      |                          |                                 |
      |                          |                       connect result
      |                          |                                 v
      |                          +-------connection_lost------+  READY
      |                                                       |    |
      +--connection_lost--> BACKOFF <----connection_lost------+----+
                             |  ^
                             |  +--connection_lost (a reconnect attempt failed)
                             +--connection_made--> CONNECTING

    close(): IDLE/CONNECTING/BACKOFF -> CLOSED (nothing on the wire to close)
             AUTHENTICATING/READY    -> CLOSING -> CLOSED (WebSocket close handshake)
    AUTH_FATAL (3 rejections before ever succeeding): AUTHENTICATING -> FAILED

``CLOSED`` and ``FAILED`` are terminal: nothing leaves them.  Inputs that are
not in the table for the current state are errors.  Commands from the caller
(``connection_made``, ``close``) get a :class:`~relay_proto.LocalProtocolError`
naming the state; inputs driven by the server are checked with
:meth:`SessionStateMachine.can` first, so bad server input never raises.

Two conditions are deliberately *not* states, because they do not change what
the caller may do next, only whether requests go out immediately:

* "dead": the core declared the socket unusable (``ConnectionDead``) and waits
  for ``connection_lost``; requests queue meanwhile.
* "draining": the server sent ``signalwire.disconnect``; requests queue until
  the session is re-established on a new socket (as the JS SDK does).
"""

from __future__ import annotations

import enum
from typing import Final

from ._errors import LocalProtocolError

__all__ = ["TRANSITIONS", "SessionInput", "SessionState", "SessionStateMachine"]


class SessionState(enum.Enum):
    """Where the session stands with respect to the current socket."""

    #: Created; no socket has been opened yet.
    IDLE = "IDLE"
    #: A socket is open; the WebSocket handshake is in progress.
    CONNECTING = "CONNECTING"
    #: The WebSocket is open; ``signalwire.connect`` is in flight.
    AUTHENTICATING = "AUTHENTICATING"
    #: Authenticated: requests go out immediately.
    READY = "READY"
    #: No socket; a reconnect has been scheduled (``ReconnectScheduled``).
    BACKOFF = "BACKOFF"
    #: The user called ``close()``; the WebSocket close handshake is in progress.
    CLOSING = "CLOSING"
    #: Closed by the user.  Terminal.
    CLOSED = "CLOSED"
    #: Authentication failed for good.  Terminal.
    FAILED = "FAILED"


class SessionInput(enum.Enum):
    """Everything that can move the session from one state to another."""

    #: The caller opened a socket (``connection_made``).
    CONNECTION_MADE = "CONNECTION_MADE"
    #: The WebSocket handshake completed (immediately, when the transport frames WebSocket).
    TRANSPORT_OPENED = "TRANSPORT_OPENED"
    #: ``signalwire.connect`` returned a result.
    AUTHENTICATED = "AUTHENTICATED"
    #: ``signalwire.connect`` was rejected for the third time before ever succeeding.
    AUTH_FATAL = "AUTH_FATAL"
    #: The socket is gone (``connection_lost``), or a reconnect attempt failed.
    CONNECTION_LOST = "CONNECTION_LOST"
    #: The caller called ``close()``.
    CLOSE = "CLOSE"
    #: The WebSocket close handshake finished (or timed out).
    CLOSE_COMPLETE = "CLOSE_COMPLETE"


_S = SessionState
_I = SessionInput

#: The complete transition table.  Anything missing is an error.
TRANSITIONS: Final[dict[tuple[SessionState, SessionInput], SessionState]] = {
    # Before the first socket.  A failed first connection attempt backs off like any other.
    (_S.IDLE, _I.CONNECTION_MADE): _S.CONNECTING,
    (_S.IDLE, _I.CONNECTION_LOST): _S.BACKOFF,
    (_S.IDLE, _I.CLOSE): _S.CLOSED,
    # WebSocket handshake.
    (_S.CONNECTING, _I.TRANSPORT_OPENED): _S.AUTHENTICATING,
    (_S.CONNECTING, _I.CONNECTION_LOST): _S.BACKOFF,
    (_S.CONNECTING, _I.CLOSE): _S.CLOSED,
    # signalwire.connect in flight.  A non-fatal rejection only declares the socket
    # dead; the state moves on when the caller reports connection_lost.
    (_S.AUTHENTICATING, _I.AUTHENTICATED): _S.READY,
    (_S.AUTHENTICATING, _I.AUTH_FATAL): _S.FAILED,
    (_S.AUTHENTICATING, _I.CONNECTION_LOST): _S.BACKOFF,
    (_S.AUTHENTICATING, _I.CLOSE): _S.CLOSING,
    # Authenticated.
    (_S.READY, _I.CONNECTION_LOST): _S.BACKOFF,
    (_S.READY, _I.CLOSE): _S.CLOSING,
    # Waiting to reconnect.  CONNECTION_LOST here means "the reconnect attempt failed".
    (_S.BACKOFF, _I.CONNECTION_MADE): _S.CONNECTING,
    (_S.BACKOFF, _I.CONNECTION_LOST): _S.BACKOFF,
    (_S.BACKOFF, _I.CLOSE): _S.CLOSED,
    # User close in progress.
    (_S.CLOSING, _I.CLOSE_COMPLETE): _S.CLOSED,
    (_S.CLOSING, _I.CONNECTION_LOST): _S.CLOSED,
    (_S.CLOSING, _I.CLOSE): _S.CLOSING,
    # Terminal states absorb the inputs that may still trickle in.
    (_S.CLOSED, _I.CLOSE): _S.CLOSED,
    (_S.CLOSED, _I.CONNECTION_LOST): _S.CLOSED,
    (_S.FAILED, _I.CLOSE): _S.FAILED,
    (_S.FAILED, _I.CONNECTION_LOST): _S.FAILED,
}


class SessionStateMachine:
    """Holds the current :class:`SessionState` and applies :data:`TRANSITIONS`.

    The owner (the session layer) performs the side effects; this object only
    decides whether an input is legal and what the next state is.
    """

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = SessionState.IDLE

    def can(self, event: SessionInput) -> bool:
        """True when *event* is legal in the current state (use before server-driven inputs)."""
        return (self.state, event) in TRANSITIONS

    def process(self, event: SessionInput) -> SessionState:
        """Apply *event* and return the new state.

        Raises:
            LocalProtocolError: *event* is not allowed in the current state.
        """
        try:
            self.state = TRANSITIONS[self.state, event]
        except KeyError:
            raise LocalProtocolError(
                f"cannot handle {event.value} in session state {self.state.value}"
            ) from None
        return self.state
