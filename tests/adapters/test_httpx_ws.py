"""HttpxWsTransport against loopback WebSocket servers (plain, TLS, behind a CONNECT proxy)."""

from __future__ import annotations

import ssl
import sys
from typing import Any

import anyio
import pytest

from relay_anyio import AnyioRuntime, HttpxWsTransport
from relaykit.client import TransportClosed

from ._servers import WsServer, connect_proxy, ws_server
from .conftest import FakeCore, TLSFiles

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(15)]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever the machine has configured must not route loopback tests elsewhere.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


async def _open(transport: HttpxWsTransport, server: WsServer, tg: Any, **kw: Any) -> Any:
    tls = kw.pop("tls", False)
    scheme = "wss" if tls else "ws"
    return await transport.open(
        url=f"{scheme}://127.0.0.1:{server.port}/api/relay/ws?x=1",
        host="127.0.0.1",
        port=server.port,
        tls=tls,
        ca_file=kw.pop("ca_file", None),
        task_group=tg,
    )


async def test_echo_and_close_through_the_driver_task_group() -> None:
    transport = HttpxWsTransport()
    assert transport.frames_websocket is True
    async with ws_server() as server, AnyioRuntime().open_task_group() as tg:
        stream = await _open(transport, server, tg)
        await stream.send_text('{"jsonrpc":"2.0"}')
        assert await stream.receive_text() == '{"jsonrpc":"2.0"}'
        await stream.send_text("ünïcode ✓")
        assert await stream.receive_text() == "ünïcode ✓"
        await stream.aclose()
        with anyio.fail_after(5):
            await server.connection_ended.wait()
        await stream.aclose()  # twice is fine
    assert server.requests[0].target == "/api/relay/ws?x=1"
    assert server.close_codes == [1000]


async def test_open_inside_a_deadline_scope_keeps_working_after_it() -> None:
    # The driver opens inside move_on_at(connect deadline) and reads outside it;
    # the owner task keeps httpx-ws's task group out of the caller's scope stack.
    runtime = AnyioRuntime()
    async with ws_server() as server, runtime.open_task_group() as tg:
        with runtime.move_on_at(runtime.current_time() + 5):
            stream = await _open(HttpxWsTransport(), server, tg)
        with runtime.move_on_at(runtime.current_time() + 5):
            await stream.send_text("after")
            assert await stream.receive_text() == "after"
        await stream.aclose()


async def test_server_close_reads_as_none() -> None:
    async with ws_server() as server, AnyioRuntime().open_task_group() as tg:
        stream = await _open(HttpxWsTransport(), server, tg)
        await stream.send_text("close-me")
        assert await stream.receive_text() is None
        await stream.aclose()


async def test_the_stream_pumps_texts_between_the_socket_and_the_core() -> None:
    # What the driver sees: the same Stream shape as a raw socket, fed with texts.
    async with ws_server() as server, AnyioRuntime().open_task_group() as tg:
        stream = await _open(HttpxWsTransport(), server, tg)
        core = FakeCore()
        assert stream.send_from(core) is None  # nothing queued: nothing to await
        core.text_outbox = ["one", "two", "close-me"]
        writing = stream.send_from(core)
        assert writing is not None
        await writing
        assert core.text_outbox == []
        assert await stream.receive_into(core, lambda: 1.0, 16384) is True
        assert await stream.receive_into(core, lambda: 2.0, 16384) is True
        # The server closed after "close-me": the end, and nothing fed for it.
        assert await stream.receive_into(core, lambda: 3.0, 16384) is False
        assert core.texts == ["one", "two"]
        assert core.times == [1.0, 2.0]
        assert core.received == b""
        await stream.aclose()


async def test_binary_frames_are_skipped() -> None:
    async with ws_server() as server, AnyioRuntime().open_task_group() as tg:
        stream = await _open(HttpxWsTransport(), server, tg)
        await stream.send_text("binary-then-echo")
        assert await stream.receive_text() == "binary-then-echo"
        await stream.aclose()


async def test_oversized_message_is_refused() -> None:
    async with ws_server() as server, AnyioRuntime().open_task_group() as tg:
        stream = await _open(HttpxWsTransport(max_message_size=1000), server, tg)
        await stream.send_text("big:1000")
        assert await stream.receive_text() == "x" * 1000
        await stream.send_text("big:1001")
        with pytest.raises(TransportClosed, match="limit 1000"):
            await stream.receive_text()
        with anyio.fail_after(5):
            await server.connection_ended.wait()
        assert server.close_codes == [1009]
        await stream.aclose()
        with pytest.raises(TransportClosed):
            await stream.send_text("late")


