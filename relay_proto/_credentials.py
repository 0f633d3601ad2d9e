"""What a session *is*, independent of any socket: credentials, contexts, resume state.

A RELAY session outlives its sockets.  Everything that must be sent again on
the next ``signalwire.connect`` lives in :class:`SessionIdentity`, and this is
the only place that builds the connect params (protocol reference §3.1):

* ``version`` {2,0,0} (what the official Python client announces), ``agent``,
  ``event_acks: true`` (we ACK every event), ``authentication`` (project +
  token, or ``jwt_token`` alone, as the Python client sends it);
* ``contexts`` only when there are any (the Python client omits an empty list);
* on a reconnect, ``protocol`` and, only together with it, the opaque
  ``authorization_state`` (§3.2), so the server resumes the session.

These values are credentials.  Nothing here has a ``__repr__`` that shows
them, and the session never formats the connect params into a log line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from ._errors import LocalProtocolError

__all__ = ["RELAY_VERSION", "SessionIdentity", "check_contexts"]

#: The protocol version the official Python client announces.
RELAY_VERSION: Final[Mapping[str, int]] = {"major": 2, "minor": 0, "revision": 0}


def check_contexts(contexts: Iterable[str], *, allow_empty: bool) -> list[str]:
    """Validate *contexts* and return them as a list without duplicates (order kept).

    Raises:
        LocalProtocolError: Not an iterable of non-empty strings (a bare string is
            refused: it would silently become one context per character), or
            empty when *allow_empty* is false.
    """
    if isinstance(contexts, str):
        raise LocalProtocolError("contexts must be a list of strings, not a string")
    try:
        result = list(contexts)
    except TypeError:
        raise LocalProtocolError("contexts must be a list of strings") from None
    for context in result:
        if not isinstance(context, str) or not context:
            raise LocalProtocolError(f"invalid context {context!r}: contexts are non-empty strings")
    if not result and not allow_empty:
        raise LocalProtocolError("contexts must not be empty")
    return list(dict.fromkeys(result))


class SessionIdentity:
    """Credentials, subscribed contexts and resume state of one session.

    Args:
        project, token, jwt_token: The credentials (project + token, or a JWT).
        contexts: The initial contexts.
        protocol, authorization_state: Resume state from an earlier process.

    Raises:
        LocalProtocolError: No usable credentials, bad contexts, or an
            ``authorization_state`` without its ``protocol``.
    """

    __slots__ = ("_authentication", "authorization_state", "contexts", "protocol")

    def __init__(
        self,
        *,
        project: str | None,
        token: str | None,
        jwt_token: str | None,
        contexts: Iterable[str],
        protocol: str | None,
        authorization_state: str | None,
    ) -> None:
        if jwt_token:
            if not isinstance(jwt_token, str):
                raise LocalProtocolError("jwt_token must be a string")
            self._authentication = {"jwt_token": jwt_token}
        elif project and token:
            if not isinstance(project, str) or not isinstance(token, str):
                raise LocalProtocolError("project and token must be strings")
            self._authentication = {"project": project, "token": token}
        else:
            raise LocalProtocolError("open_session() needs project and token, or jwt_token")
        #: Contexts to receive on; sent with every connect, updated by (un)subscribe.
        self.contexts = check_contexts(contexts, allow_empty=True)
        if authorization_state is not None and not protocol:
            raise LocalProtocolError("authorization_state can only be resumed with its protocol")
        #: The server-assigned session name, sent back to resume.
        self.protocol: str | None = protocol or None
        #: The opaque blob from ``signalwire.authorization.state`` (a credential).
        self.authorization_state: str | None = authorization_state or None

    def __repr__(self) -> str:
        # Never show credentials or resume state, not even in a traceback.
        return f"SessionIdentity(contexts={self.contexts!r})"

    def connect_params(self, agent: str) -> dict[str, Any]:
        """The params of the next ``signalwire.connect`` (never log them)."""
        params: dict[str, Any] = {
            "version": RELAY_VERSION,
            "agent": agent,
            "event_acks": True,
            "authentication": self._authentication,
        }
        if self.contexts:
            params["contexts"] = self.contexts
        if self.protocol:
            params["protocol"] = self.protocol
            # §3.1: authorization_state must be accompanied by protocol.
            if self.authorization_state:
                params["authorization_state"] = self.authorization_state
        return params

    def forget_resume_state(self) -> None:
        """Start the next connect as a brand-new session (no protocol, no state)."""
        self.protocol = None
        self.authorization_state = None

    def add_contexts(self, contexts: Iterable[str]) -> None:
        """Remember more contexts for reconnects (duplicates ignored)."""
        for context in contexts:
            if context not in self.contexts:
                self.contexts.append(context)

    def remove_contexts(self, contexts: Iterable[str]) -> None:
        """Forget contexts, so reconnects no longer ask for them."""
        gone = set(contexts)
        self.contexts = [c for c in self.contexts if c not in gone]
