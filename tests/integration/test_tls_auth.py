"""wss:// to host:port with SIGNALWIRE_RELAY_CA_FILE, JWT authentication, and no
credentials in any log line.  TLS is served on loopback sockets only."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
import trustme

from ._helpers import requests, run_inbound
from .conftest import PROJECT, TOKEN, caller, emulator, transport_for

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[str, str, str]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    return str(ca_file), str(cert_file), str(key_file)


@pytest.mark.sockets
async def test_wss_host_port_with_custom_ca(
    adapter: Any, tls_files: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ca_file, cert_file, key_file = tls_files
    async with emulator(tls_cert=cert_file, tls_key=key_file) as emu:
        assert emu.url.startswith("wss://")
        monkeypatch.setenv("SIGNALWIRE_RELAY_CA_FILE", ca_file)
        # host:port only, as for a real space: the client builds wss://host:port itself.
        client = adapter.RelayClient(
            project=PROJECT, token=TOKEN, host=emu.host, contexts=["office"]
        )
        assert client.url == f"wss://{emu.host}"

        async def handler(call: Any) -> Any:
            await call.answer()
            action = await call.play_tts("Secure hello")
            await action.wait(timeout=5)
            await call.hangup()

        done = []

        @client.on_call
        async def on_call(call: Any) -> None:
            await handler(call)
            done.append(call.call_id)

        async with client:
            ecall = await emu.place_call(context="office", script=caller())
            record = await ecall.wait_ended(timeout=10)
        assert record.prompts == ["Secure hello"]


@pytest.mark.sockets
async def test_wss_rejects_an_unknown_ca(adapter: Any, tls_files: tuple[str, str, str]) -> None:
    _, cert_file, key_file = tls_files
    async with emulator(tls_cert=cert_file, tls_key=key_file) as emu:
        client = adapter.RelayClient(project=PROJECT, token=TOKEN, host=emu.host)
        # Verification is on: the test CA is not trusted.  The real exception
        # type comes out (not ConnectionRefusedError), saying what to do.
        with pytest.raises(ssl.SSLCertVerificationError, match="SIGNALWIRE_RELAY_CA_FILE"):
            await client.connect()
        assert not client.connected


async def test_jwt_authentication(adapter: Any) -> None:
    async with emulator(jwt_tokens=["header.payload.signature"]) as emu:
        client = adapter.RelayClient(
            jwt_token="header.payload.signature",
            url=emu.url,
            contexts=["office"],
            transport=transport_for(emu),
        )
        async with client:
            assert client.connected
        (connect,) = requests(emu, "signalwire.connect")
        assert connect["authentication"] == {"jwt_token": "header.payload.signature"}


def _windows(secret: str, width: int = 10) -> set[str]:
    """Every *width*-character slice of *secret*: "never logged, whole or in part"."""
    return {secret[i : i + width] for i in range(max(1, len(secret) - width + 1))}


@pytest.mark.loopback  # every library's loggers, httpx-ws's included
async def test_credentials_never_logged(adapter: Any, caplog: pytest.LogCaptureFixture) -> None:
    # Every logger at DEBUG (ours, the emulator's, and the libraries': wsproto,
    # httpx/httpcore/httpx-ws on the httpx variant), through a connect, a
    # dropped connection, and a resume that sends the authorization state back.
    caplog.set_level(logging.DEBUG)
    token = "PT" + "5f0c9a7e3b1d4c2a8e6f" * 3  # long and unique, so fragments are searchable
    async with emulator(token=token) as emu:

        async def handler(call: Any) -> None:
            await call.answer()
            await emu.drop_connections()  # a reconnect resends credentials + auth state
            with anyio.fail_after(5):
                while call._client.connected:
                    await anyio.lowlevel.checkpoint()
            await call.hangup()  # queued while offline, sent after re-authentication

        await run_inbound(adapter, emu, handler, token=token, request_timeout=10.0)
        connects = requests(emu, "signalwire.connect")
        assert len(connects) == 2
        state = connects[1].get("authorization_state")
        assert isinstance(state, str), "the resume must carry the authorization state"
        assert state
    logged = caplog.text
    assert logged, "nothing was logged at all: the check would be vacuous"
    for secret in (token, state):
        leaked = sorted(w for w in _windows(secret) if w in logged)
        assert not leaked, f"a fragment of a secret was logged: {leaked[:3]}"