async def test_default_limit_is_ten_mebibytes() -> None:
    assert HttpxWsTransport().max_message_size == 10 * 1024 * 1024


async def test_upgrade_refused_is_connection_refused() -> None:
    async with ws_server(reject=True) as server, AnyioRuntime().open_task_group() as tg:
        with pytest.raises(ConnectionRefusedError, match="HTTP 403"):
            await _open(HttpxWsTransport(), server, tg)


async def test_unreachable_server_is_oserror() -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    async with AnyioRuntime().open_task_group() as tg:
        with pytest.raises(OSError):  # noqa: PT011 - refused, in whichever OSError form
            await HttpxWsTransport().open(
                url=f"ws://127.0.0.1:{port}/",
                host="127.0.0.1",
                port=port,
                tls=False,
                ca_file=None,
                task_group=tg,
            )


async def test_cancelled_open_leaves_nothing_running() -> None:
    runtime = AnyioRuntime()
    async with ws_server() as server:
        async with runtime.open_task_group() as tg:
            with runtime.move_on_at(runtime.current_time() - 1) as scope:
                await _open(HttpxWsTransport(), server, tg)
        # The task group exited: the owner task did not linger.
        assert scope.cancelled_caught


async def test_wss_with_custom_ca(tls_files: TLSFiles) -> None:
    async with (
        ws_server(tls_files.server_context()) as server,
        AnyioRuntime().open_task_group() as tg,
    ):
        stream = await _open(HttpxWsTransport(), server, tg, tls=True, ca_file=tls_files.ca_file)
        await stream.send_text("secure")
        assert await stream.receive_text() == "secure"
        await stream.aclose()


async def test_wss_verification_is_on(tls_files: TLSFiles) -> None:
    async with (
        ws_server(tls_files.server_context()) as server,
        AnyioRuntime().open_task_group() as tg,
    ):
        with pytest.raises(ssl.SSLCertVerificationError):
            await _open(HttpxWsTransport(), server, tg, tls=True)


@pytest.mark.parametrize("trust_env", [True, False], ids=["env-proxy", "trust-env-false"])
async def test_https_proxy_from_the_environment_unless_trust_env_is_false(
    tls_files: TLSFiles, monkeypatch: pytest.MonkeyPatch, trust_env: bool
) -> None:
    async with (
        ws_server(tls_files.server_context()) as server,
        connect_proxy() as proxy,
        AnyioRuntime().open_task_group() as tg,
    ):
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        transport = HttpxWsTransport(trust_env=trust_env)
        stream = await _open(transport, server, tg, tls=True, ca_file=tls_files.ca_file)
        await stream.send_text("hello")
        assert await stream.receive_text() == "hello"
        await stream.aclose()
    through_proxy = [f"CONNECT 127.0.0.1:{server.port} HTTP/1.1"]
    assert proxy.request_lines == (through_proxy if trust_env else [])


async def test_explicit_proxy(tls_files: TLSFiles) -> None:
    async with (
        ws_server(tls_files.server_context()) as server,
        connect_proxy() as proxy,
        AnyioRuntime().open_task_group() as tg,
    ):
        transport = HttpxWsTransport(proxy=proxy.url)
        stream = await _open(transport, server, tg, tls=True, ca_file=tls_files.ca_file)
        await stream.send_text("explicit")
        assert await stream.receive_text() == "explicit"
        await stream.aclose()
    assert len(proxy.request_lines) == 1


async def test_own_task_group_when_used_as_context_manager() -> None:
    async with ws_server() as server, HttpxWsTransport() as transport:
        stream = await transport.open(
            url=f"ws://127.0.0.1:{server.port}/",
            host="127.0.0.1",
            port=server.port,
            tls=False,
            ca_file=None,
        )
        await stream.send_text("own group")
        assert await stream.receive_text() == "own group"
        await stream.aclose()


async def test_no_task_group_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="needs a task group"):
        await HttpxWsTransport().open(
            url="ws://127.0.0.1:1/", host="127.0.0.1", port=1, tls=False, ca_file=None
        )


def test_missing_httpx_ws_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx_ws", None)
    with pytest.raises(ImportError, match=r"relaykit\[httpx\]"):
        HttpxWsTransport()
