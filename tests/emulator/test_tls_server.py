"""The emulator's TLS layer returns every record of a socket read at once."""

from __future__ import annotations

import ssl

import anyio
import anyio.abc
import pytest
import trustme

from relaykit.emulator._tls import TLSServerStream

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(20)]

_RECORDS = 200


async def _client_handshake(
    tcp: anyio.abc.ByteStream, obj: ssl.SSLObject, out: ssl.MemoryBIO, inc: ssl.MemoryBIO
) -> None:
    while True:
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            if out.pending:
                await tcp.send(out.read())
            inc.write(await tcp.receive())
        else:
            if out.pending:
                await tcp.send(out.read())
            return


async def test_many_records_in_one_read_come_back_in_few_receives() -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    expected = b"".join(b"%d;" % n for n in range(_RECORDS))
    chunks: list[bytes] = []
    got_all = anyio.Event()
    ended = anyio.Event()

    async def serve(tcp: anyio.abc.ByteStream) -> None:
        tls = TLSServerStream(tcp, server_ctx)
        await tls.handshake()
        try:
            while True:
                chunks.append(await tls.receive())
                if sum(map(len, chunks)) >= len(expected):
                    got_all.set()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            # The client closes with the server's TLS 1.3 session tickets unread, which
            # the kernel may turn into a reset: either way, the end of the stream.
            ended.set()
        await tls.aclose()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, serve)
        tcp = await anyio.connect_tcp("127.0.0.1", port)
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = client_ctx.wrap_bio(inc, out, server_hostname="127.0.0.1")
        await _client_handshake(tcp, obj, out, inc)
        for n in range(_RECORDS):
            obj.write(b"%d;" % n)  # one TLS record each, like one ACK per write
        await tcp.send(out.read())  # ... all in one TCP write
        with anyio.fail_after(10):
            await got_all.wait()
        await tcp.aclose()  # no close_notify
        with anyio.fail_after(10):
            await ended.wait()
        tg.cancel_scope.cancel()
    await listener.aclose()
    assert b"".join(chunks) == expected
    # anyio's TLSStream would return one record per receive (200 calls).
    assert len(chunks) < _RECORDS // 4
