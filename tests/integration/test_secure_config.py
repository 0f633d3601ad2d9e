"""Issue 11, §2 and parts of §3-§5: credentials never travel in clear, the
endpoint is the program's, strict numbers, a bounded opening, permanent TLS
failures fail fast and transient ones are retried (logged once per attempt).

The configuration tests need no loop.  The loop tests run on asyncio and trio
(in memory, virtual time on trio) through the ``adapter`` fixture; the
socket-level ones (a silent TCP server, a real TLS handshake) over loopback.
"""

from __future__ import annotations

import errno
import logging
import socket
import ssl
from pathlib import Path
from typing import Any, cast

import anyio
import anyio.abc
import anyio.lowlevel
import pytest
import trustme

import relay_anyio
import relay_trio
from relaykit import client as api
from relaykit._tls import create_tls_context
from relaykit.client import TransportClosed
from relaykit.client._config import is_local_host, redact_url
from relaykit.client._runtime import LibraryStream, Stream
from relaykit.testing import memory_stream_pair
from tests._peers import WsPeer

from .conftest import PROJECT, TOKEN, emulator

pytestmark = pytest.mark.timeout(30)

SECRET = "s3cr3t-Pa55word"
CLIENTS = [relay_anyio.RelayClient, relay_trio.RelayClient]


# ----------------------------------------------------------------------
# ws:// only to loopback
# ----------------------------------------------------------------------


@pytest.mark.parametrize("Client", CLIENTS)
@pytest.mark.parametrize(
    "url", ["ws://relay.example.com", "ws://10.0.0.5:8080", "ws://[2001:db8::1]"]
)
def test_ws_to_a_remote_host_needs_allow_insecure(Client: Any, url: str) -> None:
    with pytest.raises(ValueError, match="ws://") as info:
        Client(project="p", token="t", url=url)
    message = str(info.value)
    assert url in message
    assert "allow_insecure=True" in message
    client = Client(project="p", token="t", url=url, allow_insecure=True)
    assert client.url == url
    assert not client._config.tls


def test_ws_from_the_environment_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNALWIRE_RELAY_URL", "ws://relay.example.com:8765")
    with pytest.raises(ValueError, match=r"SIGNALWIRE_RELAY_URL.*allow_insecure"):
        relay_anyio.RelayClient(project="p", token="t")


@pytest.mark.parametrize(
    "url",
    [
        "ws://127.0.0.1:8765",
        "ws://127.3.4.5",
        "ws://[::1]:9000",
        "ws://localhost:8765",
        "ws://LOCALHOST.",
        "ws://relaykit-emulator-7.invalid",
    ],
)
def test_ws_to_loopback_and_the_memory_emulator_is_fine(url: str) -> None:
    assert relay_anyio.RelayClient(project="p", token="t", url=url).url == url


@pytest.mark.parametrize("host", ["127.0.0.1.example.com", "localhost.example.com", "invalid.com"])
def test_names_that_only_look_local_are_not(host: str) -> None:
    assert not is_local_host(host)
    with pytest.raises(ValueError, match="allow_insecure"):
        relay_anyio.RelayClient(project="p", token="t", url=f"ws://{host}")


@pytest.mark.anyio
async def test_the_in_memory_emulator_url_is_accepted(adapter: Any) -> None:
    async with emulator() as emu:
        assert emu.url.startswith("ws://")
        assert emu.url.endswith(".invalid")
        client = adapter.RelayClient(
            project=PROJECT, token=TOKEN, url=emu.url, transport=emu.transport
        )
        async with client:
            assert client.connected


# ----------------------------------------------------------------------
# Arguments win over the environment, for the endpoint as a whole
# ----------------------------------------------------------------------


