"""The embedding examples (examples/embedding/) run as written against the emulator."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest

from relaykit.emulator import Caller, Emulator

from .conftest import TLSFiles

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "embedding"
IVR = str(EXAMPLES / "selectors_ivr.py")
SMS = str(EXAMPLES / "send_sms.py")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(project="p", token="t", time_scale=0.001) as emu:
        yield emu


def example_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNALWIRE_", "RELAY_"))}
    env.update(
        SIGNALWIRE_RELAY_URL=url,
        SIGNALWIRE_PROJECT_ID="p",
        SIGNALWIRE_API_TOKEN="t",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


async def read_all(process: anyio.abc.Process) -> str:
    assert process.stdout is not None
    chunks = []
    async for chunk in process.stdout:
        chunks.append(chunk)
    return b"".join(chunks).decode()


async def run_ivr_call(emu: Emulator, env: dict[str, str], prompt: str, **kw: Any) -> str:
    """Start the IVR for one call, place it, and return the IVR's output."""
    args = [sys.executable, IVR, "--calls", "1", "--context", "ivr", "--prompt", prompt]
    async with await anyio.open_process(args, env=env, stderr=None) as process:
        async with anyio.create_task_group() as tg:
            output: list[str] = []

            async def collect() -> None:
                output.append(await read_all(process))

            tg.start_soon(collect)
            before = kw.get("before_call")
            if before is not None:
                await before()
            call = await emu.place_call(context="ivr", script=Caller(), wait_subscriber=10)
            record = await call.wait_ended(timeout=10)
            with anyio.fail_after(10):
                await process.wait()
        assert process.returncode == 0, output
    assert record.answered
    assert record.prompts == [prompt]
    assert record.hung_up_by == "app"
    return output[0]


async def test_selectors_ivr_answers_and_plays(emulator: Emulator) -> None:
    output = await run_ivr_call(emulator, example_env(emulator.url), "Welcome to relaykit")
    plays = [e for e in emulator.journal(method="calling.play") if e.direction == "in"]
    assert len(plays) == 1
    assert plays[0].data["play"] == [{"type": "tts", "params": {"text": "Welcome to relaykit"}}]
    assert [e.method for e in emulator.journal(direction="in") if e.kind == "request"][:1] == [
        "signalwire.connect"
    ]
    assert "answered, playing the prompt" in output
    assert "connection closed" in output


async def test_selectors_ivr_over_tls_with_custom_ca(tls_files: TLSFiles, tmp_path: Path) -> None:
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    tls_files.cert.private_key_pem.write_to_path(str(key))
    tls_files.cert.cert_chain_pems[0].write_to_path(str(cert))
    async with Emulator(
        project="p", token="t", time_scale=0.001, tls_cert=str(cert), tls_key=str(key)
    ) as emu:
        assert emu.url.startswith("wss://")
        env = example_env(emu.url, SIGNALWIRE_RELAY_CA_FILE=tls_files.ca_file)
        await run_ivr_call(emu, env, "Secure hello")


async def test_selectors_ivr_reconnects_after_a_dropped_connection(emulator: Emulator) -> None:
    async def drop_first() -> None:
        await emulator.wait_for_subscriber("ivr", timeout=10)
        assert await emulator.drop_connections() == 1

    output = await run_ivr_call(
        emulator, example_env(emulator.url), "Still here", before_call=drop_first
    )
    assert "reconnecting in" in output
    assert len(emulator.journal(method="signalwire.connect", direction="in")) == 2


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_selectors_ivr_ctrl_c_closes_cleanly(emulator: Emulator) -> None:
    args = [sys.executable, IVR, "--context", "ivr"]
    async with await anyio.open_process(args, env=example_env(emulator.url)) as process:
        await emulator.wait_for_subscriber("ivr", timeout=10)
        process.send_signal(signal.SIGINT)
        with anyio.fail_after(10):
            output = await read_all(process)
            await process.wait()
    assert process.returncode == 0
    assert "interrupted: closing the connection" in output
    assert "connection closed: closed by the client" in output


async def run_sms(url: str, *args: str, **env: str) -> tuple[int, str]:
    command = [sys.executable, SMS, "--to", "+15551112222", "--from", "+15553334444", *args]
    result = await anyio.run_process(command, env=example_env(url, **env), check=False)
    return result.returncode, result.stdout.decode() + result.stderr.decode()


async def test_send_sms_delivered(emulator: Emulator) -> None:
    code, output = await run_sms(emulator.url, "Backup finished")
    assert code == 0, output
    assert "delivered" in output
    [message] = emulator.messages
    assert (message.body, message.state) == ("Backup finished", "delivered")
    [send] = [e for e in emulator.journal(method="messaging.send") if e.direction == "in"]
    assert send.data["context"].startswith("signalwire_")  # the session's protocol


async def test_send_sms_undelivered_exits_1(emulator: Emulator) -> None:
    emulator.fail_messages_to("+15551112222")
    code, output = await run_sms(emulator.url, "hello")
    assert code == 1, output
    assert "undelivered (carrier_blocked)" in output


async def test_send_sms_gives_up_at_its_timeout(emulator: Emulator) -> None:
    emulator.delay_responses(30)
    with anyio.fail_after(20):
        code, output = await run_sms(emulator.url, "hello", "--timeout", "1")
    assert code == 2, output
    assert "no final delivery state within 1.0 s" in output


async def test_send_sms_unreachable_server_exits_2() -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    code, output = await run_sms(f"ws://127.0.0.1:{port}", "hello", "--timeout", "1.5")
    assert code == 2, output
    assert "connect failed" in output


async def test_send_sms_needs_credentials() -> None:
    command = [sys.executable, SMS, "--to", "+1555", "--from", "+1556", "hi"]
    env = example_env("ws://127.0.0.1:9")
    del env["SIGNALWIRE_API_TOKEN"]
    result = await anyio.run_process(command, env=env, check=False)
    assert result.returncode == 2
    assert b"SIGNALWIRE_API_TOKEN" in result.stderr
