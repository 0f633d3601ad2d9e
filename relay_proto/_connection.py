"""``RelayConnection``: the public sans-IO core object (bytes in, bytes and events out).

It composes the layers the way ``wsproto/__init__.py`` composes handshake and
connection::

    socket bytes <-> _ws.WebSocketClient <-> text <-> _session.Session <-> _routing.Router

The caller (an adapter, a test, a blocking loop) owns every socket, clock and
task.  The contract, after *every* input call:

1. write ``data_to_send()`` (or each of ``texts_to_send()``) to the socket;
2. drain ``next_event()`` until it returns ``None``;
3. re-arm the timer from ``get_timer()`` and call ``handle_timer(now)`` when it
   passes.

On :class:`~relay_proto.ConnectionDead`, abort the socket and call
``connection_lost(now)``.  On :class:`~relay_proto.ReconnectScheduled`, open a
new socket at ``event.at`` and call ``connection_made(now)``.  On
:class:`~relay_proto.ConnectionClosed` with ``will_reconnect=False`` or
:class:`~relay_proto.AuthenticationFatal`, close the socket and stop.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from ._backoff import BACKOFF_MAX, BACKOFF_MIN, BACKOFF_RESET_AFTER
from ._credentials import SessionIdentity
from ._errors import LocalProtocolError
from ._events import Event
from ._routing import CallInfo
from ._session import (
    DEFAULT_AGENT,
    DEFAULT_PING_INTERVAL,
    SERVER_PING_WATCHDOG,
    ConnectionStats,
    Session,
)
from ._state import SessionState
from ._ws import (
    DEFAULT_MAX_MESSAGE_SIZE,
    WebSocketClient,
    WsClosed,
    WsDead,
    WsOpened,
    WsProblem,
)

__all__ = ["RelayConnection"]


def _counter_ids() -> Callable[[], str]:
    """Default id source: ``"1"``, ``"2"``, ...  (unique per connection object)."""
    counter = itertools.count(1)
    return lambda: str(next(counter))


def _no_jitter() -> float:
    return 0.0


class RelayConnection:
    """The sans-IO RELAY client: one object for the whole life of a client.

    It survives reconnects: credentials, ``protocol``, ``authorization_state``,
    subscribed contexts, the offline request queue and the call registry all
    live here, while each socket is only a stretch between
    :meth:`connection_made` and :meth:`connection_lost`.

    Args:
        host: ``Host`` header for the WebSocket handshake (may carry ``:port``).
        target: Request target of the handshake (RELAY uses ``"/"``).
        make_id: Returns a fresh request id string.  Adapters inject
            ``lambda: str(uuid.uuid4())``; the default counts ``"1"``, ``"2"``, ...
        jitter: Returns a float in ``[0, 1)``.  Each reconnect delay is
            ``min(base + base * 0.1 * jitter(), 30)`` with ``base`` = 1, 2, 4, ...
            30 s.  The default adds no jitter.
        websocket: True (default) when the core frames WebSocket over a raw
            byte stream (use :meth:`receive_data` / :meth:`data_to_send`).  False
            when the transport does WebSocket itself (use :meth:`receive_text` /
            :meth:`texts_to_send`).
        request_timeout: Default per-request timeout in seconds (10).  A
            request that times out on the wire declares the connection dead,
            so a silent server is noticed this long after a request is sent.
        ping_interval: Seconds between client ``signalwire.ping`` requests
            (15; the official client uses 30).  A ping times out after
            ``request_timeout``, so an idle silent server is noticed within
            ``ping_interval + request_timeout`` (25 s with the defaults).
        server_ping_watchdog: Once the server has sent ``signalwire.ping`` on
            a socket, receiving nothing at all for this many seconds (15, the
            official SDKs' value) emits :class:`~relay_proto.ConnectionDead`
            with a reason naming the watchdog (the JS SDK's behaviour; the
            Python SDK only logs).
        max_queue: Most requests waiting while offline (500); more raise
            :class:`~relay_proto.QueueFullError`.
        max_message_size: Largest inbound WebSocket message in bytes (10 MiB).
        max_active_calls: Cap on the call registry (1000); inbound calls past
            it are ACKed and not taken (:class:`~relay_proto.CallDropped`).
        over_capacity: What happens to an inbound call past
            ``max_active_calls``: ``"ignore"`` (default, the official client's
            behaviour: ACKed, dropped, logged) or ``"pass"`` (the core sends
            ``calling.pass`` so that another consumer of the context takes it).
        agent: The ``agent`` string sent in ``signalwire.connect``.
        reconnect_min_delay: The first reconnect delay in seconds (1); it
            doubles per failed attempt.
        reconnect_max_delay: The longest reconnect delay in seconds (30).
            Tests shorten both; ``0 < reconnect_min_delay <= reconnect_max_delay``.
        reconnect_reset_after: Seconds a session must have stayed
            authenticated for its loss to restart the backoff at
            ``reconnect_min_delay`` (10; ``>= 0``).  Sockets that open, or even
            authenticate, and are then dropped or rejected sooner keep the
            delays growing (1, 2, 4, ... 30 s).  This departs on purpose from
            the official client, which resets whenever a WebSocket opens and
            so retries a flapping server about once a second forever.
        on_frame: Called as ``on_frame(sent, text)`` with every JSON-RPC text
            the session sends (``sent=True``: requests, ACKs, replies) or
            receives (``False``), before it is framed or after it is
            reassembled, in order.  For recording a session
            (``relaykit.recording``); it must not raise, and gets the frames
            unscrubbed (credentials included): scrub before storing.  ``None``
            (default) costs nothing.

    Raises:
        LocalProtocolError: An argument is out of range.
    """

    def __init__(
        self,
        host: str = "relay.signalwire.com",
        target: str = "/",
        *,
        make_id: Callable[[], str] | None = None,
        jitter: Callable[[], float] | None = None,
        websocket: bool = True,
        request_timeout: float = 10.0,
        ping_interval: float = DEFAULT_PING_INTERVAL,
        server_ping_watchdog: float = SERVER_PING_WATCHDOG,
        max_queue: int = 500,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_active_calls: int = 1000,
        over_capacity: str = "ignore",
        agent: str = DEFAULT_AGENT,
        reconnect_min_delay: float = BACKOFF_MIN,
        reconnect_max_delay: float = BACKOFF_MAX,
        reconnect_reset_after: float = BACKOFF_RESET_AFTER,
        on_frame: Callable[[bool, str], None] | None = None,
    ) -> None:
        if not isinstance(host, str) or not host or any(c in host for c in "@/?\r\n \t"):
            raise LocalProtocolError(f"invalid host {host!r}")
        if not isinstance(target, str) or not target.startswith("/"):
            raise LocalProtocolError(f"invalid request target {target!r}")
        for name, value in (
            ("request_timeout", request_timeout),
            ("ping_interval", ping_interval),
            ("server_ping_watchdog", server_ping_watchdog),
            ("reconnect_min_delay", reconnect_min_delay),
            ("reconnect_max_delay", reconnect_max_delay),
        ):
            if not (isinstance(value, (int, float)) and 0 < value < float("inf")):
                raise LocalProtocolError(f"{name} must be a positive number, got {value!r}")
        if not (
            isinstance(reconnect_reset_after, (int, float))
            and not isinstance(reconnect_reset_after, bool)
            and 0 <= reconnect_reset_after < float("inf")
        ):
            raise LocalProtocolError(
                f"reconnect_reset_after must be a number >= 0, got {reconnect_reset_after!r}"
            )
        if reconnect_min_delay > reconnect_max_delay:
            raise LocalProtocolError(
                f"reconnect_min_delay ({reconnect_min_delay!r}) is larger than "
                f"reconnect_max_delay ({reconnect_max_delay!r})"
            )
        for name, count in (
            ("max_queue", max_queue),
            ("max_message_size", max_message_size),
            ("max_active_calls", max_active_calls),
        ):
            if not isinstance(count, int) or count < 1:
                raise LocalProtocolError(f"{name} must be a positive integer, got {count!r}")
        self.host = host
        self.target = target
        self.websocket = websocket
        self.max_message_size = max_message_size
        # Events from every layer land here, in order (next_event pops them).
        self._events: deque[Event] = deque()
        # The WebSocket of the current socket (websocket=True), or outgoing texts.
        self._ws: WebSocketClient | None = None
        self._texts: list[str] = []
        self._on_frame = on_frame
        send_text: Callable[[str], bool] = self._send_text if websocket else self._queue_text
        if on_frame is not None:
            send_text = self._observed(send_text, on_frame)
        self._session = Session(
            send_text=send_text,
            start_close=self._start_close,
            events=self._events,
            make_id=make_id or _counter_ids(),
            jitter=jitter or _no_jitter,
            request_timeout=float(request_timeout),
            ping_interval=float(ping_interval),
            max_queue=max_queue,
            max_active_calls=max_active_calls,
            agent=agent,
            reconnect_min_delay=float(reconnect_min_delay),
            reconnect_max_delay=float(reconnect_max_delay),
            reconnect_reset_after=float(reconnect_reset_after),
            server_ping_watchdog=float(server_ping_watchdog),
            over_capacity=over_capacity,
        )
        self._calls_view = MappingProxyType(self._session.router.calls)

    # ------------------------------------------------------------------ views

    @property
    def state(self) -> SessionState:
        """The current :class:`~relay_proto.SessionState`."""
        return self._session.state

    @property
    def is_ready(self) -> bool:
        """True when authenticated and requests go out immediately (not queued)."""
        return self._session.is_ready

    @property
    def protocol(self) -> str | None:
        """The server-assigned session ``protocol`` (sent back on reconnect), if any."""
        credentials = self._session.credentials
        return credentials.protocol if credentials is not None else None

    @property
    def identity(self) -> str | None:
        """The identity from the last successful ``signalwire.connect``, if any."""
        return self._session.identity

    @property
    def stats(self) -> ConnectionStats:
        """Liveness and request counters: last message received, last ping round
        trip, requests in flight and in the offline queue (a fresh frozen copy)."""
        return self._session.stats()

    @property
    def calls(self) -> Mapping[str, CallInfo]:
        """Live calls known to the core, by ``call_id`` (a read-only view)."""
        return self._calls_view

    @property
    def contexts(self) -> list[str]:
        """The contexts the session receives on (a copy)."""
        credentials = self._session.credentials
        return list(credentials.contexts) if credentials is not None else []

    # --------------------------------------------------------------- commands

    def open_session(
        self,
        *,
        project: str | None = None,
        token: str | None = None,
        jwt_token: str | None = None,
        contexts: Iterable[str] = (),
        protocol: str | None = None,
        authorization_state: str | None = None,
    ) -> None:
        """Give the credentials and contexts (once, before the first socket).

        Args:
            project: Project id (with *token*).
            token: API token (with *project*).
            jwt_token: A JWT instead of project + token.
            contexts: Contexts to receive inbound calls/messages on.
            protocol: Resume state from an earlier process (optional).
            authorization_state: Resume state; only together with *protocol*.

        Raises:
            LocalProtocolError: Called twice, after ``connection_made``, or
                without usable credentials.

        Next: open a socket and call :meth:`connection_made`.
        """
        self._session.open_session(
            SessionIdentity(
                project=project,
                token=token,
                jwt_token=jwt_token,
                contexts=contexts,
                protocol=protocol,
                authorization_state=authorization_state,
            )
        )

    def connection_made(self, now: float) -> None:
        """Tell the core a socket to the server is open.

        With ``websocket=True`` this queues the WebSocket handshake; the
        ``signalwire.connect`` request follows once the server accepts it.  With
        ``websocket=False`` ``signalwire.connect`` is queued right away.

        Raises:
            LocalProtocolError: No session opened yet, or a socket is already
                open (call :meth:`connection_lost` first), or the client closed.

        Next: flush :meth:`data_to_send` (or :meth:`texts_to_send`).
        """
        self._session.connection_made(now)
        if self.websocket:
            self._ws = WebSocketClient(self.host, self.target, self.max_message_size)
            self._ws.start()
        else:
            self._texts.clear()
            self._session.transport_opened(now)

    def connection_lost(self, now: float, reason: str = "connection lost") -> None:
        """Tell the core the socket is gone (or an attempt to open one failed).

        Requests that were on the wire get :class:`~relay_proto.RequestCancelled`
        (``sent=True``: their outcome is unknown); requests still queued wait
        for the next socket.  Pending dials that were sent stay pending: if the
        next session resumes this one their events keep coming, otherwise they
        fail with ``DialCompleted(reason="connection_lost")`` and their known
        legs are hung up.
        Unless the client closed or failed, a
        :class:`~relay_proto.ReconnectScheduled` follows.  Calling it again for
        the same socket is harmless.

        Next: drain :meth:`next_event`; open a new socket at ``ReconnectScheduled.at``.
        """
        self._ws = None
        self._texts.clear()
        self._session.connection_lost(now, reason)

    def send_request(
        self,
        method: str,
        params: Mapping[str, Any],
        now: float,
        *,
        timeout: float | None = None,
    ) -> str:
        """Send a RELAY request, or queue it while not authenticated.

        Action methods (``calling.play`` ...) register ``params["control_id"]``
        and ``calling.dial`` registers ``params["tag"]``, so the core can report
        :class:`~relay_proto.ActionCompleted` / :class:`~relay_proto.DialCompleted`.

        Args:
            method: E.g. ``"calling.answer"``.
            params: The request's params object (encoded now; not copied or kept).
            now: The current time.
            timeout: Seconds until :class:`~relay_proto.RequestTimedOut`
                (default ``request_timeout``).  It runs while queued, too.

        Returns:
            The request id.  Exactly one of ``ResponseReceived``,
            ``RequestFailed``, ``RequestTimedOut`` or ``RequestCancelled`` will
            carry it.

        Raises:
            QueueFullError: Offline and ``max_queue`` requests already wait.
            LocalProtocolError: Bad arguments, or the client is closing/closed/failed.

        Next: flush :meth:`data_to_send`; re-arm the timer.
        """
        return self._session.send_request(method, params, now, timeout)

    def subscribe(self, contexts: Iterable[str], now: float) -> str:
        """Receive on more *contexts* (``signalwire.receive``); remembered for reconnects.

        Returns:
            The request id (outcome events as for :meth:`send_request`).

        Raises:
            LocalProtocolError: Empty or invalid contexts, or the client is closed.
        """
        return self._session.subscribe(contexts, now)

    def unsubscribe(self, contexts: Iterable[str], now: float) -> str:
        """Stop receiving on *contexts* (``signalwire.unreceive``).

        Returns:
            The request id.

        Raises:
            LocalProtocolError: Empty or invalid contexts, or the client is closed.
        """
        return self._session.unsubscribe(contexts, now)

    def abandon_dial(self, tag: str, now: float) -> bool:
        """The application gave up on the dial *tag*: make sure no leg of it stays up.

        Call it whenever a ``calling.dial`` stops being awaited without its
        answered call being handed to someone (the awaiting task cancelled,
        the dial timeout expired, ...).  Then:

        * a dial still in the offline queue is withdrawn: its request gets
          :class:`~relay_proto.RequestCancelled` with ``sent=False`` and
          nothing ever reaches the server;
        * a pending dial completes with :class:`~relay_proto.DialCompleted`
          ``reason="abandoned"``;
        * every live leg already known for *tag* (the winner of an answered
          dial included) and every leg reported later, after a reconnect and
          resume too, gets ``calling.end`` (reason ``hangup``) from the core,
          announced once per leg by :class:`~relay_proto.CallHungUpByCore`.
          Legs first seen after the abandon are not emitted as call events.

        Args:
            tag: The dial's ``tag``.
            now: The current time.

        Returns:
            True when there was something to end (a pending dial or a live
            leg); False for an unknown tag, a dial already over, or a closed client.

        Raises:
            LocalProtocolError: *tag* is not a non-empty string.

        Next: flush :meth:`data_to_send`, drain :meth:`next_event`, re-arm the timer.
        """
        return self._session.abandon_dial(tag, now)

    def close(self, now: float) -> None:
        """Close for good: cancel everything pending and never reconnect.

        Every pending request gets :class:`~relay_proto.RequestCancelled` and
        every pending dial :class:`~relay_proto.DialCompleted`
        (``"connection_lost"``); when authenticated, the known legs of those
        dials get ``calling.end`` first, written before the close frame.  If
        the WebSocket is open a close handshake starts (state ``CLOSING``);
        :class:`~relay_proto.ConnectionClosed` (``will_reconnect=False``) comes
        when it ends, times out, or right away when there is nothing to close.
        Calling it again is harmless.

        Next: flush :meth:`data_to_send`, keep reading until ``ConnectionClosed``,
        then close the socket.
        """
        self._session.close(now)

    # ----------------------------------------------------------------- inputs

    def receive_data(self, data: bytes, now: float) -> None:
        """Feed bytes read from the socket (``b""`` means end of stream).

        One call may carry any number of frames, or part of one.  Bad input
        never raises: it becomes a :class:`~relay_proto.ProtocolErrorReceived`
        (skipped) or a :class:`~relay_proto.ConnectionDead` (socket unusable).
        Bytes arriving after the core gave up on the socket are ignored.

        Raises:
            LocalProtocolError: ``websocket=False``, or no socket was ever made.

        Next: flush :meth:`data_to_send`, drain :meth:`next_event`, re-arm the timer.
        """
        if not self.websocket:
            raise LocalProtocolError("websocket=False: feed messages with receive_text()")
        ws = self._ws
        if ws is None:
            if self._session.state is SessionState.IDLE:
                raise LocalProtocolError("receive_data() before connection_made()")
            return
        session = self._session
        on_frame = self._on_frame
        for item in ws.receive_data(data):
            if type(item) is str:
                if on_frame is not None:
                    on_frame(False, item)
                session.receive_text(item, now)
            elif type(item) is WsOpened:
                session.transport_opened(now)
            elif type(item) is WsProblem:
                session.protocol_problem(item.message)
            elif type(item) is WsDead:
                session.transport_dead(item.reason, now)
            elif type(item) is WsClosed:
                session.transport_closed(item.code, item.reason, now)

    def receive_text(self, text: str, now: float) -> None:
        """Feed one complete text message (``websocket=False`` transports only).

        Raises:
            LocalProtocolError: ``websocket=True``, or no socket was ever made.

        Next: send :meth:`texts_to_send`, drain :meth:`next_event`, re-arm the timer.
        """
        if self.websocket:
            raise LocalProtocolError("websocket=True: feed bytes with receive_data()")
        if self._session.state is SessionState.IDLE:
            raise LocalProtocolError("receive_text() before connection_made()")
        if self._on_frame is not None:
            self._on_frame(False, text)
        self._session.receive_text(text, now)

    def handle_timer(self, now: float) -> None:
        """Run timeouts, pings and deadlines due at *now* (call when ``now >= get_timer()``).

        Calling it early or repeatedly is harmless.

        Next: flush output, drain events, re-arm the timer.
        """
        self._session.handle_timer(now)

    # ---------------------------------------------------------------- outputs

    def get_timer(self) -> float | None:
        """The next time :meth:`handle_timer` must run, or None when nothing is scheduled."""
        return self._session.get_timer()

    def data_to_send(self) -> bytes:
        """Everything to write to the socket, coalesced into one buffer (``websocket=True``).

        Returns:
            The bytes (possibly ``b""``).  The core forgets them once returned.
        """
        ws = self._ws
        if ws is None or not ws.out:
            return b""
        data = bytes(ws.out)
        ws.out.clear()
        return data

    def texts_to_send(self) -> list[str]:
        """The text messages to send, in order (``websocket=False``)."""
        texts = self._texts
        self._texts = []
        return texts

    def next_event(self) -> Event | None:
        """Pop the next event, or None when there are none.

        Events come out in the order their causes happened; every response,
        failure, timeout or cancellation of a request id comes out exactly once.
        """
        events = self._events
        return events.popleft() if events else None

    # ------------------------------------------------------------ layer glue

    def _send_text(self, text: str) -> bool:
        ws = self._ws
        return ws is not None and ws.send_text(text)

    @staticmethod
    def _observed(
        send_text: Callable[[str], bool], on_frame: Callable[[bool, str], None]
    ) -> Callable[[str], bool]:
        """*send_text* that shows each text to *on_frame* first (the ``on_frame`` option)."""

        def send(text: str) -> bool:
            on_frame(True, text)
            return send_text(text)

        return send

    def _queue_text(self, text: str) -> bool:
        self._texts.append(text)
        return True

    def _start_close(self) -> bool:
        if self.websocket:
            ws = self._ws
            return ws is not None and ws.close()
        # The transport closes its own WebSocket once it sees ConnectionClosed.
        return False
