"""relaykit.testing's memory connections behave like sockets: EOF, close, backpressure, refusal.

The client-facing behaviour through the emulator (faults, reconnects, calls) is
the rest of this directory, run in memory by default; these tests pin the pipe
and transport contract itself, on asyncio and on trio (virtual clock).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
import trio.testing

from relaykit.client import TransportClosed
from relaykit.emulator import Emulator
from relaykit.testing import MemoryTransport, client_options, memory_stream_pair, open_emulator

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(10)]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    if request.param == "trio":
        return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})
    return "asyncio"


async def test_bytes_flow_both_ways_then_end_of_stream() -> None:
    client, server = memory_stream_pair()
    await client.send_all(b"hello ")
    await client.send_all(b"server")
    assert await server.receive(3) == b"hel"
    assert await server.receive() == b"lo server"
    await server.send(b"hi")
    await server.aclose()
    assert await client.receive_some() == b"hi"  # what was written before the close
    assert await client.receive_some() == b""  # then end of stream, every time
    assert await client.receive_some() == b""
    with pytest.raises(TransportClosed, match="peer closed"):
        await client.send_all(b"late")


async def test_the_server_end_sees_end_of_stream_and_broken_writes() -> None:
    client, server = memory_stream_pair()
    await client.send_all(b"last words")
    await client.aclose()
    assert await server.receive() == b"last words"
    with pytest.raises(anyio.EndOfStream):
        await server.receive()
    with pytest.raises(anyio.BrokenResourceError):
        await server.send(b"anyone?")
    await server.aclose()
    with pytest.raises(anyio.ClosedResourceError):
        await server.receive()


async def test_own_close_fails_later_reads_and_writes() -> None:
    client, _server = memory_stream_pair()
    await client.aclose()
    await client.aclose()  # idempotent, never raises
    with pytest.raises(TransportClosed, match="closed while writing"):
        await client.send_all(b"x")
    with pytest.raises(TransportClosed, match="closed while reading"):
        await client.receive_some()


async def test_a_blocked_reader_is_woken_by_a_close() -> None:
    client, server = memory_stream_pair()
    got: list[bytes] = []

    async def read() -> None:
        got.append(await client.receive_some())

    async with anyio.create_task_group() as tg:
        tg.start_soon(read)
        await anyio.wait_all_tasks_blocked()
        await server.aclose()
    assert got == [b""]


async def test_writes_wait_for_room_backpressure() -> None:
    client, server = memory_stream_pair(capacity=4)
    done = anyio.Event()

    async def write() -> None:
        await client.send_all(b"0123456789")
        done.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(write)
        await anyio.wait_all_tasks_blocked()
        assert not done.is_set()  # 4 bytes in, the writer waits for the reader
        received = b""
        while len(received) < 10:
            received += await server.receive()
        await done.wait()
    assert received == b"0123456789"


async def test_a_cancelled_read_loses_nothing() -> None:
    client, server = memory_stream_pair()
    with anyio.move_on_after(0.01):
        await client.receive_some()
    await server.send(b"kept")
    assert await client.receive_some() == b"kept"


def test_bad_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="capacity"):
        memory_stream_pair(capacity=0)


async def _open(transport: MemoryTransport, url: str) -> Any:
    """Open as a client's driver does, with the parts of *url*."""
    parts = urlsplit(url)
    tls = parts.scheme == "wss"
    port = parts.port or (443 if tls else 80)
    assert parts.hostname is not None
    return await transport.open(
        url=url, host=parts.hostname, port=port, tls=tls, ca_file=None, task_group=None
    )


async def test_the_transport_refuses_when_the_emulator_is_not_running() -> None:
    emu = Emulator(listen=False)
    with pytest.raises(ConnectionRefusedError, match="not running"):
        await _open(emu.transport, emu.url)
    async with emu:
        stream = await _open(emu.transport, emu.url)
        await stream.aclose()
    with pytest.raises(ConnectionRefusedError, match="not running"):
        await _open(emu.transport, emu.url)


async def test_the_transport_reaches_only_its_own_emulator_in_plain_ws() -> None:
    async with open_emulator() as emu, open_emulator() as other:
        assert emu.url != other.url
        assert not emu.listening
        assert client_options(emu) == {"url": emu.url, "transport": emu.transport}
        with pytest.raises(ConnectionRefusedError, match="is not this in-memory emulator"):
            await _open(emu.transport, other.url)
        with pytest.raises(OSError, match="plain ws://"):
            await _open(emu.transport, emu.url.replace("ws://", "wss://"))


async def test_a_loopback_emulator_also_takes_memory_connections() -> None:
    async with open_emulator(loopback=True) as emu:
        assert emu.listening
        assert emu.url.startswith("ws://127.0.0.1:")
        assert client_options(emu) == {"url": emu.url}
        stream = await _open(emu.transport, emu.url)
        core = _BytesCore(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # not a WebSocket upgrade
        pending = stream.send_from(core)  # the driver's Stream shape
        if pending is not None:
            await pending
        assert await stream.receive_into(core, lambda: 0.0, 65536)
        assert core.received.startswith(b"HTTP/1.1 4")
        await stream.aclose()


class _BytesCore:
    """Just enough of a core for a raw stream: bytes out once, bytes in recorded."""

    def __init__(self, outgoing: bytes) -> None:
        self.outgoing = outgoing
        self.received = b""

    def data_to_send(self) -> bytes:
        data, self.outgoing = self.outgoing, b""
        return data

    def receive_data(self, data: bytes, now: float) -> None:
        self.received += data


def test_sockets_only_options_need_a_listening_emulator() -> None:
    with pytest.raises(ValueError, match="listen=False"):
        Emulator(listen=False, control_port=0)
    with pytest.raises(ValueError, match="listen=False"):
        Emulator(listen=False, tls_cert="cert.pem", tls_key="key.pem")
