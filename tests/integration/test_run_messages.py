"""What a program built on ``client.run()`` tells its user: a tiny program in a subprocess.

* A fatal error ends the program with one line on stderr and exit status 1, not a
  traceback: a rejected login names the URL and the project and where the
  credentials came from (never the token, nor any part of it) and reminds that
  constructor arguments win over ``SIGNALWIRE_*``; a TLS certificate that cannot be
  verified says so.  With logging configured the line is logged once (ERROR), and the
  traceback is there at DEBUG.
* Connected and each reconnect: one INFO line each, with the URL and the contexts.
* ``RELAYKIT_RECORD``: the session's frames, across reconnects, in a scrubbed journal.

One case per adapter module: relay_anyio on asyncio, relay_trio on trio.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import anyio
import pytest
import trustme

from relaykit.emulator import Caller
from relaykit.recording import load_journal

from .conftest import CHILD_PROCESS, PROJECT, TOKEN, emulator

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60), CHILD_PROCESS]

WRONG_TOKEN = "tok-Zq8xW3vR9mK2pL7n"

PROGRAM = """
import logging
import sys

from {adapter} import RelayClient

LEVEL = sys.argv[1]
if LEVEL != "none":
    logging.basicConfig(level=getattr(logging, LEVEL), format="%(name)s %(levelname)s %(message)s")
options = dict(url=sys.argv[2], contexts=["office"], reconnect_min_delay=0.02,
               reconnect_max_delay=0.1)
if sys.argv[3] != "-":
    options.update(project=sys.argv[3], token=sys.argv[4])
client = RelayClient(**options)


@client.on_call
async def handle(call):
    await call.answer()
    await (await call.play([{{"type": "tts", "text": "Hello"}}])).wait()
    await call.hangup()