def test_explicit_host_or_url_is_never_replaced_by_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGNALWIRE_RELAY_URL", "wss://attacker.example.net:9443/x")
    monkeypatch.setenv("SIGNALWIRE_SPACE", "space-from-env.signalwire.com")
    Client = relay_anyio.RelayClient
    by_host = Client(project="p", token="t", host="mine.signalwire.com")
    assert by_host.url == "wss://mine.signalwire.com"
    assert (by_host._config.hostname, by_host._config.port, by_host._config.target) == (
        "mine.signalwire.com",
        443,
        "/",
    )
    by_url = Client(project="p", token="t", url="wss://mine.signalwire.com:8443")
    assert by_url.url == "wss://mine.signalwire.com:8443"
    # No endpoint in the program: the environment decides (URL before SPACE).
    assert Client(project="p", token="t").url == "wss://attacker.example.net:9443/x"
    monkeypatch.delenv("SIGNALWIRE_RELAY_URL")
    assert Client(project="p", token="t").url == "wss://space-from-env.signalwire.com"


# ----------------------------------------------------------------------
# SIGNALWIRE_RELAY_CA_FILE adds to the system's CAs
# ----------------------------------------------------------------------


def _names(context: ssl.SSLContext) -> set[str]:
    names = set()
    for cert in context.get_ca_certs():
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key in ("organizationName", "organizationalUnitName", "commonName"):
                    names.add(str(value))
    return names


def _ca_file(ca: trustme.CA, path: Path) -> str:
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _wss_emulator(ca: trustme.CA, tmp_path: Path) -> Any:
    """An emulator serving wss:// with a certificate for 127.0.0.1 that *ca* signed."""
    cert = ca.issue_cert("127.0.0.1")
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    cert.private_key_pem.write_to_path(str(key))
    return emulator(tls_cert=str(chain), tls_key=str(key))


def test_ca_file_adds_to_the_system_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system_ca, extra_ca = (
        trustme.CA(organization_name="System CA"),
        trustme.CA(organization_name="Extra CA"),
    )
    # A known "system" store: OpenSSL's default verify file.
    monkeypatch.setenv("SSL_CERT_FILE", _ca_file(system_ca, tmp_path / "system.pem"))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    plain = create_tls_context(None)
    assert "System CA" in _names(plain)
    context = create_tls_context(_ca_file(extra_ca, tmp_path / "extra.pem"))
    assert {"System CA", "Extra CA"} <= _names(context)
    assert context.cert_store_stats()["x509_ca"] == plain.cert_store_stats()["x509_ca"] + 1
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


def test_ca_file_keeps_the_real_system_store(tmp_path: Path) -> None:
    default = ssl.create_default_context().cert_store_stats()["x509_ca"]
    extra = create_tls_context(_ca_file(trustme.CA(), tmp_path / "ca.pem"))
    assert extra.cert_store_stats()["x509_ca"] == default + 1


