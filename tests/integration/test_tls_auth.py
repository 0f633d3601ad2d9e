"""wss:// to host:port with SIGNALWIRE_RELAY_CA_FILE, JWT authentication, and no
credentials in any log line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
import trustme

from ._helpers import requests, run_inbound
from .conftest import PROJECT, TOKEN, caller, emulator

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


async def test_wss_rejects_an_unknown_ca(adapter: Any, tls_files: tuple[str, str, str]) -> None:
    _, cert_file, key_file = tls_files
    async with emulator(tls_cert=cert_file, tls_key=key_file) as emu:
        client = adapter.RelayClient(project=PROJECT, token=TOKEN, host=emu.host)
        with pytest.raises(ConnectionError):
            await client.connect()  # verification is on: the test CA is not trusted


async def test_jwt_authentication(adapter: Any) -> None:
    async with emulator(jwt_tokens=["header.payload.signature"]) as emu:
        client = adapter.RelayClient(
            jwt_token="header.payload.signature", url=emu.url, contexts=["office"]
        )
        async with client:
            assert client.connected
        (connect,) = requests(emu, "signalwire.connect")
        assert connect["authentication"] == {"jwt_token": "header.payload.signature"}


async def test_credentials_never_logged(adapter: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with emulator() as emu:

        async def handler(call: Any) -> None:
            await call.answer()
            await emu.drop_connections()  # a reconnect resends credentials + auth state
            with anyio.fail_after(5):
                while call._client.connected:
                    await anyio.lowlevel.checkpoint()
            await call.hangup()  # queued while offline, sent after re-authentication

        client_kw = {"request_timeout": 10.0}
        await run_inbound(adapter, emu, handler, **client_kw)
        assert len(requests(emu, "signalwire.connect")) == 2
    # (Rejected credentials are checked in test_connection.test_auth_rejection_is_bounded.)
    assert TOKEN not in caplog.text
    assert "authorization_state" not in caplog.text
