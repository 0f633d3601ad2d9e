"""``relaykit call`` / ``relaykit message``: clear errors, timeouts, what was said."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import anyio
import pytest

from relaykit.emulator import Emulator
from tests.emulator._client import MiniClient

from .conftest import run_cli

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(20)]


def ids(offer: dict[str, object]) -> dict[str, object]:
    return {"node_id": offer["node_id"], "call_id": offer["call_id"]}


async def next_offer(client: MiniClient) -> dict[str, object]:
    """The next call offered after those the client has already seen."""
    seen = len(client.events_of("calling.call.receive"))
    await client.wait(lambda: len(client.events_of("calling.call.receive")) > seen)
    return client.events_of("calling.call.receive")[seen]


async def answer_and_wait(client: MiniClient) -> None:
    """An IVR that answers and never hangs up."""
    offer = await next_offer(client)
    await client.result("calling.answer", ids(offer))


async def speech_ivr(client: MiniClient) -> None:
    """Answer, ask for speech, hang up."""
    offer = await next_offer(client)
    await client.result("calling.answer", ids(offer))
    await client.result(
        "calling.play_and_collect",
        {
            **ids(offer),
            "control_id": f"ask-{offer['call_id']}",
            "play": [{"type": "tts", "params": {"text": "How can I help?"}}],
            "collect": {"speech": {"end_silence_timeout": 0.5}},
        },
    )
    await client.wait_event("calling.call.collect", control_id=f"ask-{offer['call_id']}")
    await client.result("calling.end", ids(offer))


async def test_timeout_says_it_timed_out_before_the_record(
    ctl_emu: Emulator,
    ivr_client: MiniClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stderr", sys.stdout)  # one stream: the order shows
    async with anyio.create_task_group() as tg:
        tg.start_soon(answer_and_wait, ivr_client)
        url = ctl_emu.control_url
        assert url is not None
        code = await run_cli(["call", "--url", url, "--context", "main-ivr", "--timeout", "0.3"])
    assert code == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("relaykit call: timed out: call ")
    assert "after 0.3 s (--timeout)" in lines[0]
    assert "--hangup-after" in lines[0]
    assert "still answered after 0.3 s (timed out" in lines[1]
    assert "end_reason=None" not in out


async def test_timeout_in_json(
    ctl_emu: Emulator, ivr_client: MiniClient, capsys: pytest.CaptureFixture[str]
) -> None:
    async with anyio.create_task_group() as tg:
        tg.start_soon(answer_and_wait, ivr_client)
        url = ctl_emu.control_url
        assert url is not None
        code = await run_cli(
            ["call", "--url", url, "--context", "main-ivr", "--timeout", "0.3", "--json"]
        )
    assert code == 1
    captured = capsys.readouterr()
    record = json.loads(captured.out)
    assert record["timed_out"] is True
    assert record["state"] == "answered"
    assert "timed out" in captured.err


async def test_unknown_context_lists_the_subscribed_ones(
    ctl_emu: Emulator, ivr_client: MiniClient, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ctl_emu.control_url
    assert url is not None
    for command in (["call"], ["message", "--body", "hi"]):
        code = await run_cli(
            [*command, "--url", url, "--context", "mian-ivr", "--wait-subscriber", "0.05"]
        )
        assert code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert f"relaykit {command[0]}: no client subscribed to context 'mian-ivr'" in err
        assert "the contexts clients are subscribed to: main-ivr" in err
        assert "did you mean --context main-ivr?" in err


async def test_no_client_at_all(ctl_emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    url = ctl_emu.control_url
    assert url is not None
    code = await run_cli(["call", "--url", url, "--context", "x", "--wait-subscriber", "0.05"])
    assert code == 2
    assert "no client is subscribed to any context" in capsys.readouterr().err


async def test_url_at_the_websocket_port(
    ctl_emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["call"], ["message", "--body", "hi"]):
        code = await run_cli([*command, "--url", f"http://{ctl_emu.host}", "--context", "x"])
        assert code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert "answered HTTP 400 with an empty body" in err
        assert "expected the JSON of the relaykit emulator's control endpoint" in err
        assert f"--url http://127.0.0.1:{ctl_emu.port + 1}" in err


@pytest.fixture
def html_server() -> Iterator[str]:
    """An HTTP server that answers every request with an HTML page."""

    class Handler(BaseHTTPRequestHandler):
        def _page(self) -> None:
            body = b"<html><body>Not here</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _page

        def log_message(self, *args: object) -> None:
            pass  # keep the test output clean

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_url_answering_html(html_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = await run_cli(["call", "--url", html_server, "--context", "x"])
    assert code == 2
    err = capsys.readouterr().err
    assert "answered HTTP 200 with a text/html body starting '<html><body>Not here" in err
    assert "control endpoint" in err


async def test_url_answering_something_not_http(capsys: pytest.CaptureFixture[str]) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def serve_once() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
        conn.close()

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    try:
        code = await run_cli(["call", "--url", f"http://127.0.0.1:{port}", "--context", "x"])
    finally:
        thread.join(5)
        listener.close()
    assert code == 2
    assert "answered something that is not HTTP" in capsys.readouterr().err


async def test_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = await run_cli(
        ["message", "--url", f"http://127.0.0.1:{port}", "--context", "x", "--body", "b"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert f"cannot reach the emulator at http://127.0.0.1:{port}" in err
    assert "relaykit emulator" in err


async def test_said_shows_in_output_and_json(
    ctl_emu: Emulator, ivr_client: MiniClient, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ctl_emu.control_url
    assert url is not None
    async with anyio.create_task_group() as tg:
        tg.start_soon(speech_ivr, ivr_client)
        code = await run_cli(
            ["call", "--url", url, "--context", "main-ivr", "--say", "sales please"]
        )
    assert code == 0
    out = capsys.readouterr().out
    assert "  script: say 'sales please' (human)" in out
    assert "  said: 'sales please' (heard by a speech collect)" in out
    async with anyio.create_task_group() as tg:
        tg.start_soon(speech_ivr, ivr_client)
        code = await run_cli(
            ["call", "--url", url, "--context", "main-ivr", "--say", "hi", "--press", "1", "--json"]
        )
    assert code == 0
    record = json.loads(capsys.readouterr().out)
    assert record["timed_out"] is False
    # Steps keep their command-line order; the speech collect heard the first.
    assert record["script"]["steps"] == [{"say": "hi"}, {"press": "1"}]
    assert record["inputs"][0] == {"type": "speech", "text": "hi", "confidence": 0.95}


def test_help_shows_every_default(capsys: pytest.CaptureFixture[str]) -> None:
    from relaykit._cli import _parser, _subparser

    parser = _parser()
    for name in ("emulator", "call", "message", "demo"):
        sub = _subparser(parser, name)
        for action in sub._actions:
            if action.default in (None, False, [], "==SUPPRESS==") or action.required:
                if action.default is None and not action.required and action.option_strings:
                    assert "default" in (action.help or ""), (name, action.option_strings)
                continue
            with pytest.raises(SystemExit):
                parser.parse_args([name, "--help"])
            text = " ".join(capsys.readouterr().out.split())
            assert f"(default: {action.default})" in text, (name, action.option_strings)