@pytest.mark.sockets
@pytest.mark.anyio
async def test_ca_file_and_system_cas_both_verify(
    adapter: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server signed by a "system" CA still verifies while SIGNALWIRE_RELAY_CA_FILE is set
    (it replaced the system store before), and one signed by the extra CA verifies too."""
    system_ca, extra_ca = trustme.CA(), trustme.CA()
    monkeypatch.setenv("SSL_CERT_FILE", _ca_file(system_ca, tmp_path / "system.pem"))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("SIGNALWIRE_RELAY_CA_FILE", _ca_file(extra_ca, tmp_path / "extra.pem"))
    for ca in (system_ca, extra_ca):
        async with _wss_emulator(ca, tmp_path) as emu:
            client = adapter.RelayClient(
                project=PROJECT, token=TOKEN, host=emu.host, connect_timeout=10
            )
            async with client:
                assert client.connected


# ----------------------------------------------------------------------
# No credentials in messages; repr never raises
# ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"url": f"wss://user:{SECRET}@relay.example.com"},
        {"url": f"ws://user:{SECRET}@relay.example.com"},
        {"url": f"wss://relay.example.com/?token={SECRET}"},
        {"url": f"wss://relay.example.com/path?a=1&token={SECRET}#{SECRET}"},
        {"url": f"ftp://user:{SECRET}@relay.example.com"},
        {"url": f"ws://relay.example.com/?{SECRET}"},
        {"host": f"user:{SECRET}@relay.example.com"},
        {"host": f"{SECRET}@relay.example.com:99999"},
    ],
)
def test_errors_never_echo_credentials(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"(?i)invalid|refusing") as info:
        relay_anyio.RelayClient(project="p", token="t", **kwargs)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)
    assert "relay.example.com" in str(info.value)  # still says which endpoint


def test_environment_url_errors_never_echo_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNALWIRE_RELAY_URL", f"wss://u:{SECRET}@relay.example.com")
    with pytest.raises(ValueError, match="SIGNALWIRE_RELAY_URL") as info:
        relay_trio.RelayClient(project="p", token="t")
    assert SECRET not in str(info.value)


def test_redact_url() -> None:
    assert redact_url("wss://u:p@h:1/x?token=abc&flag#frag") == "wss://***@h:1/x?token=***&***#***"
    assert redact_url("wss://h/") == "wss://h/"
    assert redact_url(5) == "<int>"
    assert redact_url("ws://[::1") == "<unparseable URL>"


@pytest.mark.parametrize("Client", [*CLIENTS, api.RelayClient])
def test_repr_of_a_half_constructed_client(Client: Any) -> None:
    bare = Client.__new__(Client)
    assert type(bare).__name__ in repr(bare)
    broken = Client.__new__(Client)
    with pytest.raises((ValueError, TypeError)):
        broken.__init__(project="p", token=SECRET, url=f"wss://u:{SECRET}@example.com")
    shown = repr(broken)
    assert SECRET not in shown
    assert "DISCONNECTED" in shown


# ----------------------------------------------------------------------
# max_active_calls / RELAY_MAX_ACTIVE_CALLS / RELAY_MAX_CONNECTIONS
# ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, -1000, True, False, 1.5, 2.0, "5"])
def test_bad_max_active_calls_argument(value: Any) -> None:
    with pytest.raises(ValueError, match="max_active_calls"):
        relay_anyio.RelayClient(project="p", token="t", max_active_calls=value)


@pytest.mark.parametrize("variable", ["RELAY_MAX_ACTIVE_CALLS", "RELAY_MAX_CONNECTIONS"])
@pytest.mark.parametrize("raw", ["abc", "0", "-3", "1.5", "1e3", "1_000", "\u00b2", "0x10", "00"])
def test_bad_numbers_in_the_environment(
    variable: str, raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, raw)
    with pytest.raises(ValueError, match=variable):
        relay_trio.RelayClient(project="p", token="t")


def test_good_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    from relaykit.client._config import max_connections

    assert (
        relay_anyio.RelayClient(project="p", token="t", max_active_calls=1)._config.max_active_calls
        == 1
    )
    monkeypatch.setenv("RELAY_MAX_ACTIVE_CALLS", " 25 ")
    monkeypatch.setenv("RELAY_MAX_CONNECTIONS", "3")
    assert relay_anyio.RelayClient(project="p", token="t")._config.max_active_calls == 25
    assert max_connections() == 3
    # The argument wins over the variable.
    assert (
        relay_anyio.RelayClient(project="p", token="t", max_active_calls=4)._config.max_active_calls
        == 4
    )
    monkeypatch.setenv("RELAY_MAX_CONNECTIONS", "0")
    with pytest.raises(ValueError, match="RELAY_MAX_CONNECTIONS"):
        max_connections()


# ----------------------------------------------------------------------
# Test transports
# ----------------------------------------------------------------------


class _SilentServer:
    """The far end of memory connections that never answers RELAY.

    ``websocket=False``: accepts the socket and reads everything, saying
    nothing (not even the WebSocket handshake).  ``websocket=True``: completes
    the WebSocket handshake and then never answers ``signalwire.connect``.
    """

    frames_websocket = False

    def __init__(self, group: anyio.abc.TaskGroup, *, websocket: bool) -> None:
        self._group = group
        self._websocket = websocket
        self.opened = 0
        self.texts: list[str] = []

    async def open(self, **_: Any) -> Stream:  # wherever it is pointed
        client_end, server_end = memory_stream_pair()
        self.opened += 1
        self._group.start_soon(self._serve, server_end)
        await anyio.lowlevel.checkpoint()
        return LibraryStream(
            client_end,
            client_end.receive_some,
            client_end.send_all,
            type(client_end).aclose,
            broken=(),
        )

    async def _serve(self, end: Any) -> None:
        peer = WsPeer("server")
        try:
            while True:
                data = await end.receive()
                if self._websocket:
                    for message in peer.receive(data):
                        if isinstance(message, str):
                            self.texts.append(message)
                    out = peer.take()
                    if out:
                        await end.send(out)
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass


class _FailingTransport:
    """Every ``open()`` fails with the next exception of *errors* (the last one repeats)."""

    frames_websocket = False

    def __init__(self, *errors: BaseException, until: int = 0) -> None:
        self._errors = list(errors)
        self.opened = 0
        self._until = until
        #: Set once *until* attempts were made.
        self.reached = anyio.Event()

    async def open(self, **_: Any) -> Stream:
        await anyio.lowlevel.checkpoint()
        self.opened += 1
        if self.opened == self._until:
            self.reached.set()
        error = self._errors[min(self.opened, len(self._errors)) - 1]
        raise error


def _client_over(adapter: Any, transport: Any, **options: Any) -> Any:
    """A client of *adapter* that reaches ``wss://relay.example.com`` only through *transport*."""
    return adapter.RelayClient(
        project=PROJECT, token=TOKEN, url="wss://relay.example.com", transport=transport, **options
    )


def _cert_error() -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
    )
    error.verify_code, error.verify_message = 18, "self-signed certificate"
    return error


