"""Connections, RELAY sessions, authentication and resume (sans-IO records and rules).

A :class:`Conn` is one WebSocket.  A :class:`ServerSession` is what
``signalwire.connect`` creates (relay-protocol.md §3.1): it has a ``protocol``
string, subscribed contexts and calls, and it outlives its connection so that
a reconnect with ``protocol`` (+ ``authorization_state``) resumes it (§3.2,
§8e).  Events for a session without a live connection wait in a bounded
backlog and are delivered on resume.

:class:`SessionTable` owns every session and makes the two decisions about
them that the platform makes:

* **who may connect** (:meth:`SessionTable.authenticate`), answered with the
  platform's own rejections, as the wire corpus shows them:

  - bad or missing credentials: JSON-RPC error ``-32002`` with the message
    ``Authentication service failed with status ProtocolError, 401
    Unauthorized: {}`` and no ``data`` (corpus: signalwire-js
    ``packages/core/src/utils/parseRPCResponse.test.ts``, confidence high);
  - a stale or corrupt ``authorization_state`` on resume: ``-32003``.  The JS
    SDK names this code (forget ``protocol`` and the state, connect fresh;
    corpus README "Session and envelope"); no public frame shows its message,
    so :data:`STALE_STATE_MESSAGE` is ours;

* **who gets an inbound call or message** (:meth:`SessionTable.pick_subscriber`):
  round robin among live subscribers of a context (§4.4).  A worker that
  drains has unsubscribed (``signalwire.unreceive``), so it is skipped; one
  that passes a call (``calling.pass``: draining, or at capacity) is skipped
  for that call.  The platform's own choice among several subscribers is not
  public: docs/operations.md says what is known and what this assumes.

Credentials and ``authorization_state`` are never logged.
"""

from __future__ import annotations

import base64
import itertools
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ._wsserver import ServerWebSocket

if TYPE_CHECKING:
    from ._flood import Flood

__all__ = [
    "AUTH_FAILED_MESSAGE",
    "STALE_STATE_MESSAGE",
    "AuthRejection",
    "Conn",
    "ServerSession",
    "SessionTable",
]

#: Events kept for a detached session (older ones are dropped first).
BACKLOG: Final = 1000
#: Past this many sessions, the oldest detached ones are forgotten (reconnect churn).
MAX_SESSIONS: Final = 10_000

#: The platform's text for a rejected ``authentication`` block (corpus, high confidence).
AUTH_FAILED_MESSAGE: Final = (
    "Authentication service failed with status ProtocolError, 401 Unauthorized: {}"
)
#: Our text for ``-32003``: the code is public (JS SDK), the platform's message is not.
STALE_STATE_MESSAGE: Final = (
    "Invalid or expired authorization_state: connect again without protocol and state"
)


@dataclass(eq=False, slots=True)
class ServerSession:
    """A RELAY session on the server side (what ``signalwire.connect`` creates).

    Named apart from the client core's ``relay_proto`` ``Session``: this is the
    platform's record of a client, not a client's state machine.
    """

    protocol: str
    identity: str
    project: str
    authorization_state: str
    contexts: set[str]
    conn: Conn | None = None
    # (event_type, params) emitted while detached; replayed in order on resume.
    backlog: deque[tuple[str, dict[str, Any]]] = field(default_factory=deque)

    def queue(self, event_type: str, params: dict[str, Any]) -> None:
        """Keep an event for delivery on resume (bounded: the oldest is dropped)."""
        if len(self.backlog) >= BACKLOG:
            self.backlog.popleft()
        self.backlog.append((event_type, params))


@dataclass(eq=False, slots=True)
class Conn:
    """One WebSocket connection and its JSON-RPC bookkeeping."""

    id: int
    ws: ServerWebSocket
    session: ServerSession | None = None
    frozen: bool = False  # half-open fault: nothing is read or written any more
    invalid: int = 0  # invalid frames so far (the connection closes past a limit)
    rate_window: float = 0.0  # start of the current one-second request window
    rate_count: int = 0  # requests in that window
    # ids of server-originated requests awaiting a reply -> (method, flood or None);
    # an event's entry is its ACK slot (§3.5: every event is ACKed with a result).
    pending: dict[str, tuple[str, Flood | None]] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        """True while the connection is authenticated and not half-open."""
        return self.session is not None and not self.frozen


@dataclass(frozen=True, slots=True)
class AuthRejection:
    """Why ``signalwire.connect`` failed: a JSON-RPC error code and message (no data)."""

    code: int
    message: str


