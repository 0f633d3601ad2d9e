"""An optional transport over ``httpx-ws``, for users behind HTTP proxies.

httpx does the TCP/TLS/proxy part (``HTTP(S)_PROXY``, ``ALL_PROXY``,
``NO_PROXY`` and ``.netrc`` with ``trust_env=True``, or an explicit ``proxy=``)
and httpx-ws the WebSocket framing, so the core runs with ``websocket=False``
and is fed whole text messages.  httpx and httpx-ws are imported lazily: they
are the ``relaykit[httpx]`` extra, not a requirement of ``relay_anyio``.

``httpx_ws.aconnect_ws`` keeps the connection inside an ``async with`` that
runs a task group, so the WebSocket is held open by an *owner task* started in
the driver's task group (``open(task_group=...)``) or, when the transport is
used as ``async with HttpxWsTransport() as transport:``, in the transport's
own; :meth:`_HttpxWsStream.aclose` tells the owner to leave the block.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from relaykit._tls import create_tls_context
from relaykit.client._runtime import Stream, TaskGroup, TransportClosed

if TYPE_CHECKING:
    from types import ModuleType, TracebackType

    from httpx_ws import AsyncWebSocketSession

    from relay_proto import RelayConnection

__all__ = ["HttpxWsTransport"]

logger = logging.getLogger("relaykit.httpx")

#: Largest text message accepted from the server (the core's limit too).
MAX_MESSAGE_SIZE = 10 * 1024 * 1024

# How long aclose() waits for the owner task to finish the close handshake.
_CLOSE_TIMEOUT = 5.0


def _import_httpx() -> tuple[ModuleType, ModuleType]:
    try:
        import httpx
        import httpx_ws
    except ImportError as exc:
        raise ImportError(
            "HttpxWsTransport needs httpx and httpx-ws; install them with "
            "pip install 'relaykit[httpx]'"
        ) from exc
    return httpx, httpx_ws


class _HttpxWsStream:
    """A :class:`~relaykit.client._runtime.Stream` over an httpx-ws session: texts in, texts out.

    httpx-ws does the WebSocket framing, so the core (``websocket=False``) is
    fed whole messages (``receive_text``) and gives texts (``texts_to_send``).
    """

    def __init__(self, session: AsyncWebSocketSession, max_message_size: int) -> None:
        self._session = session
        self._max_message_size = max_message_size
        self._httpx_ws = _import_httpx()[1]
        # Imported here, with httpx-ws (which needs it): not by `from relay_anyio import *`.
        from wsproto.utilities import LocalProtocolError

        self._closing_error = LocalProtocolError
        self.close_requested = anyio.Event()
        self.owner_done = anyio.Event()

    async def receive_into(
        self, conn: RelayConnection, clock: Callable[[], float], max_bytes: int
    ) -> bool:
        """Feed the next text message to *conn*; False once the WebSocket closed.

        *max_bytes* is unused: a message is read whole (up to ``max_message_size``).

        Raises:
            TransportClosed: as :meth:`receive_text`.
        """
        text = await self.receive_text()
        if text is None:
            return False
        conn.receive_text(text, clock())
        return True

    def send_from(self, conn: RelayConnection) -> Awaitable[None] | None:
        """Send ``conn.texts_to_send()`` one message each: None when empty, else the sends."""
        texts = conn.texts_to_send()
        return self._send_texts(texts) if texts else None

    async def _send_texts(self, texts: list[str]) -> None:
        for text in texts:
            await self.send_text(text)

    async def receive_text(self) -> str | None:
        """Return the next text message, or ``None`` once the WebSocket closed.

        Raises:
            TransportClosed: the connection broke, or the server sent a message
                larger than the limit (the socket is then closed with 1009).
        """
        ws = self._httpx_ws
        while True:
            try:
                text: str = await self._session.receive_text()
            except ws.WebSocketDisconnect:
                return None
            except ws.WebSocketInvalidTypeReceived as exc:
                # RELAY is text-only; a binary frame is a server bug: log and skip.
                logger.warning("ignoring non-text WebSocket message %s", type(exc.event).__name__)
                continue
            except (ws.WebSocketNetworkError, anyio.EndOfStream, anyio.ClosedResourceError) as exc:
                raise TransportClosed(f"WebSocket connection lost: {exc!r}") from exc
            # httpx-ws reassembles fragmented messages before we see them, so the
            # cap is enforced here, after the fact (its max_message_size_bytes is
            # really the read chunk size).
            if len(text) > self._max_message_size:
                await self._close_session(1009, "message too big")
                raise TransportClosed(
                    f"server sent a {len(text)}-character message (limit {self._max_message_size})"
                )
            return text

    async def send_text(self, text: str) -> None:
        """Send one text message.

        Raises:
            TransportClosed: the connection is closed or broke while writing.
        """
        ws = self._httpx_ws
        try:
            await self._session.send_text(text)
        except ws.WebSocketNetworkError as exc:
            raise TransportClosed(f"WebSocket connection lost while writing: {exc!r}") from exc
        except self._closing_error as exc:
            # wsproto refuses to send once the close handshake has begun.
            raise TransportClosed("WebSocket is closing") from exc

    async def aclose(self) -> None:
        """Close the WebSocket (close frame, then socket); never raises for a broken one."""
        self.close_requested.set()
        with anyio.move_on_after(_CLOSE_TIMEOUT, shield=True):
            await self.owner_done.wait()

    async def _close_session(self, code: int, reason: str) -> None:
        try:
            await self._session.close(code, reason)
        except Exception as exc:
            logger.debug("ignoring error while closing the WebSocket: %r", exc)


class _Opening:
    """What the owner task hands back to :meth:`HttpxWsTransport.open`."""

    def __init__(self) -> None:
        self.ready = anyio.Event()
        self.scope = anyio.CancelScope()
        self.stream: _HttpxWsStream | None = None
        self.error: BaseException | None = None


class HttpxWsTransport:
    """Reach RELAY through httpx + httpx-ws (honours httpx's proxy settings).

    Use it with any ``relay_anyio`` client (``transport=`` argument of the
    client, or ``AnyioRuntime(transport=HttpxWsTransport())``).

    Args:
        proxy: An explicit proxy URL (``"http://proxy:3128"``); by default httpx
            reads ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY``.
        trust_env: Let httpx read proxy settings and ``SSL_CERT_FILE`` from the
            environment (httpx's own switch).
        max_message_size: Largest server message accepted, in characters (default 10 Mi;
            httpx-ws hands over decoded text).
        client_options: Extra keyword arguments for ``httpx.AsyncClient``.

    Raises:
        ImportError: httpx or httpx-ws is missing (install ``relaykit[httpx]``).
    """

    frames_websocket = True

    def __init__(
        self,
        *,
        proxy: str | None = None,
        trust_env: bool = True,
        max_message_size: int = MAX_MESSAGE_SIZE,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        _import_httpx()  # fail at construction, with the install hint
        self.proxy = proxy
        self.trust_env = trust_env
        self.max_message_size = max_message_size
        self.client_options = dict(client_options or {})
        self._own_group: anyio.abc.TaskGroup | None = None

    async def __aenter__(self) -> HttpxWsTransport:
        """Own a task group for the connections' owner tasks (when the driver has none)."""
        group = anyio.create_task_group()
        await group.__aenter__()
        self._own_group = group
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        group, self._own_group = self._own_group, None
        if group is None:
            return None
        group.cancel_scope.cancel()
        return await group.__aexit__(exc_type, exc, tb)

    async def open(
        self,
        *,
        url: str,
        host: str,
        port: int,
        tls: bool,
        ca_file: str | None,
        task_group: TaskGroup | None = None,
    ) -> Stream:
        """Open the WebSocket at *url* through httpx (and its proxy, if any).

        Args:
            url: The full ws/wss URL, request target included.
            host: Unused (httpx takes the host from *url*).
            port: Unused (likewise).
            tls: Whether to use TLS (``wss://``; sent as ``https://`` so proxies match).
            ca_file: PEM file of extra CA certificates to trust (added to the system store).
            task_group: The driver's task group, which hosts the owner task.

        Returns:
            A :class:`~relaykit.client._runtime.Stream` that feeds the core texts.

        Raises:
            RuntimeError: no task group to hold the connection in.
            OSError: the connection, TLS handshake or proxy failed, or the
                server refused the WebSocket upgrade.
        """
        group: TaskGroup | anyio.abc.TaskGroup | None = task_group or self._own_group
        if group is None:
            raise RuntimeError(
                "HttpxWsTransport needs a task group: use it with a relay_anyio client, "
                "or open it with 'async with HttpxWsTransport() as transport:'"
            )
        # httpx matches proxy settings by scheme ("https://" for HTTPS_PROXY), and
        # the ws/wss schemes would slip past them.
        http_url = ("https" if tls else "http") + url[url.index(":") :]
        opening = _Opening()
        group.start_soon(self._hold, opening, http_url, tls, ca_file)
        try:
            await opening.ready.wait()
        except BaseException:
            opening.scope.cancel()  # our caller gave up (deadline, shutdown)
            raise
        if opening.error is not None:
            raise opening.error
        if opening.stream is None:  # the owner task was cancelled before connecting
            raise TransportClosed(f"connection to {url} was cancelled")
        return opening.stream

    async def _hold(self, opening: _Opening, url: str, tls: bool, ca_file: str | None) -> None:
        """The owner task: connect, report, then keep the session until aclose()."""
        httpx, httpx_ws = _import_httpx()
        verify: ssl.SSLContext | bool = create_tls_context(ca_file) if tls else True
        options: dict[str, Any] = {"timeout": httpx.Timeout(30.0)}
        options.update(self.client_options)
        stream: _HttpxWsStream | None = None
        try:
            with opening.scope:
                async with (
                    httpx.AsyncClient(
                        verify=verify, proxy=self.proxy, trust_env=self.trust_env, **options
                    ) as client,
                    httpx_ws.aconnect_ws(
                        url,
                        client,
                        # The core owns liveness (RELAY pings); no second keepalive.
                        keepalive_ping_interval_seconds=None,
                    ) as session,
                ):
                    stream = _HttpxWsStream(session, self.max_message_size)
                    opening.stream = stream
                    opening.ready.set()
                    await stream.close_requested.wait()
        except Exception as exc:
            if stream is None:
                opening.error = _as_os_error(exc, httpx, httpx_ws)
            else:
                # The connection broke while open; the driver learns it from the stream.
                logger.debug("httpx-ws session ended with %r", exc)
        finally:
            opening.ready.set()
            if stream is not None:
                stream.owner_done.set()


def _as_os_error(exc: BaseException, httpx: ModuleType, httpx_ws: ModuleType) -> BaseException:
    """Map httpx/httpx-ws connect failures onto the OSError contract of transports."""
    # An error raised inside httpx-ws's task group arrives wrapped in a group.
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, tuple) and len(inner) == 1:
        exc = inner[0]
    if isinstance(exc, OSError):
        return exc
    error: OSError
    if isinstance(exc, httpx_ws.WebSocketUpgradeError):
        error = ConnectionRefusedError(
            f"WebSocket upgrade refused: HTTP {exc.response.status_code}"
        )
    elif isinstance(exc, httpx.TransportError):
        # ConnectError/ProxyError/...: surface the ssl or socket error underneath
        # (httpx -> httpcore -> OSError), so "certificate verify failed" stays an SSLError.
        cause = exc.__cause__ or exc.__context__
        for _ in range(5):
            if cause is None or isinstance(cause, OSError):
                break
            cause = cause.__cause__ or cause.__context__
        if isinstance(cause, OSError):
            return cause
        error = TransportClosed(f"{type(exc).__name__}: {exc}")
    else:
        return exc
    error.__cause__ = exc
    return error
