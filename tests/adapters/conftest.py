"""Fixtures for the adapter tests: the four runtimes and loopback servers.

Every runtime test runs four times, once per runtime a client can end up with:

* ``anyio-asyncio``: relay_anyio's asyncio-native runtime (what
  ``AnyioRuntime().bind()`` returns on asyncio, bound to the running loop);
* ``anyio-portable-asyncio``: relay_anyio's portable anyio runtime on asyncio
  (``AnyioRuntime`` unbound: what a client uses before it starts);
* ``anyio-trio``: the portable anyio runtime on trio (what ``bind()`` keeps there);
* ``trio``: relay_trio's ``TrioRuntime``.

anyio's pytest plugin runs the test on the ``anyio_backend`` the case names
(``backend_case``: the backend, then which runtime; ``test_clients.py``
parametrizes it with its bindings instead).  The ``runtime`` fixture is async
so that ``bind()`` runs inside the test's loop.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme

from relay_anyio import AnyioRuntime
from relay_anyio._anyio import PortableRuntime
from relay_anyio._asyncio import AsyncioRuntime
from relay_trio import TrioRuntime

RUNTIME_CASES = [
    pytest.param(("asyncio", "anyio"), id="anyio-asyncio"),
    pytest.param(("asyncio", "portable"), id="anyio-portable-asyncio"),
    pytest.param(("trio", "anyio"), id="anyio-trio"),
    pytest.param(("trio", "trio"), id="trio"),
]


@pytest.fixture(params=RUNTIME_CASES)
def backend_case(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def anyio_backend(backend_case: tuple[str, str]) -> str:
    return backend_case[0]


@pytest.fixture
async def runtime(backend_case: tuple[str, str]) -> Any:
    backend, kind = backend_case
    if kind == "trio":
        return TrioRuntime().bind()
    if kind == "portable":
        return PortableRuntime(backend=backend)
    bound = AnyioRuntime(backend=backend).bind()
    # The selection itself: asyncio-native on asyncio, the portable one elsewhere.
    assert isinstance(bound, AsyncioRuntime) == (backend == "asyncio")
    return bound


class FakeCore:
    """The parts of ``RelayConnection`` a stream talks to, recording what it is fed.

    Raw streams call ``receive_data``/``data_to_send``, message streams
    ``receive_text``/``texts_to_send``; ``now`` is recorded to check that the
    stream reads the clock it is given.
    """

    def __init__(self) -> None:
        self.received = bytearray()
        self.texts: list[str] = []
        self.eof = False
        self.times: list[float] = []
        self.outbox = b""
        self.text_outbox: list[str] = []

    def receive_data(self, data: bytes, now: float) -> None:
        assert not self.eof, "data fed after the end of stream"
        self.times.append(now)
        if data:
            self.received += data
        else:
            self.eof = True

    def receive_text(self, text: str, now: float) -> None:
        self.times.append(now)
        self.texts.append(text)

    def data_to_send(self) -> bytes:
        out, self.outbox = self.outbox, b""
        return out

    def texts_to_send(self) -> list[str]:
        out, self.text_outbox = self.text_outbox, []
        return out


async def send(stream: Any, data: bytes) -> None:
    """Write *data* through ``stream.send_from`` as the driver does."""
    core = FakeCore()
    core.outbox = data
    writing = stream.send_from(core)
    if writing is not None:
        await writing
    assert core.outbox == b""  # the stream took it all


async def receive(stream: Any, core: FakeCore | None = None) -> bytes:
    """One ``receive_into`` pass; ``b""`` at end of stream (checked against its result)."""
    core = core or FakeCore()
    before = len(core.received)
    more = await stream.receive_into(core, lambda: 42.0, 65536)
    assert more is not core.eof
    assert core.times[-1:] == [42.0]
    return bytes(core.received[before:])


class TLSFiles:
    """A private CA (trustme) and a server certificate for 127.0.0.1."""

    def __init__(self, tmp: Path) -> None:
        self.ca = trustme.CA()
        self.cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = str(tmp / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.cert.configure_cert(context)
        return context


@pytest.fixture
def tls_files(tmp_path: Path) -> TLSFiles:
    return TLSFiles(tmp_path)