class SessionTable:
    """Every session the emulator knows, by ``protocol`` (see module docstring).

    Args:
        project / token: The accepted project+token pair; both ``None``
            accepts any non-empty pair.
        jwt_tokens: JWTs accepted as ``authentication.jwt_token``.
        make_id: The server's id source (deterministic in tests).
    """

    __slots__ = ("_make_id", "_rr", "_sessions", "jwt_tokens", "project", "token")

    def __init__(
        self,
        project: str | None,
        token: str | None,
        jwt_tokens: frozenset[str],
        make_id: Callable[[], str],
    ) -> None:
        self.project, self.token = project, token
        self.jwt_tokens = jwt_tokens
        self._make_id = make_id
        self._sessions: dict[str, ServerSession] = {}
        self._rr: dict[str, int] = {}  # context -> round-robin counter

    # ------------------------------------------------------------------ authentication
    def credentials_ok(self, auth: Any) -> bool:
        """True for an ``authentication`` block the emulator accepts (§3.1).

        A ``jwt_token`` must be one of the configured JWTs; otherwise a
        non-empty ``project`` and ``token``, equal to the configured pair if
        one was given.
        """
        if not isinstance(auth, dict):
            return False
        jwt = auth.get("jwt_token")
        if isinstance(jwt, str) and jwt:
            return jwt in self.jwt_tokens
        project, token = auth.get("project"), auth.get("token")
        if not isinstance(project, str) or not isinstance(token, str) or not project or not token:
            return False
        if self.project is None and self.token is None:
            return True
        return project == self.project and token == self.token

    def authenticate(
        self, params: Mapping[str, Any], contexts: list[str]
    ) -> tuple[ServerSession, bool] | AuthRejection:
        """Decide a ``signalwire.connect``: resume, start fresh, or reject.

        * ``authorization_state`` present: it must be the current state of the
          session named by ``protocol``; it then resumes that session without
          looking at credentials (§3.2).  Anything else -- an unknown or
          forgotten ``protocol``, a state from an older session, garbage -- is
          ``-32003`` (the client forgets both and connects fresh).
        * no state: credentials must pass (``-32002`` otherwise); a known
          ``protocol`` resumes its session, else a new session starts.

        Returns:
            ``(session, restored)`` -- the session is not yet attached to a
            connection -- or the :class:`AuthRejection` to answer with.
        """
        protocol = params.get("protocol")
        known = self._sessions.get(protocol) if isinstance(protocol, str) else None
        state = params.get("authorization_state")
        if state is not None:
            if known is None or state != known.authorization_state:
                return AuthRejection(-32003, STALE_STATE_MESSAGE)
            known.contexts.update(contexts)
            return known, True
        auth = params.get("authentication")
        if not self.credentials_ok(auth):
            return AuthRejection(-32002, AUTH_FAILED_MESSAGE)
        if known is not None:
            known.contexts.update(contexts)
            return known, True
        return self._create(auth, contexts), False

    def _create(self, auth: Any, contexts: list[str]) -> ServerSession:
        """A fresh session for credentials that passed :meth:`credentials_ok`."""
        project = auth.get("project", "") if isinstance(auth, dict) else ""
        project = project if isinstance(project, str) and project else (self.project or "jwt")
        protocol = f"signalwire_{self._make_id()}_{self._make_id()}"
        session = ServerSession(
            protocol=protocol,
            identity=f"{project}@relay-emulator",
            project=project,
            authorization_state=self._auth_state(protocol),
            contexts=set(contexts),
        )
        self._sessions[protocol] = session
        return session

    def _auth_state(self, protocol: str) -> str:
        """An opaque ``<base64>:<base64>`` blob, shaped like the platform's (§3.2)."""
        blob = base64.b64encode(f"relaykit:{protocol}:{self._make_id()}".encode()).decode()
        tag = base64.b64encode(self._make_id().encode()).decode()
        return f"{blob}:{tag}"

    # ------------------------------------------------------------------ lifetime
    def forget(self, session: ServerSession) -> None:
        """Drop *session*: it can no longer be resumed (its state becomes stale)."""
        self._sessions.pop(session.protocol, None)

    def overflow(self) -> list[ServerSession]:
        """Detached sessions to forget so that reconnect churn cannot grow memory.

        Empty until there are more than :data:`MAX_SESSIONS`; then the oldest
        detached sessions, down to half of that.  The caller forgets them (and
        ends their calls).
        """
        if len(self._sessions) <= MAX_SESSIONS:
            return []
        excess = len(self._sessions) - MAX_SESSIONS // 2
        return list(
            itertools.islice((s for s in self._sessions.values() if s.conn is None), excess)
        )

    def all(self) -> list[ServerSession]:
        """Every known session, oldest first."""
        return list(self._sessions.values())

    # ------------------------------------------------------------------ routing
    def subscribers(self, context: str) -> list[ServerSession]:
        """Sessions with a live connection subscribed to *context*, in a stable order."""
        return [
            s
            for s in self._sessions.values()
            if s.conn is not None and not s.conn.frozen and context in s.contexts
        ]

    def subscribed_contexts(self) -> list[str]:
        """Every context some live connection receives now, sorted (for error messages)."""
        return sorted(
            {
                context
                for s in self._sessions.values()
                if s.conn is not None and not s.conn.frozen
                for context in s.contexts
            }
        )

    def pick_subscriber(
        self, context: str, exclude: set[str] | None = None
    ) -> ServerSession | None:
        """Round robin among the subscribers of *context*, skipping *exclude* protocols.

        Subscribers are live sessions (not detached, not half-open) that
        receive *context* now, in the order they first connected; one counter
        per context advances on every pick, re-offers of passed calls included.
        """
        subs = [s for s in self.subscribers(context) if not exclude or s.protocol not in exclude]
        if not subs:
            return None
        index = self._rr.get(context, 0)
        self._rr[context] = index + 1
        return subs[index % len(subs)]

    def session_for_context(self, context: str) -> ServerSession | None:
        """The session a messaging ``context`` names: its ``protocol``, else a subscriber.

        ``messaging.state`` goes back to the sender (whose context may be its
        own protocol string, §7.1), or to whoever receives that context.
        """
        session = self._sessions.get(context)
        return session if session is not None else self.pick_subscriber(context)
