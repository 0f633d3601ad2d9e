"""Conformance: the unmodified official SDK (``signalwire.relay``) against the emulator.

Runs over ``wss://`` with a ``trustme`` certificate trusted through
``SIGNALWIRE_RELAY_CA_FILE``, exactly as the SDK connects to production
(``wss://<host>`` where host is ``127.0.0.1:PORT``).  Our emulator is only right
if a client no one here wrote agrees with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from relaykit.emulator import Caller, Emulator

relay = pytest.importorskip("signalwire.relay")
trustme = pytest.importorskip("trustme")

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the official SDK is asyncio-only


@pytest.fixture
def tls_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca_file, chain, key = tmp_path / "ca.pem", tmp_path / "chain.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(ca_file)
    cert.private_key_pem.write_to_path(key)
    chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    monkeypatch.setenv("SIGNALWIRE_RELAY_CA_FILE", str(ca_file))
    return str(chain), str(key)


@pytest.fixture
async def tls_emu(tls_files: tuple[str, str]) -> AsyncIterator[Emulator]:
    cert, key = tls_files
    async with Emulator(
        project="proj", token="tok", time_scale=0.001, tls_cert=cert, tls_key=key
    ) as emulator:
        assert emulator.url.startswith("wss://")
        yield emulator


async def test_seed_ivr_program_completes(tls_emu: Emulator) -> None:
    client = relay.RelayClient(project="proj", token="tok", host=tls_emu.host, contexts=["ivr"])
    seen: dict[str, Any] = {}

    @client.on_call
    async def handle(call: Any) -> None:
        await call.answer()
        # The seed docs' flat media form, forwarded unchanged by the SDK.
        play = await call.play([{"type": "tts", "text": "Welcome to relaykit"}])
        await play.wait(timeout=5)
        collect = await call.play_and_collect(
            [{"type": "tts", "params": {"text": "Press 1 for sales"}}],
            {"digits": {"max": 1, "digit_timeout": 2.0}, "initial_timeout": 5.0},
        )
        event = await collect.wait(timeout=5)
        seen["result"] = event.params["result"]
        await call.hangup()

    await client.connect()
    try:
        call = await tls_emu.place_call(context="ivr", script=Caller().press("1"))
        record = await call.wait_ended(timeout=10)
    finally:
        await client.disconnect()
    assert seen["result"] == {"type": "digit", "params": {"digits": "1", "terminator": ""}}
    assert record.end_reason == "hangup"
    assert record.hung_up_by == "app"
    assert record.prompts == ["Welcome to relaykit", "Press 1 for sales"]
    assert record.methods == [
        "calling.answer",
        "calling.play",
        "calling.play_and_collect",
        "calling.end",
    ]


async def test_seed_sms_waits_for_delivery(tls_emu: Emulator) -> None:
    client = relay.RelayClient(project="proj", token="tok", host=tls_emu.host)
    await client.connect()
    try:
        message = await client.send_message(
            to_number="+15552222222", from_number="+15551111111", body="Hello!"
        )
        event = await message.wait(timeout=5)
    finally:
        await client.disconnect()
    assert event.params["message_state"] == "delivered"
    assert message.state == "delivered"
    assert tls_emu.messages[0].to_number == "+15552222222"


async def test_sdk_dial_and_detect_machine(tls_emu: Emulator) -> None:
    tls_emu.configure_number("+15553330000", "answer", answer_after=2, script=Caller().voicemail())
    client = relay.RelayClient(project="proj", token="tok", host=tls_emu.host)
    await client.connect()
    try:
        call = await client.dial(
            [
                [
                    {
                        "type": "phone",
                        "params": {"to_number": "+15553330000", "from_number": "+15551111111"},
                    }
                ]
            ],
            dial_timeout=5,
        )
        detect = await call.detect_answering_machine()
        event = await detect.wait(timeout=5)
        await call.hangup()
    finally:
        await client.disconnect()
    assert event.params["detect"]["params"]["event"] == "MACHINE"


async def test_sdk_rejected_credentials(tls_emu: Emulator) -> None:
    client = relay.RelayClient(project="proj", token="wrong", host=tls_emu.host)
    with pytest.raises(
        Exception, match="Authentication service failed with status ProtocolError, 401 Unauthorized"
    ):
        await client.connect()
    await client.disconnect()