def _now(adapter: Any) -> float:
    return float(adapter.RelayClient._runtime.bind().current_time())


# ----------------------------------------------------------------------
# connect_timeout bounds the whole opening
# ----------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("websocket", [False, True], ids=["tcp-only", "websocket-open"])
async def test_connect_timeout_bounds_a_silent_server(
    adapter: Any, adapter_spec: Any, websocket: bool
) -> None:
    """TCP accepted, then silence (before the WebSocket handshake, or after it:
    ``signalwire.connect`` never answered).  request_timeout is far longer: the
    opening must end at connect_timeout, as a timeout, not AuthenticationFailed."""
    limit = 5.0 if adapter_spec.virtual_time else 0.5
    async with anyio.create_task_group() as group:
        server = _SilentServer(group, websocket=websocket)
        client = adapter.RelayClient(
            project=PROJECT,
            token=TOKEN,
            url="ws://silent-server.invalid",
            transport=server,
            connect_timeout=limit,
            request_timeout=120.0,
        )
        start = _now(adapter)
        with anyio.fail_after(60):
            with pytest.raises(ConnectionRefusedError, match="timed out") as info:
                await client.connect()
        elapsed = _now(adapter) - start
        group.cancel_scope.cancel()
    assert not isinstance(info.value, adapter.AuthenticationFailed)
    assert "connect_timeout" in str(info.value)
    assert server.opened == 1  # failed fast: no retry in connect()
    if websocket:
        assert len(server.texts) == 1
        assert "signalwire.connect" in server.texts[0]
    if adapter_spec.virtual_time:  # virtual seconds: exact, never a wall-clock race
        assert limit <= elapsed < limit + 1.0
    assert not client.connected


@pytest.mark.sockets
@pytest.mark.anyio
async def test_connect_timeout_bounds_a_silent_tcp_server(adapter: Any) -> None:
    """A bare loopback socket that accepts and never says anything (every real transport)."""
    accepted: list[anyio.abc.SocketStream] = []

    async def hold(stream: anyio.abc.SocketStream) -> None:
        accepted.append(stream)
        try:
            while await stream.receive():
                pass
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, hold)
        client = adapter.RelayClient(
            project=PROJECT,
            token=TOKEN,
            url=f"ws://127.0.0.1:{port}",
            connect_timeout=0.5,
            request_timeout=120.0,
        )
        with anyio.fail_after(20):
            with pytest.raises(ConnectionRefusedError, match="timed out"):
                await client.connect()
        group.cancel_scope.cancel()
    assert accepted, "the server never saw the connection: the test would prove nothing"


# ----------------------------------------------------------------------
# Permanent failures fail fast; transient ones are retried, logged once each
# ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_connect_raises_the_certificate_error(adapter: Any) -> None:
    transport = _FailingTransport(_cert_error())
    client = _client_over(adapter, transport)
    with anyio.fail_after(30), pytest.raises(ssl.SSLCertVerificationError) as info:
        await client.connect()
    assert "SIGNALWIRE_RELAY_CA_FILE" in str(info.value)
    assert info.value.verify_code == 18
    assert transport.opened == 1


