"""The backend is chosen once per client start, and the shared raw-stream mapping.

``relay_anyio.RelayClient`` holds an :class:`~relay_anyio.AnyioRuntime`; a client
calls its ``bind()`` once when it starts and uses the result until it stops.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

import relay_anyio
import relay_trio
from relay_anyio import AnyioRuntime, AnyioTransport, HttpxWsTransport
from relay_anyio._asyncio import AsyncioRuntime, AsyncioTransport
from relaykit.client._runtime import LibraryStream, Runtime, TransportClosed
from relaykit.emulator import Emulator

from .conftest import FakeCore

pytestmark = [pytest.mark.timeout(30)]


class CountingRuntime(AnyioRuntime):
    """An AnyioRuntime that counts how often a client asks it to choose."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.binds = 0

    def bind(self) -> Runtime:
        self.binds += 1
        return super().bind()


def _client_class(runtime: AnyioRuntime) -> Any:
    return type("RelayClient", (relay_anyio.RelayClient,), {"_runtime": runtime})


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_connect_binds_once_and_keeps_the_choice(anyio_backend: str) -> None:
    runtime = CountingRuntime(anyio_backend)
    async with Emulator(project="p", token="t", time_scale=0.001) as emu:
        client = _client_class(runtime)(project="p", token="t", url=emu.url, contexts=["office"])
        assert client._runtime is runtime  # not started: the class's runtime
        async with client:
            bound = client._runtime
            message = await client.send_message(
                to_number="+15551112222", from_number="+15553334444", body="hi"
            )
            assert (await message.wait(10)).message_state == "delivered"
            assert client._runtime is bound
        assert runtime.binds == 1
    if anyio_backend == "asyncio":
        assert isinstance(bound, AsyncioRuntime)
        assert bound.loop is asyncio.get_running_loop()
        assert isinstance(bound.default_transport, AsyncioTransport)
    else:
        assert bound is runtime  # the portable runtime, as it is
        assert isinstance(bound.default_transport, AnyioTransport)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_given_transport_is_kept_by_the_bound_runtime(anyio_backend: str) -> None:
    transport = HttpxWsTransport()
    runtime = AnyioRuntime(transport=transport)
    bound = runtime.bind()
    assert isinstance(bound, AsyncioRuntime)
    assert bound.default_transport is transport


def test_each_start_rebinds_to_its_own_loop() -> None:
    # One client, two event loops one after the other: the second start must
    # not reuse the first loop's runtime (its events and locks belong there).
    runtime = CountingRuntime()
    client_class = _client_class(runtime)
    loops: list[Any] = []
    ports: list[int] = []

    async def session(client: Any | None) -> Any:
        # The second emulator takes over the first one's port, where the client points.
        async with Emulator(
            project="p", token="t", time_scale=0.001, port=ports[0] if ports else 0
        ) as emu:
            ports.append(emu.port)
            if client is None:
                client = client_class(project="p", token="t", url=emu.url, contexts=["office"])
            async with client:
                loops.append(client._runtime.loop)
                message = await client.send_message(
                    to_number="+15551112222", from_number="+15553334444", body="hi"
                )
                assert (await message.wait(10)).message_state == "delivered"
        return client

    client = anyio.run(session, None)
    anyio.run(session, client)
    assert runtime.binds == 2
    assert loops[0] is not loops[1]


def test_relay_trio_runtime_binds_to_itself() -> None:
    runtime = relay_trio.RelayClient._runtime
    assert runtime.bind() is runtime


# ----------------------------------------------------------------------
# LibraryStream: the mapping relay_anyio's AnyioStream and relay_trio's TrioStream share
# ----------------------------------------------------------------------


class Broken(Exception):
    """A library's "connection gone" exception."""


class EndOfStream(Exception):
    """A library's end-of-stream exception."""


class FakeLibraryStream:
    def __init__(self, reads: list[bytes | BaseException]) -> None:
        self.reads = reads
        self.sent: list[bytes] = []
        self.send_error: BaseException | None = None
        self.close_error: BaseException | None = None
        self.closed = 0

    async def receive(self, max_bytes: int) -> bytes:
        item = self.reads.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item[:max_bytes]

    async def send(self, data: bytes) -> None:
        if self.send_error is not None:
            raise self.send_error
        self.sent.append(data)

    @staticmethod
    async def close(stream: FakeLibraryStream) -> None:
        stream.closed += 1
        if stream.close_error is not None:
            raise stream.close_error


def _wrap(lib: FakeLibraryStream, **kw: Any) -> LibraryStream:
    return LibraryStream(
        lib, lib.receive, lib.send, FakeLibraryStream.close, broken=(Broken,), **kw
    )


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_library_stream_feeds_reads_and_maps_errors(anyio_backend: str) -> None:
    lib = FakeLibraryStream([b"hello", b"0123456789", EndOfStream()])
    stream = _wrap(lib, eof=(EndOfStream,))
    core = FakeCore()
    assert await stream.receive_into(core, lambda: 1.0, 100) is True
    assert await stream.receive_into(core, lambda: 2.0, 4) is True  # at most max_bytes
    assert await stream.receive_into(core, lambda: 3.0, 100) is False  # the EOF exception
    assert bytes(core.received) == b"hello0123"
    assert core.eof
    assert core.times == [1.0, 2.0, 3.0]

    lib = FakeLibraryStream([b""])  # a library that returns b"" at the end (trio)
    core = FakeCore()
    assert await _wrap(lib).receive_into(core, lambda: 0.0, 100) is False
    assert core.eof

    lib = FakeLibraryStream([Broken("reset")])
    core = FakeCore()
    with pytest.raises(TransportClosed, match="while reading"):
        await _wrap(lib).receive_into(core, lambda: 0.0, 100)
    assert core.times == []  # nothing fed


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_library_stream_sends_only_what_the_core_has(anyio_backend: str) -> None:
    lib = FakeLibraryStream([])
    stream = _wrap(lib)
    core = FakeCore()
    assert stream.send_from(core) is None  # nothing queued: no coroutine at all
    core.outbox = b"frame"
    writing = stream.send_from(core)
    assert writing is not None
    await writing
    assert lib.sent == [b"frame"]
    assert core.outbox == b""

    lib.send_error = Broken("pipe")
    core.outbox = b"late"
    writing = stream.send_from(core)
    assert writing is not None
    with pytest.raises(TransportClosed, match="while writing"):
        await writing


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_library_stream_close_never_raises_for_a_broken_stream(anyio_backend: str) -> None:
    for error in (OSError("gone"), Broken("gone")):
        lib = FakeLibraryStream([])
        lib.close_error = error
        await _wrap(lib).aclose()
        assert lib.closed == 1
    lib = FakeLibraryStream([])
    lib.close_error = RuntimeError("a bug")
    with pytest.raises(RuntimeError):  # anything else is not swallowed
        await _wrap(lib).aclose()
