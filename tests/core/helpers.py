"""Test helpers for the core: a scripted fake RELAY server and frame builders.

Modelled on ``ConnectionPair`` in ``h11/tests/helpers.py`` and h2's
``FrameFactory``: everything is bytes in / bytes out, no sockets, synthetic time.

* :class:`FakeServer` is the server side of one WebSocket (wsproto, server
  role): it accepts the handshake and turns client bytes into JSON objects.
* :class:`Pair` wires a :class:`RelayConnection` to a :class:`FakeServer` and
  keeps the synthetic clock (``pair.now``).
* ``event_frame``/``result_frame``/``error_frame``... build the server's JSON.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from typing import Any

from relay_proto import (
    ConnectionDead,
    Event,
    ReconnectScheduled,
    RelayConnection,
    SessionAuthenticated,
)

from .._peers import WsPeer

PROJECT = "p-1234"
TOKEN = "PT-secret-token"
AUTH_STATE = "QUJDRA==:RUZHSA=="


def envelope(event_type: str, params: dict[str, Any], timestamp: float = 1.5) -> dict[str, Any]:
    """The outer ``signalwire.event`` params."""
    return {"event_type": event_type, "timestamp": timestamp, "params": params}


def event_frame(
    event_id: str | int | None, event_type: str, params: dict[str, Any], timestamp: float = 1.5
) -> dict[str, Any]:
    """A whole ``signalwire.event`` request object."""
    msg: dict[str, Any] = {
        "jsonrpc": "2.0",
        "method": "signalwire.event",
        "params": envelope(event_type, params, timestamp),
    }
    if event_id is not None:
        msg["id"] = event_id
    return msg


def result_frame(request_id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def error_frame(request_id: Any, code: int = -32000, message: str = "nope") -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def request_frame(request_id: Any, method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def connect_result(protocol: str = "signalwire_abc_1", restored: bool = False) -> dict[str, Any]:
    return {"identity": f"{PROJECT}@relay", "protocol": protocol, "session_restored": restored}


class Ids:
    """Server event ids ``e-1``, ``e-2``, ... (each call returns the next)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"e-{self.n}"


class FakeServer(WsPeer):
    """The server end of one WebSocket (:class:`tests._peers.WsPeer`), speaking plain ``json``.

    ``receive(data)`` feeds client bytes and returns the JSON objects the client
    sent; non-text happenings are recorded in :attr:`log` (``("ping", payload)``,
    ``("close", code)``, ``("binary", data)``, ``("pong", payload)``).  The JSON
    is the standard library's, never relay_proto's codec: the core is checked
    against an independent peer.
    """

    def __init__(self, accept: bool = True) -> None:
        super().__init__("server", accept=accept)

    @property
    def closed_code(self) -> int | None:
        """The close code the client sent, once it did."""
        return self.close_code

    def receive(self, data: bytes | None) -> list[dict[str, Any]]:  # type: ignore[override]
        return [json.loads(m) for m in super().receive(data) if isinstance(m, str)]

    def text_bytes(self, text: str) -> bytes:
        return self.message_bytes(text)

    def frame(self, obj: Any) -> bytes:
        return self.text_bytes(json.dumps(obj))


class Pair:
    """A RelayConnection and a scripted server, with a synthetic clock."""

    def __init__(self, *, contexts: Iterable[str] = ("office",), **kwargs: Any) -> None:
        counter = itertools.count(1)
        kwargs.setdefault("make_id", lambda: f"r-{next(counter)}")
        kwargs.setdefault("jitter", lambda: 0.0)
        kwargs.setdefault("host", "relay.test")
        self.conn = RelayConnection(**kwargs)
        self.contexts = list(contexts)
        self.server = FakeServer()
        self.now = 100.0
        self.sent: list[dict[str, Any]] = []
        self.events: list[Event] = []

    # -- plumbing ------------------------------------------------------------

    def flush(self) -> list[dict[str, Any]]:
        """Move client output to the server; return the JSON messages it got."""
        msgs = self.server.receive(self.conn.data_to_send())
        self.sent.extend(msgs)
        return msgs

    def feed(self, data: bytes) -> list[Event]:
        """Give *data* to the client, then return (and record) new events."""
        self.conn.receive_data(data, self.now)
        return self.drain()

    def send(self, *objs: Any) -> list[Event]:
        """Server -> client: frame each object (dict -> JSON, str -> raw text)."""
        data = b"".join(
            self.server.text_bytes(o) if isinstance(o, str) else self.server.frame(o) for o in objs
        )
        return self.feed(data)

    def drain(self) -> list[Event]:
        new: list[Event] = []
        while (ev := self.conn.next_event()) is not None:
            new.append(ev)
        self.events.extend(new)
        return new

    def tick(self, to: float | None = None) -> list[Event]:
        """Advance the clock to *to* (default: the next timer) and handle timers."""
        if to is None:
            timer = self.conn.get_timer()
            assert timer is not None
            to = timer
        self.now = max(self.now, to)
        self.conn.handle_timer(self.now)
        return self.drain()

    # -- scripted sequences ----------------------------------------------------

    def open(self, **session: Any) -> dict[str, Any]:
        """open_session + connection_made + WebSocket handshake; returns the connect request."""
        session.setdefault("project", PROJECT)
        session.setdefault("token", TOKEN)
        session.setdefault("contexts", self.contexts)
        self.conn.open_session(**session)
        return self.reconnect_socket()

    def reconnect_socket(self) -> dict[str, Any]:
        """New socket + handshake; returns the signalwire.connect request the server got."""
        self.server = FakeServer()
        self.conn.connection_made(self.now)
        assert self.flush() == []
        self.feed(self.server.take())
        msgs = self.flush()
        assert len(msgs) == 1, msgs
        assert msgs[0]["method"] == "signalwire.connect"
        return msgs[0]

    def authenticate(self, **kw: Any) -> SessionAuthenticated:
        """Answer the pending connect request with success."""
        connect = self.open(**kw)
        return self.answer_connect(connect)

    def answer_connect(
        self, connect: dict[str, Any], result: dict[str, Any] | None = None
    ) -> SessionAuthenticated:
        evs = self.send(result_frame(connect["id"], result or connect_result()))
        auth = [e for e in evs if isinstance(e, SessionAuthenticated)]
        assert len(auth) == 1, evs
        return auth[0]

    def drop(self, reason: str = "connection lost") -> ReconnectScheduled:
        """Lose the socket; returns the ReconnectScheduled event."""
        self.conn.connection_lost(self.now, reason)
        evs = self.drain()
        sched = [e for e in evs if isinstance(e, ReconnectScheduled)]
        assert len(sched) == 1, evs
        return sched[0]

    def dead_events(self) -> list[ConnectionDead]:
        return [e for e in self.events if isinstance(e, ConnectionDead)]