client.run()
print("run() returned", flush=True)
"""


class Program:
    """The tiny program, running; its stderr collected line by line."""

    def __init__(self, adapter: str, tmp_path: Path) -> None:
        self.path = tmp_path / "program.py"
        self.path.write_text(textwrap.dedent(PROGRAM.format(adapter=adapter)))
        self.stderr = ""
        self.stdout = ""
        self.returncode: int | None = None
        self._changed = anyio.Event()

    async def run(
        self, args: list[str], env: dict[str, str], *, task_status: Any = anyio.TASK_STATUS_IGNORED
    ) -> None:
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        process = await anyio.open_process(
            [sys.executable, str(self.path), *args],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.process = process
        task_status.started()
        assert process.stderr is not None
        assert process.stdout is not None
        try:
            async for chunk in process.stderr:
                self.stderr += chunk.decode(errors="replace")
                self._changed.set()
                self._changed = anyio.Event()
            async for chunk in process.stdout:
                self.stdout += chunk.decode(errors="replace")
            self.returncode = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                with anyio.CancelScope(shield=True):
                    await process.wait()
            self._changed.set()

    async def wait_for(self, text: str, count: int = 1, limit: float = 20.0) -> None:
        with anyio.fail_after(limit):
            while self.stderr.count(text) < count:
                if self.returncode is not None:
                    raise AssertionError(
                        f"exited {self.returncode} before {text!r}:\n{self.stderr}"
                    )
                await self._changed.wait()


async def run_to_exit(
    adapter: str, tmp_path: Path, args: list[str], env: dict[str, str] | None = None
) -> Program:
    program = Program(adapter, tmp_path)
    with anyio.fail_after(40):
        await program.run(args, env or {})
    return program


def assert_no_part_of(secret: str, text: str) -> None:
    for start in range(len(secret) - 4):
        assert secret[start : start + 5] not in text, f"part of the token in:\n{text}"


@pytest.mark.parametrize("logging_level", ["none", "DEBUG"])
async def test_a_rejected_login_ends_with_one_line_and_status_1(
    adapter_spec: Any, tmp_path: Path, logging_level: str
) -> None:
    async with emulator() as emu:
        program = await run_to_exit(
            adapter_spec.adapter,
            tmp_path,
            [logging_level, emu.url, "your-project-id", WRONG_TOKEN],
        )
    err = program.stderr
    assert program.returncode == 1, err
    assert "run() returned" not in program.stdout
    assert_no_part_of(WRONG_TOKEN, err)
    (line,) = [x for x in err.splitlines() if "authentication failed at" in x]
    assert f"authentication failed at {emu.url} for project 'your-project-id'" in line
    assert "(from project=, token=)" in line
    assert "win over the SIGNALWIRE_* variables" in line
    assert "SIGNALWIRE_PROJECT_ID/SIGNALWIRE_API_TOKEN changes nothing" in line
    if logging_level == "none":
        # Logging never configured: the line is the last thing printed, with no traceback.
        assert err.splitlines()[-1] == line
        assert "Traceback" not in err
    else:
        assert line.startswith("relaykit.client ERROR authentication failed at")
        # The traceback is kept for DEBUG, above the final line.
        assert "Traceback" in err
        assert "AuthenticationFailed" in err
        assert err.index("Traceback") < err.index(line)


async def test_credentials_from_the_environment_are_named(
    adapter_spec: Any, tmp_path: Path
) -> None:
    env = {"SIGNALWIRE_PROJECT_ID": "p-from-env", "SIGNALWIRE_API_TOKEN": WRONG_TOKEN}
    async with emulator() as emu:
        program = await run_to_exit(adapter_spec.adapter, tmp_path, ["none", emu.url, "-"], env)
    assert program.returncode == 1, program.stderr
    assert_no_part_of(WRONG_TOKEN, program.stderr)
    last = program.stderr.splitlines()[-1]
    assert last.startswith(f"authentication failed at {emu.url} for project 'p-from-env'")
    assert "(from SIGNALWIRE_PROJECT_ID, SIGNALWIRE_API_TOKEN)" in last
    assert "check SIGNALWIRE_PROJECT_ID/SIGNALWIRE_API_TOKEN" in last


async def test_an_untrusted_certificate_ends_with_one_line_and_status_1(
    adapter_spec: Any, tmp_path: Path
) -> None:
    cert = trustme.CA().issue_cert("127.0.0.1")
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    cert.private_key_pem.write_to_path(str(key))
    async with emulator(tls_cert=str(chain), tls_key=str(key)) as emu:
        assert emu.url.startswith("wss://")
        program = await run_to_exit(
            adapter_spec.adapter, tmp_path, ["none", emu.url, PROJECT, TOKEN]
        )
    err = program.stderr
    assert program.returncode == 1, err
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith(f"client.run() stopped at {emu.url} (project {PROJECT!r}): ")
    assert "could not verify the TLS certificate" in last
    assert "SIGNALWIRE_RELAY_CA_FILE" in last
    assert err.count("could not verify the TLS certificate") == 1  # said once, at the end
    assert TOKEN not in err


async def test_connected_and_reconnected_lines_and_a_recording(
    adapter_spec: Any, tmp_path: Path
) -> None:
    journal = tmp_path / "session.jsonl"
    program = Program(adapter_spec.adapter, tmp_path)
    waiting = "waiting for calls on contexts ['office']"
    async with emulator() as emu, anyio.create_task_group() as group:
        await group.start(
            program.run,
            ["INFO", emu.url, PROJECT, TOKEN],
            {"RELAYKIT_RECORD": str(journal)},
        )
        await program.wait_for(f"relaykit.client INFO connected to {emu.url}; {waiting}")
        await emu.wait_for_subscriber("office", timeout=10)
        call = await emu.place_call(context="office", script=Caller())
        record = await call.wait_ended(timeout=20)
        await emu.ping_clients()
        await emu.drop_connections()
        await program.wait_for(f"INFO reconnected to {emu.url} (session resumed, ")
        await emu.server_disconnect(restart=True)
        await program.wait_for(f"INFO reconnected to {emu.url} (fresh session: ")
        await emu.wait_for_subscriber("office", timeout=10)
        states = [
            e.event_params["authorization_state"]
            for e in emu.journal("signalwire.authorization.state", direction="out")
        ]
        program.process.send_signal(signal.SIGINT)
    assert program.returncode == 0, program.stderr
    assert "run() returned" in program.stdout
    assert record.prompts == ["Hello"]
    err = program.stderr
    assert err.count("INFO connected to ") == 1
    assert err.count(f"; {waiting}") == 3  # the connect and both reconnects
    assert "INFO recording the session's frames to" in err
    text = journal.read_text(encoding="utf-8")
    for secret in (TOKEN, *states):
        assert secret not in text
    assert TOKEN not in err
    entries = load_journal(journal)
    connects = [
        e.conn_id for e in entries if e.method == "signalwire.connect" and e.kind == "request"
    ]
    assert connects == [1, 2, 3]
    assert sorted({e.conn_id for e in entries}) == [1, 2, 3]


def test_the_line_goes_to_stderr_when_logging_goes_elsewhere(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Under pytest, logging goes to caplog's handler (not stderr): the line is printed too."""
    import relay_anyio
    from relay_proto import AuthenticationFailed

    client = relay_anyio.RelayClient(project="p-1", token=WRONG_TOKEN, url="ws://127.0.0.1:9")
    error = AuthenticationFailed(-32002, f"rejected {WRONG_TOKEN}")
    with pytest.raises(SystemExit) as info:
        client._exit_on_fatal_error(error)
    assert info.value.code == 1
    assert info.value.__cause__ is error
    err = capsys.readouterr().err
    (line,) = err.splitlines()
    assert line.startswith("authentication failed at ws://127.0.0.1:9 for project 'p-1'")
    assert "rejected ***" in line  # a server that echoes the token is scrubbed too
    assert_no_part_of(WRONG_TOKEN, err)
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == [line]
    assert errors[0].name == "relaykit.client"