@pytest.mark.anyio
async def test_run_stops_on_a_certificate_failure(
    adapter: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """run() (its loop body) stops at the first verification failure instead of
    retrying forever; the message says to set SIGNALWIRE_RELAY_CA_FILE."""
    caplog.set_level(logging.INFO, logger="relaykit")
    transport = _FailingTransport(
        ConnectionRefusedError(errno.ECONNREFUSED, "refused"), _cert_error()
    )
    client = _client_over(adapter, transport, reconnect_min_delay=0.01, reconnect_max_delay=0.02)
    with anyio.fail_after(30), pytest.raises(ssl.SSLCertVerificationError) as info:
        await client._serve_forever()
    assert "SIGNALWIRE_RELAY_CA_FILE" in str(info.value)
    assert transport.opened == 2  # the refusal was retried, the certificate failure was not
    # Not logged here: run() says it once, in its exit line (test_run_messages.py).
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


class _ThenCertificateError:
    """The first ``open()`` reaches *inner*; every later one fails certificate verification."""

    frames_websocket = False

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.opened = 0
        #: Set as the first failure is raised (in the driver's task, which then
        #: handles it before anything else runs).
        self.failed = anyio.Event()

    async def open(self, **options: Any) -> Stream:
        self.opened += 1
        if self.opened == 1:
            return cast(Stream, await self._inner.open(**options))
        await anyio.lowlevel.checkpoint()
        self.failed.set()
        raise _cert_error()


@pytest.mark.anyio
async def test_a_certificate_failure_on_a_reconnect_is_logged_once(
    adapter: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """After connect() has returned nobody waits for the error: the log says it, once."""
    caplog.set_level(logging.INFO, logger="relaykit")
    async with emulator() as emu:
        transport = _ThenCertificateError(emu.transport)
        client = adapter.RelayClient(
            project=PROJECT,
            token=TOKEN,
            url=emu.url,
            transport=transport,
            reconnect_min_delay=0.01,
            reconnect_max_delay=0.02,
        )
        with anyio.fail_after(30):
            await client.connect()
            assert await emu.drop_connections() == 1
            await transport.failed.wait()
            await client.disconnect()
    assert transport.opened == 2  # not retried
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert "SIGNALWIRE_RELAY_CA_FILE" in errors[0]


@pytest.mark.sockets
@pytest.mark.anyio
async def test_run_stops_on_a_real_untrusted_certificate(adapter: Any, tmp_path: Path) -> None:
    async with _wss_emulator(trustme.CA(), tmp_path) as emu:
        client = adapter.RelayClient(
            project=PROJECT, token=TOKEN, host=emu.host, reconnect_min_delay=0.01
        )
        with anyio.fail_after(20), pytest.raises(ssl.SSLCertVerificationError) as info:
            await client._serve_forever()
    assert "SIGNALWIRE_RELAY_CA_FILE" in str(info.value)


@pytest.mark.anyio
async def test_transient_failures_are_retried_and_logged_once_each(
    adapter: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="relaykit")
    transport = _FailingTransport(
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        TransportClosed("TLS handshake with relay.example.com:443 failed"),
        until=6,
    )
    client = _client_over(adapter, transport, reconnect_min_delay=0.01, reconnect_max_delay=0.04)

    def attempts() -> list[logging.LogRecord]:
        return [
            r
            for r in caplog.records
            if r.name.startswith("relaykit") and r.levelno == logging.WARNING
        ]

    async with anyio.create_task_group() as group:
        group.start_soon(client._serve_forever)
        with anyio.fail_after(30):
            await transport.reached.wait()
        group.cancel_scope.cancel()
    warnings = attempts()
    # One WARNING per failed attempt (the last may be cut short by the cancel).
    assert transport.opened - 1 <= len(warnings) <= transport.opened
    for number, record in enumerate(warnings, start=1):
        text = record.getMessage()
        assert f"attempt {number}" in text, text
        assert "retrying in" in text, text
    assert "refused" in warnings[0].getMessage()
    assert "reset" in warnings[1].getMessage()
    assert "Name or service not known" in warnings[2].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
