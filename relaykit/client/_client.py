"""``RelayClient``: the user-facing client, written once for every event loop.

The class is bound to an event loop by subclassing with a runtime (see
:mod:`relaykit.client`).  It owns one task group for its whole connected
life: the connection driver and every inbound call and message handler run
there, each handler as its own task, so one failing handler is logged with its
call id and affects nothing else.  The group lives in a task of its own (a
runner started by :meth:`RelayClient.connect` with the runtime's
``spawn_system_task`` and stopped by :meth:`RelayClient.disconnect`), never in
the caller's task: ``connect()`` and ``disconnect()`` can then be wrapped in
any timeout or cancel scope, called from different tasks, or (``disconnect()``)
from a handler, without breaking the nesting of anybody's cancel scopes.

The client owns the connection (the core, the driver, the task group) and its
configuration; it holds one :class:`~relaykit.client._dispatch.Dispatcher`,
which owns the id -> object registries and routes the core's events.  Errors
are mapped by type at this boundary: misuse (a bad method name, params that
are not JSON) is ``TypeError``/``ValueError``; a closed or lost connection is
:class:`~relay_proto.ConnectionLostError`.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from functools import partial
from typing import IO, TYPE_CHECKING, Any, NoReturn

from relay_proto import (
    DEFAULT_PING_INTERVAL,
    OVER_CAPACITY_POLICIES,
    AuthenticationFailed,
    ConnectionLostError,
    LocalProtocolError,
    RelayConnection,
    RelayError,
    RelayEvent,
    RelayTimeoutError,
    SessionState,
)

from . import _commands as build
from ._call import Call
from ._config import (
    ClientConfig,
    authentication_failure,
    max_connections,
    redact_url,
    resolve_config,
    resolve_record,
)
from ._dispatch import Dispatcher
from ._driver import Driver
from ._health import ConnectionChange, Health, SessionResumed, SessionStartedFresh
from ._message import Message
from ._runtime import AsyncEvent, Runtime, TaskGroup, Transport
from ._telemetry import Telemetry, check_option, open_telemetry

if TYPE_CHECKING:
    from relaykit.recording import SessionRecorder

__all__ = ["RelayClient"]

logger = logging.getLogger("relaykit.client")

CallHandler = Callable[[Call], Awaitable[Any]]
MessageHandler = Callable[[Message], Awaitable[Any]]

#: ids of the clients of this process that hold a connection (RELAY_MAX_CONNECTIONS).
_connected: set[int] = set()

#: How long ``disconnect()`` waits for the goodbye.  The core gives the server
#: 5 s to answer the close frame (``CLOSE_TIMEOUT`` in ``relay_proto/_session.py``,
#: which the core's public face does not export); one more second lets the
#: core's own close deadline fire first, so the polite path always wins.
_CORE_CLOSE_TIMEOUT = 5.0
DISCONNECT_TIMEOUT = _CORE_CLOSE_TIMEOUT + 1.0

#: The driver of the client whose task group the running code belongs to (its
#: runner, the driver, every handler and callback): ``disconnect()`` called from
#: there cannot wait for that group to end.
_inside_client: ContextVar[Driver | None] = ContextVar("relaykit_inside_client", default=None)

#: Core states in which it refuses requests: the connection is closed for good.
_CLOSED_STATES = frozenset({SessionState.CLOSING, SessionState.CLOSED, SessionState.FAILED})


def _shown_on_stderr(log: logging.Logger, level: int) -> bool:
    """True when a record at *level* on *log* reaches ``sys.stderr``.

    Through a ``StreamHandler`` on stderr up the logger tree, or, when no
    handler is configured anywhere, through ``logging.lastResort`` (what a
    program that never configured logging gets).
    """
    if not log.isEnabledFor(level):
        return False
    current: logging.Logger | None = log
    configured = False
    while current is not None:
        for handler in current.handlers:
            configured = True
            stream = getattr(handler, "stream", None)
            if (
                isinstance(handler, logging.StreamHandler)
                and level >= handler.level
                and stream is not None
                and stream in (sys.stderr, sys.__stderr__)
            ):
                return True
        if not current.propagate:
            break
        current = current.parent
    if configured:
        return False
    last = logging.lastResort
    return last is not None and level >= last.level


def _map_refusal(exc: LocalProtocolError, state: SessionState) -> Exception:
    """The user-facing error for a command the core refused, by type and cause.

    Misuse (params that cannot be encoded, any argument the core rejects) is
    ``TypeError``/``ValueError``; a refusal because the connection is closed is
    :class:`ConnectionLostError`.
    """
    cause = exc.__cause__
    if isinstance(cause, TypeError):
        return TypeError(exc.msg)
    if isinstance(cause, ValueError):
        return ValueError(exc.msg)
    if state in _CLOSED_STATES:
        # Refused before anything was written: it never left (safe to retry).
        return ConnectionLostError(-1, f"the client is closing or closed: {exc.msg}", sent=False)
    return ValueError(exc.msg)


class RelayClient:
    """A SignalWire RELAY client (calls and SMS/MMS).

    Args:
        project: Project id (else ``SIGNALWIRE_PROJECT_ID``).
        token: API token (else ``SIGNALWIRE_API_TOKEN``).
        jwt_token: JWT instead of project + token (else ``SIGNALWIRE_JWT_TOKEN``).
        host: Space host, optionally ``host:port`` (else ``SIGNALWIRE_SPACE``,
            default ``relay.signalwire.com``).
        contexts: Contexts to receive inbound calls and messages on.
        max_active_calls: Cap on tracked calls (else ``RELAY_MAX_ACTIVE_CALLS``,
            default 1000); what happens to inbound calls beyond it is *over_capacity*.
        url: Full ``ws://`` / ``wss://`` URL; overrides *host*.  Only when neither
            is given: ``SIGNALWIRE_RELAY_URL``.  ``ws://`` is for the local emulator
            (loopback only, unless *allow_insecure*).
        allow_insecure: Accept ``ws://`` to a host that is not loopback (the
            project and token then travel unencrypted); default False.
        transport: Another way to reach the server (e.g. the httpx-ws transport
            for HTTP proxies); default: the runtime's TCP/TLS transport.
        request_timeout: Seconds before a request fails with a timeout (10).
        ping_interval: Seconds between liveness pings (15): with
            *request_timeout*, an idle server gone silent is noticed within
            25 s (the official client pings every 30 s).
        connect_timeout: Seconds allowed to open a session (10): TCP, TLS,
            WebSocket and ``signalwire.connect`` together.
        shutdown_grace: Seconds ``run()`` lets running handlers finish on
            Ctrl+C / SIGTERM (30).
        slow_listener_threshold: Synchronous ``call.on`` listeners slower than
            this many seconds are logged (0.1).
        reconnect_min_delay: First reconnect delay in seconds (1); doubles per
            failed attempt.  For tests, like the timeouts above.
        reconnect_max_delay: Longest reconnect delay in seconds (30).
        telemetry: OpenTelemetry spans and metrics (docs/observability.md):
            ``None`` records when a global provider is configured, ``True``
            always, ``False`` never; a ``relaykit.observability.Telemetry``
            names the providers.
        over_capacity: Inbound calls beyond *max_active_calls*: ``"ignore"``
            (default, as the official client: acknowledged, not taken, logged)
            or ``"pass"`` (handed back with ``calling.pass``, so another worker
            subscribed to the context takes it).
        record: Journal every frame of the session, both ways and across
            reconnects, to this JSONL file (a path, truncated at construction,
            or an open text file), with ``token``, ``jwt_token`` and
            ``authorization_state`` scrubbed: the emulator's journal format,
            which ``relaykit trace`` draws (docs/testing.md).  Else the
            ``RELAYKIT_RECORD`` environment variable (a path); default: off.

    Raises:
        ValueError: Missing credentials (naming the environment variable),
            invalid host or URL, bad ``max_active_calls``.
        OSError: The *record* file cannot be opened.
    """

    #: The event-loop runtime: the adapter's subclass sets it on the class (see
    #: relaykit.client); each start replaces it, for this client, with ``bind()``'s.
    _runtime: Runtime

    def __init__(
        self,
        project: str | None = None,
        token: str | None = None,
        jwt_token: str | None = None,
        host: str | None = None,
        contexts: list[str] | None = None,
        max_active_calls: int | None = None,
        *,
        url: str | None = None,
        transport: Transport | None = None,
        request_timeout: float = 10.0,
        ping_interval: float = DEFAULT_PING_INTERVAL,
        connect_timeout: float = 10.0,
        shutdown_grace: float = 30.0,
        slow_listener_threshold: float = 0.1,
        reconnect_min_delay: float = 1.0,
        reconnect_max_delay: float = 30.0,
        allow_insecure: bool = False,
        telemetry: bool | Telemetry | None = None,
        over_capacity: str = "ignore",
        record: str | os.PathLike[str] | IO[str] | None = None,
    ) -> None:
        if getattr(type(self), "_runtime", None) is None:
            raise TypeError(
                "relaykit.client.RelayClient is not bound to an event loop; "
                "use relay_anyio.RelayClient or relay_trio.RelayClient"
            )
        for name, value in (
            ("request_timeout", request_timeout),
            ("ping_interval", ping_interval),
            ("connect_timeout", connect_timeout),
            ("reconnect_min_delay", reconnect_min_delay),
            ("reconnect_max_delay", reconnect_max_delay),
        ):
            if not (isinstance(value, (int, float)) and 0 < value < float("inf")):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if reconnect_min_delay > reconnect_max_delay:
            raise ValueError("reconnect_min_delay must not exceed reconnect_max_delay")
        for name, value in (
            ("shutdown_grace", shutdown_grace),
            ("slow_listener_threshold", slow_listener_threshold),
        ):
            build.check_timeout(name, value)  # a non-negative number
        for name, text in (
            ("project", project),
            ("token", token),
            ("jwt_token", jwt_token),
            ("host", host),
            ("url", url),
        ):
            if text is not None and not isinstance(text, str):
                raise TypeError(f"{name} must be a string, got {type(text).__name__}")
        if contexts is not None:
            contexts = build.check_contexts(contexts)
        self._config: ClientConfig = resolve_config(
            project=project,
            token=token,
            jwt_token=jwt_token,
            host=host,
            contexts=contexts,
            max_active_calls=max_active_calls,
            url=url,
            allow_insecure=allow_insecure,
        )
        self._contexts = list(self._config.contexts)
        self._transport = transport
        self._request_timeout = float(request_timeout)
        self._ping_interval = float(ping_interval)
        if over_capacity not in OVER_CAPACITY_POLICIES:
            raise ValueError(
                f"over_capacity must be one of {sorted(OVER_CAPACITY_POLICIES)}, "
                f"got {over_capacity!r}"
            )
        self._over_capacity = over_capacity
        self._reconnect_delays = (float(reconnect_min_delay), float(reconnect_max_delay))
        self._connect_timeout = float(connect_timeout)
        self.shutdown_grace = float(shutdown_grace)
        self.slow_listener_threshold = float(slow_listener_threshold)
        self._conn: RelayConnection | None = None
        self._driver: Driver | None = None
        self._group: TaskGroup | None = None
        # The runner task of the connected life: told to stop, and done.
        self._stop_runner: AsyncEvent | None = None
        self._runner_done: AsyncEvent | None = None
        # The event loop connect() ran on (uses from elsewhere fail at once).
        self._loop: object = None
        self._dispatcher = Dispatcher(
            self, self._runtime, self._send_request, self._abandon_dial_in_core
        )
        self._telemetry = check_option(telemetry)
        self._dispatcher.monitor.add_listener(self._log_reconnected)
        self._recorder: SessionRecorder | None = self._open_recorder(record)

    def _open_recorder(self, record: object) -> SessionRecorder | None:
        """The session journal for ``record=`` / ``RELAYKIT_RECORD``, or None when off."""
        target = resolve_record(record)
        if target is None:
            return None
        from relaykit.recording import SessionRecorder  # only when recording

        source = "record=" if record is not None else "RELAYKIT_RECORD="
        try:
            recorder = SessionRecorder(target, clock=lambda: self._runtime.current_time())
        except OSError as exc:
            raise OSError(
                exc.errno, f"{source}{target!r}: cannot open the session journal: {exc.strerror}"
            ) from None
        logger.info("recording the session's frames to %s (secrets scrubbed)", target)
        return recorder

    def _log_reconnected(self, change: ConnectionChange) -> None:
        """The INFO line of each reconnect: where to, resumed or fresh, which contexts."""
        if isinstance(change, SessionResumed):
            how = "session resumed"
        elif isinstance(change, SessionStartedFresh):
            how = "fresh session: the old one's calls and events are gone"
        else:
            return
        logger.info(
            "reconnected to %s (%s, %.3g s offline); %s",
            redact_url(self._config.url),
            how,
            change.downtime,
            self._waiting_for(),
        )

    def _waiting_for(self) -> str:
        if self._contexts:
            return f"waiting for calls on contexts {self._contexts}"
        return "no contexts subscribed (outbound only)"

    def __repr__(self) -> str:
        # Never raises, even for a half-constructed client (__init__ raised midway).
        conn = getattr(self, "_conn", None)
        state = conn.state.value if conn is not None else "DISCONNECTED"
        config = getattr(self, "_config", None)
        url = config.url if config is not None else None
        return f"<{type(self).__name__} url={url!r} state={state}>"

    # ------------------------------------------------------------------
    # Properties
    # ------------------------------------------------------------------

    @property
    def project(self) -> str:
        """The project id (``""`` in JWT mode when none was given)."""
        return self._config.project

    @property
    def token(self) -> str:
        """The API token (never logged)."""
        return self._config.token

    @property
    def jwt_token(self) -> str:
        """The JWT, if JWT authentication is used (never logged)."""
        return self._config.jwt_token

    @property
    def host(self) -> str:
        """The RELAY host (``host`` or ``host:port``)."""
        return self._config.host

    @property
    def url(self) -> str:
        """The WebSocket URL the client connects to."""
        return self._config.url

    @property
    def contexts(self) -> list[str]:
        """The contexts the client receives on (a copy)."""
        return list(self._contexts)

    @property
    def dispatcher(self) -> Dispatcher:
        """The engine behind this client's calls, messages and actions (internal).

        The object model's one link from a user-facing parent to the engine:
        ``Call(client, ...)`` and ``Message(client=...)``, the official SDK's
        signatures, reach the connection through it.  Not part of the official
        API, and programs have no use for it.
        """
        return self._dispatcher

    @property
    def relay_protocol(self) -> str:
        """The server-assigned protocol string of the session (read-only; ``""`` before)."""
        return self._dispatcher.protocol

    @property
    def connected(self) -> bool:
        """True while the session is authenticated and requests go out at once."""
        return self._driver is not None and self._driver.ready

    # ------------------------------------------------------------------
    # Handlers
    # ------------------------------------------------------------------

    def on_call(self, handler: CallHandler) -> CallHandler:
        """Decorator: run ``await handler(call)`` for every inbound call (replaces any previous)."""
        self._dispatcher.on_call = handler
        return handler

    def on_message(self, handler: MessageHandler) -> MessageHandler:
        """Decorator: run ``await handler(message)`` per inbound SMS/MMS (replaces previous)."""
        self._dispatcher.on_message = handler
        return handler

    def on_connection_state(
        self, listener: Callable[[ConnectionChange], Any]
    ) -> Callable[[ConnectionChange], Any]:
        """Decorator: call *listener* (sync or async) with every connection change."""
        return self._dispatcher.monitor.add_listener(listener)

    def health(self) -> Health:
        """A snapshot of the connection for readiness probes (docs/observability.md)."""
        return self._dispatcher.monitor.health(self._conn)

    # ------------------------------------------------------------------
    # Lifecycle
    # ------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect and authenticate; return once the session is ready.

        The client's tasks run in a task of their own until :meth:`disconnect`,
        so ``connect()`` may be wrapped in any timeout or cancel scope
        (``asyncio.wait_for``, ``anyio.fail_after``, ``trio.move_on_after``...):
        when it is cancelled or times out, the attempt is closed and the client
        is left disconnected, ready to connect again.  Use the client from the
        event loop (and thread) it connected on only.

        Raises:
            RuntimeError: Already connected, or ``RELAY_MAX_CONNECTIONS`` clients
                of this process are already connected.
            ConnectionRefusedError: The server could not be reached, or it did
                not let us open a RELAY session (within ``connect_timeout``:
                "timed out").
            ssl.SSLCertVerificationError: The server's TLS certificate could not
                be verified (the message names ``SIGNALWIRE_RELAY_CA_FILE``).
            AuthenticationFailed: The credentials were rejected 3 times.
        """
        await self._start(fail_fast=True)

    async def _start(self, *, fail_fast: bool) -> None:
        if self._driver is not None:
            raise RuntimeError("this RelayClient is already connected")
        limit = max_connections()
        if id(self) not in _connected and len(_connected) >= limit:
            raise RuntimeError(
                f"RELAY_MAX_CONNECTIONS={limit}: {len(_connected)} RelayClient connection(s) "
                "already open in this process; disconnect one or raise RELAY_MAX_CONNECTIONS"
            )
        _connected.add(id(self))
        try:
            await self._open(fail_fast)
        except BaseException:
            await self._teardown()
            raise
        if self.connected:  # not when run() was stopped while still connecting
            logger.info("connected to %s; %s", redact_url(self._config.url), self._waiting_for())
        logger.debug("session protocol %s", self._dispatcher.protocol)

    async def _open(self, fail_fast: bool) -> None:
        rt = self._runtime = type(self)._runtime.bind()  # the backend, chosen once per start
        self._loop = rt.loop_identity()
        # Calls, actions and waiters made from now on use the bound runtime too.
        self._dispatcher.runtime = rt
        transport = self._transport if self._transport is not None else rt.default_transport
        cfg = self._config
        conn = RelayConnection(
            cfg.host,
            cfg.target,
            make_id=rt.make_id,
            jitter=rt.jitter,
            websocket=not transport.frames_websocket,
            request_timeout=self._request_timeout,
            ping_interval=self._ping_interval,
            reconnect_min_delay=self._reconnect_delays[0],
            reconnect_max_delay=self._reconnect_delays[1],
            max_active_calls=cfg.max_active_calls,
            over_capacity=self._over_capacity,
            on_frame=self._recorder,
        )
        conn.open_session(
            project=cfg.project or None,
            token=cfg.token or None,
            jwt_token=cfg.jwt_token or None,
            contexts=self._contexts,
        )
        self._conn = conn
        dispatcher = self._dispatcher
        dispatcher.draining = False
        self._driver = driver = Driver(
            conn,
            rt,
            transport,
            cfg,
            dispatcher.dispatch,
            connect_timeout=self._connect_timeout,
            fail_fast=fail_fast,
        )
        driver.on_connecting = dispatcher.monitor.connecting
        stop = self._stop_runner = rt.create_event()
        done = self._runner_done = rt.create_event()
        rt.spawn_system_task(
            partial(self._run_group, rt, driver, stop, done), name=f"relaykit client {cfg.url}"
        )
        await driver.settled.wait()
        if driver.error is not None:
            raise driver.error

    async def _run_group(
        self, rt: Runtime, driver: Driver, stop: AsyncEvent, done: AsyncEvent
    ) -> None:
        """The runner: hold the client's task group open until told to stop.

        It runs outside every caller's scope (``spawn_system_task``), so it must
        not raise: a failure is logged and becomes the driver's error.
        """
        _inside_client.set(driver)
        dispatcher = self._dispatcher
        try:
            async with rt.open_task_group() as group:
                if self._driver is driver:
                    self._group = group
                    dispatcher.pool = rt.start_task_pool(group)
                    # After the pool: its lag monitor runs there.  Before the driver:
                    # no event goes unrecorded.
                    dispatcher.telemetry = open_telemetry(self._telemetry, dispatcher, driver.conn)
                group.start_soon(driver.run, name=f"relaykit connection {self._config.url}")
                await stop.wait()
                group.cancel_scope.cancel()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            if isinstance(exc, rt.cancelled_exc_class()):
                raise  # the event loop is shutting down
            logger.error("the client's task group failed", exc_info=exc)
            if driver.error is None:
                driver.error = exc if isinstance(exc, Exception) else RuntimeError(repr(exc))
        finally:
            if self._driver is driver:
                self._group = None
                dispatcher.pool = None
            driver.settled.set()  # a connect() still waiting must not hang
            driver.finished.set()
            done.set()

    def _check_loop(self) -> None:
        """Raise ``RuntimeError`` unless called on the event loop the client connected on."""
        try:
            loop = self._runtime.loop_identity()
        except RuntimeError:
            loop = None
        if loop is not self._loop:
            raise RuntimeError(
                "this RelayClient is used from another event loop or thread than the one "
                "it connected on; use each client from its own loop only"
            )

    async def disconnect(self) -> None:
        """Close the connection cleanly (WebSocket close handshake) and stop.

        Pending requests fail with :class:`~relay_proto.ConnectionLostError`;
        handlers still running are cancelled (use :meth:`drain` first to let
        them finish).  The goodbye is shielded and bounded (6 s), so it also
        runs when the caller's scope was cancelled; a timeout around
        ``disconnect()`` that expired meanwhile then fires (the client is
        disconnected either way).  Safe to call twice.

        Dials still ringing are ended first (every known leg is hung up), and
        the :meth:`dial` awaiting each raises :class:`~relay_proto.ConnectionLostError`.
        Called from an ``on_call`` handler, it stops the client and returns;
        the handler is then cancelled with the client's other tasks.

        Raises:
            RuntimeError: Called from another event loop or thread than ``connect()``.
        """
        driver = self._driver
        if driver is None:
            return
        self._check_loop()
        rt = self._runtime
        try:
            with rt.move_on_at(rt.current_time() + DISCONNECT_TIMEOUT, shield=True):
                if driver.ready:
                    await self._end_pending_dials()
                if not driver.finished.is_set():
                    driver.close()
                    await driver.flush()
                    await driver.finished.wait()
                await driver.goodbye()
            if not driver.finished.is_set():
                driver.abort()
        finally:
            await self._teardown()
        logger.info("disconnected from %s", self._config.url)
        if _inside_client.get() is not driver:
            # The goodbye ran shielded: a caller's scope that expired meanwhile
            # (an anyio/trio timeout around disconnect()) fires now, as asyncio's
            # own cancellation (asyncio.wait_for) already does.  Not from a handler:
            # it returns, and is cancelled with the client's tasks at its next await.
            await rt.checkpoint()

    async def _end_pending_dials(self) -> None:
        """Hang up every known leg of the dials still ringing; wait (bounded) for their end."""
        legs = self._dispatcher.abandon_all_dials()
        if not legs:
            return
        rt = self._runtime
        with rt.move_on_at(rt.current_time() + min(self._request_timeout, 2.0)):
            for leg in legs:
                await leg.wait_for_ended()

    async def _teardown(self) -> None:
        """Stop the runner (waiting for it, shielded and bounded) and forget the connection."""
        driver, stop, done = self._driver, self._stop_runner, self._runner_done
        rt = self._runtime
        # From one of the client's own tasks (a handler), the group cannot be
        # waited for: it is told to stop, and cancels the caller with the rest.
        inside = driver is not None and _inside_client.get() is driver
        try:
            if stop is not None:
                stop.set()
                if done is not None and not inside:
                    with rt.move_on_at(rt.current_time() + DISCONNECT_TIMEOUT, shield=True):
                        await done.wait()
                    if not done.is_set():
                        logger.warning(
                            "the client's tasks did not stop within %s s", DISCONNECT_TIMEOUT
                        )
            if driver is not None and not inside:
                # A socket left open by a cancelled connection: close it (bounded).
                with rt.move_on_at(rt.current_time() + 1.0, shield=True):
                    await driver.goodbye()
        finally:
            if self._driver is driver:
                self._group = None
                self._dispatcher.pool = None
                if self._dispatcher.telemetry is not None:
                    self._dispatcher.telemetry.stop()
                    self._dispatcher.telemetry = None
                self._driver = None
                self._conn = None
                self._stop_runner = self._runner_done = None
                _connected.discard(id(self))
                self._dispatcher.release_waiters()
                if self._recorder is not None:
                    self._recorder.close()  # reopened to append if the client starts again

    async def __aenter__(self) -> RelayClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.disconnect()

    def run(self) -> None:
        """Connect and serve until interrupted (blocking).

        Reconnects with backoff whenever the connection drops, including when
        the server cannot be reached at first.  Ctrl+C or SIGTERM shut down
        cleanly: stop taking calls, let running handlers finish for up to
        ``shutdown_grace`` seconds, hang up (logged) the calls whose handlers
        still run, then close the WebSocket.  A second Ctrl+C / SIGTERM during
        that drain stops at once: the running handlers' calls are hung up and
        the connection closed without waiting any longer.

        It logs one INFO line (``relaykit.client``) when connected and one on
        each reconnect: the URL, resumed or fresh, and the contexts it waits
        for calls on.  Turn logging on to see them
        (``logging.basicConfig(level=logging.INFO)``).

        A fatal error ends the program with one line and exit status 1, not a
        traceback: credentials rejected 3 times (the line names the URL, the
        project and where each credential came from, never the token), a TLS
        certificate that cannot be verified, any other ``OSError`` or
        ``RelayError`` that stops the client.  The line is logged at ERROR and
        written to stderr when logging would not show it there; the traceback
        is logged at DEBUG.  (``connect()`` raises these errors instead.)

        Raises:
            SystemExit: Status 1, after a fatal error (the error is its ``__cause__``).
        """
        try:
            self._runtime.run(self._serve_forever)
        except (RelayError, OSError) as exc:
            self._exit_on_fatal_error(exc)

    def _exit_on_fatal_error(self, exc: RelayError | OSError) -> NoReturn:
        """``run()``'s end after a fatal error: one line (ERROR and stderr), exit status 1."""
        cfg = self._config
        logger.debug("client.run() stopped by a fatal error", exc_info=exc)
        if isinstance(exc, AuthenticationFailed):
            line = authentication_failure(cfg, str(exc))
        else:
            text = str(exc) or type(exc).__name__
            for secret in (cfg.token, cfg.jwt_token):
                if secret:
                    text = text.replace(secret, "***")
            line = (
                f"client.run() stopped at {redact_url(cfg.url)} (project {cfg.project!r}): {text}"
            )
        logger.error("%s", line)
        if not _shown_on_stderr(logger, logging.ERROR):
            print(line, file=sys.stderr, flush=True)
        raise SystemExit(1) from exc

    async def _serve_forever(self) -> None:
        rt = self._runtime
        stop = rt.create_event()
        error: BaseException | None = None
        drain_scope: list[Any] = []  # the scope of the graceful drain, once it runs
        forced: list[bool] = []
        with rt.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with rt.open_task_group() as outer:

                async def watch_signals() -> None:
                    async for signum in signals:
                        name = signal.Signals(signum).name
                        if not stop.is_set():
                            logger.info("received %s: shutting down", name)
                            stop.set()
                            driver = self._driver
                            if driver is not None and not driver.settled.is_set():
                                driver.close()  # still connecting: nothing to drain
                            continue
                        logger.warning("received %s again: stopping at once", name)
                        forced.append(True)
                        for scope in drain_scope:
                            scope.cancel()
                        return

                outer.start_soon(watch_signals, name="relaykit signal watcher")
                try:
                    await self._start(fail_fast=False)
                except Exception as exc:
                    # Raised below, outside the task group, so that it is not
                    # wrapped in an exception group (trio nurseries are strict).
                    error = exc
                driver = self._driver
                if driver is not None and error is None and not stop.is_set():

                    async def watch_driver() -> None:
                        await driver.finished.wait()
                        stop.set()

                    outer.start_soon(watch_driver, name="relaykit driver watcher")
                    await stop.wait()
                    error = driver.error
                    if error is None:
                        await self._drain_for_shutdown(drain_scope, forced)
                await self.disconnect()
                outer.cancel_scope.cancel()
        if error is not None:
            raise error

    async def _drain_for_shutdown(self, drain_scope: list[Any], forced: list[bool]) -> None:
        """run()'s graceful stop: drain for ``shutdown_grace``, then hang up what is left."""
        rt = self._runtime
        finished = False
        with rt.move_on_at(math.inf) as scope:
            drain_scope.append(scope)
            if not forced:
                finished = await self.drain(self.shutdown_grace)
        drain_scope.clear()
        if finished:
            return
        why = "second signal" if forced else f"shutdown_grace ({self.shutdown_grace} s) ended"
        calls = self._dispatcher.hang_up_handler_calls(why)
        if not calls:
            return
        # Forced (a second signal): one round trip at most, not the request timeout.
        limit = 1.0 if forced else min(self._request_timeout, 2.0)
        with rt.move_on_at(rt.current_time() + limit):
            for call in calls:
                await call.wait_for_ended()

    async def drain(self, timeout: float | None = None) -> bool:
        """Stop taking new calls and wait for running handlers to finish.

        Unsubscribes every context (``signalwire.unreceive``) so the server
        routes new calls elsewhere; a call that still arrives is passed back
        (``calling.pass``).  Call :meth:`disconnect` afterwards.

        Args:
            timeout: Seconds to wait for the handlers; ``None`` waits as long as needed.

        Returns:
            True if every handler finished, False if *timeout* expired first.
        """
        rt = self._runtime
        dispatcher = self._dispatcher
        dispatcher.draining = True
        if self._contexts and self._driver is not None and not self._driver.finished.is_set():
            try:
                await self.unreceive(list(self._contexts))
            except RelayError as exc:
                logger.warning("drain: could not unsubscribe contexts: %s", exc)
        deadline = rt.current_time() + timeout if timeout is not None else float("inf")
        finished = await dispatcher.wait_handlers_idle(deadline)
        if not finished:
            logger.warning("drain: %d handler(s) still running", dispatcher.handlers_running)
        return finished

    # ------------------------------------------------------------------
    # Requests
    # ------------------------------------------------------------------

    async def execute(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send a raw RELAY request and return its result.

        Raises:
            TypeError: *method* is not a string, *params* not a dict, or not
                JSON-serialisable.
            ValueError: *method* is empty or ``signalwire.connect``.
            RelayError: The request failed: :class:`~relay_proto.RelayServerError`
                for a non-2xx answer (:class:`~relay_proto.CallGoneError` for
                404/410 on a call), :class:`~relay_proto.RelayTimeoutError`,
                :class:`~relay_proto.ConnectionLostError`, :class:`~relay_proto.QueueFullError`.
        """
        build.check_request(method, params)
        return await self._dispatcher.request(method, params)

    def _send_request(
        self, method: str, params: dict[str, Any], timeout: float | None = None
    ) -> tuple[str, Driver]:
        """Hand one request to the core; returns its id and the driver to await it on.

        The dispatcher's ``send``.  Raises ``TypeError``/``ValueError`` on misuse,
        :class:`ConnectionLostError` when not connected or closed, and lets the
        core's :class:`~relay_proto.QueueFullError` through.
        """
        conn, driver = self._conn, self._driver
        if conn is None or driver is None:
            raise ConnectionLostError(
                -1, "the client is not connected (use connect() or async with)", sent=False
            )
        self._check_loop()
        try:
            request_id = conn.send_request(
                method, params, self._runtime.current_time(), timeout=timeout
            )
        except LocalProtocolError as exc:
            raise _map_refusal(exc, conn.state) from exc
        if self._dispatcher.telemetry is not None:
            self._dispatcher.telemetry.request_sent(request_id, method, params)
        return request_id, driver

    async def receive(self, contexts: list[str]) -> None:
        """Also receive inbound calls/messages on *contexts* (``signalwire.receive``)."""
        await self._change_contexts(contexts, receive=True)

    async def unreceive(self, contexts: list[str]) -> None:
        """Stop receiving on *contexts* (``signalwire.unreceive``)."""
        await self._change_contexts(contexts, receive=False)

    async def _change_contexts(self, contexts: list[str], *, receive: bool) -> None:
        contexts = build.check_contexts(contexts)
        if not contexts:
            return
        conn, driver = self._conn, self._driver
        if conn is None or driver is None:
            raise ConnectionLostError(-1, "the client is not connected", sent=False)
        self._check_loop()
        change = conn.subscribe if receive else conn.unsubscribe
        try:
            request_id = change(contexts, self._runtime.current_time())
        except LocalProtocolError as exc:
            raise _map_refusal(exc, conn.state) from exc
        if not receive:
            # Forgotten at once; new contexts count only once the server accepted them.
            self._contexts = conn.contexts
        await self._dispatcher.await_outcome(request_id, driver)
        self._contexts = conn.contexts

    async def dial(
        self,
        devices: list[list[dict[str, Any]]],
        *,
        tag: str | None = None,
        max_duration: int | None = None,
        dial_timeout: float | None = None,
    ) -> Call:
        """Place an outbound call and return it once answered.

        Args:
            devices: Serial list of parallel device lists (``[[A], [B]]`` tries A
                then B; ``[[A, B]]`` rings both).
            tag: Correlation tag (a fresh UUID by default).
            max_duration: Maximum call duration in minutes.
            dial_timeout: Seconds to wait for an answer (default 120; a positive number).

        Whenever ``dial()`` gives up -- *dial_timeout*, the awaiting task
        cancelled, :meth:`disconnect`, the connection lost while it rings -- the
        attempt is ended at the server: every leg already known is hung up
        (``calling.end``), and so is any leg of this dial answered later.

        Raises:
            TypeError: *devices* or *tag* of the wrong type.
            ValueError: Malformed *devices*, or *dial_timeout* not a positive number
                (checked before anything is sent).
            RelayTimeoutError: No answer within *dial_timeout* (also a ``TimeoutError``).
            ConnectionLostError: The client disconnected, or the connection was lost,
                while the dial rang.
            RelayError: The dial failed (busy, no answer, rejected request).
        """
        if dial_timeout is not None and not (
            isinstance(dial_timeout, (int, float))
            and not isinstance(dial_timeout, bool)
            and 0 < dial_timeout < math.inf
        ):
            raise ValueError(
                f"dial_timeout must be a positive number of seconds, got {dial_timeout!r}"
            )
        if tag is not None and not isinstance(tag, str):
            raise TypeError(f"tag must be a string, got {type(tag).__name__}")
        rt = self._runtime
        dispatcher = self._dispatcher
        dial_tag = tag or rt.make_id()
        params = build.dial(dial_tag, devices, max_duration)
        waiter = dispatcher.expect_dial(dial_tag)
        call: Call | None = None
        try:
            try:
                await dispatcher.request("calling.dial", params)
            except ConnectionLostError as exc:
                if exc.sent is not True:
                    raise  # never left: nothing rings, safe to retry
                # It went out and its answer was lost with the socket: the dial
                # may ring.  The core keeps it pending: a resumed session carries
                # its events, a fresh session or a close ends it (and its legs),
                # so it is awaited like any dial, never forgotten.
                logger.info(
                    "the answer to calling.dial %s was lost with the connection; "
                    "the dial is still awaited",
                    dial_tag,
                )
            limit = 120.0 if dial_timeout is None else float(dial_timeout)
            with rt.move_on_at(rt.current_time() + limit):
                await waiter.done.wait()
            outcome = waiter.outcome
            if outcome is None:
                if waiter.done.is_set():
                    raise ConnectionLostError(
                        -1, f"Dial failed (tag={dial_tag}): client disconnected while dialing"
                    )
                raise RelayTimeoutError(
                    -1,
                    f"Dial timed out waiting for answer (tag={dial_tag}):"
                    f" not answered within {limit} s",
                )
            if outcome.reason == "answered":
                answered = dispatcher.winner_call(outcome)
                if not answered.tag:
                    answered.tag = dial_tag
                call = answered
                return answered
            if outcome.reason == "abandoned":
                # Abandoned while still awaited here: disconnect() ended it.
                raise ConnectionLostError(
                    -1, f"Dial failed (tag={dial_tag}): client disconnected while dialing"
                )
            if outcome.reason == "connection_lost":
                raise ConnectionLostError(
                    -1,
                    f"the connection was lost while dial {dial_tag} rang; "
                    "its known legs are being hung up",
                )
            detail = ""
            if outcome.event is not None and outcome.event.reason:
                detail = f": {outcome.event.reason}"
            # The official client's wording first (programs match on it), then ours.
            raise RelayError(-1, f"Dial failed (tag={dial_tag}): {outcome.reason}{detail}")
        finally:
            dispatcher.forget_dial(dial_tag)
            if call is None:
                # Gave up (timeout, cancelled, disconnect, connection lost) or failed:
                # no leg of this dial may ring on or stay up unowned.
                dispatcher.abandon_dial(dial_tag, waiter)

    def _abandon_dial_in_core(self, tag: str) -> bool:
        """Ask the core to end dial *tag*'s legs, now and later; False without a connection."""
        driver = self._driver
        if driver is None:
            return False
        abandoned = driver.conn.abandon_dial(tag, self._runtime.current_time())
        driver.kick()
        return abandoned

    async def send_message(
        self,
        *,
        to_number: str,
        from_number: str,
        context: str | None = None,
        body: str | None = None,
        media: list[str] | None = None,
        tags: list[str] | None = None,
        region: str | None = None,
        on_completed: Callable[[RelayEvent], Any] | None = None,
    ) -> Message:
        """Send an SMS/MMS; the returned :class:`Message` tracks delivery (``message.wait()``).

        Args:
            context: Where the state events go (default: this session's protocol).

        Raises:
            ValueError: Neither *body* nor *media* given (checked before sending).
            RelayError: The server rejected the message.
        """
        msg_context = context or self._dispatcher.protocol or "default"
        params = build.send_message(
            context=msg_context,
            to_number=to_number,
            from_number=from_number,
            body=body,
            media=media,
            tags=tags,
            region=region,
        )
        message = Message(
            context=msg_context,
            direction="outbound",
            from_number=from_number,
            to_number=to_number,
            body=body or "",
            media=list(media or []),
            state="queued",
            tags=list(tags or []),
            client=self,
            on_completed=on_completed,
        )
        await self._dispatcher.send_message(params, message)
        return message
