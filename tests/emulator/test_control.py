"""The HTTP control endpoint and the ``relaykit call`` / ``relaykit message`` commands."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator

import anyio
import pytest

from relaykit import _cli
from relaykit.emulator import Emulator

from ._client import MiniClient

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(15)]


@pytest.fixture
async def ctl_emu() -> AsyncIterator[Emulator]:
    async with Emulator(time_scale=0.001, control_port=0) as emulator:
        assert emulator.control_url is not None
        yield emulator


async def ivr_handler(client: MiniClient) -> None:
    """A tiny IVR written against the mini client: answer, ask, hang up."""
    offer = await client.wait_event("calling.call.receive")
    ids = {"node_id": offer["node_id"], "call_id": offer["call_id"]}
    await client.result("calling.answer", ids)
    await client.result(
        "calling.play_and_collect",
        {
            **ids,
            "control_id": "menu",
            "play": [{"type": "tts", "params": {"text": "Press 1"}}],
            "collect": {"digits": {"max": 1}},
        },
    )
    await client.wait_event("calling.call.collect", control_id="menu")
    await client.result("calling.end", ids)


async def test_relaykit_call_against_running_emulator(
    ctl_emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    async with anyio.create_task_group() as tg:
        client = await MiniClient.open(ctl_emu.host)
        tg.start_soon(client.run)
        await client.connect(project="any", token="thing", contexts=["ivr"])
        tg.start_soon(ivr_handler, client)
        url = ctl_emu.control_url
        assert url is not None
        code = await anyio.to_thread.run_sync(
            _cli.main,
            ["call", "--url", url, "--context", "ivr", "--press", "1", "--json", "--timeout", "5"],
        )
        assert code == 0
        record = json.loads(capsys.readouterr().out)
        assert record["inputs"] == [{"type": "digit", "digits": "1", "terminator": ""}]
        assert record["prompts"] == ["Press 1"]
        assert record["hung_up_by"] == "app"
        code = await anyio.to_thread.run_sync(
            _cli.main, ["message", "--url", url, "--context", "ivr", "--body", "hi"]
        )
        assert code == 0
        await client.wait_event("messaging.receive")
        await client.aclose()
        tg.cancel_scope.cancel()


async def test_relaykit_call_errors(ctl_emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    url = ctl_emu.control_url
    assert url is not None
    code = await anyio.to_thread.run_sync(
        _cli.main,
        ["call", "--url", url, "--context", "nobody-listens", "--wait-subscriber", "0.05"],
    )
    assert code == 2
    assert "subscribed" in capsys.readouterr().err
    code = await anyio.to_thread.run_sync(
        _cli.main, ["call", "--url", "http://127.0.0.1:9", "--context", "x"]
    )
    assert code == 2
    assert "cannot reach" in capsys.readouterr().err


async def test_control_endpoint_routes(ctl_emu: Emulator) -> None:
    url = ctl_emu.control_url
    assert url is not None
    status, body = await anyio.to_thread.run_sync(_cli._http, f"{url}/health", "GET", None, 5.0)
    assert status == 200
    assert body["url"] == ctl_emu.url
    status, body = await anyio.to_thread.run_sync(_cli._http, f"{url}/calls/nope", "GET", None, 5.0)
    assert status == 404
    status, body = await anyio.to_thread.run_sync(
        _cli._http, f"{url}/calls", "POST", {"context": "x", "script": {"steps": [{"fly": 1}]}}, 5.0
    )
    assert status == 400
    assert "unknown script step" in body["error"]
    status, body = await anyio.to_thread.run_sync(_cli._http, f"{url}/journal", "GET", None, 5.0)
    assert status == 200
    assert body == []


async def test_relaykit_emulator_command_serves() -> None:
    proc = await anyio.open_process(
        [
            sys.executable,
            "-c",
            "from relaykit._cli import main; main()",
            "emulator",
            "--port",
            "0",
            "--project",
            "demo",
            "--token",
            "demo",
            "--time-scale",
            "0.01",
        ]
    )
    try:
        assert proc.stdout is not None
        line = b""
        with anyio.fail_after(10):
            while b"\n" not in line:
                line += await proc.stdout.receive()
        text = line.decode()
        assert "RELAY on ws://127.0.0.1:" in text
        host = text.split("ws://", 1)[1].split()[0]
        async with anyio.create_task_group() as tg:
            client = await MiniClient.open(host)
            tg.start_soon(client.run)
            resp = await client.connect(project="demo", token="demo")
            assert resp.__class__.__name__ == "Response"
            await client.aclose()
            tg.cancel_scope.cancel()
    finally:
        proc.terminate()
        await proc.wait()
