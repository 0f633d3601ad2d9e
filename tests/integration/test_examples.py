"""Every program in examples/ runs against the emulator, as a user would run it.

Each client example runs in a subprocess exactly as a user would run it, pointed at
the emulator with ``SIGNALWIRE_RELAY_URL``.  An explicit ``host=`` always wins
over the environment, so the placeholder ``host="your-space.signalwire.com"``
is taken out of the copy that runs.  Examples that hard-code ``project="your-project-id"`` get an
emulator that accepts those placeholder credentials.  Servers started with
``client.run()`` are stopped with Ctrl+C (SIGINT) or SIGTERM and must exit 0.
The seed programs are the seed docs' programs, unchanged but for the import.

For the relay_trio adapter the import line is switched to ``relay_trio``;
examples that call ``asyncio.run`` are asyncio programs and run on relay_anyio only.
The client is the child process, so the cases are one per adapter module
(``CHILD_PROCESS``), over loopback and in real time.
``core_blocking.py`` (the sans-IO core on a blocking socket), ``emulator_sansio.py``
(client and emulator cores in memory) and ``test_my_ivr.py`` (a user's pytest file)
need no adapter and run once.  ``TESTED_EXAMPLES`` maps
every file under examples/ to the test that runs it; test_docs.py checks it."""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from relaykit.emulator import Emulator

from ..adapters import test_embedding_examples as embedding_tests
from ..telemetry import test_health_example as health_example_tests
from . import test_recorded_call_example as recorded_call_tests
from . import test_workers as workers_tests
from .conftest import CHILD_PROCESS, PROJECT, TOKEN, caller, emulator

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60), CHILD_PROCESS]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# shared/ sits beside the checkout (CI clones the repo with shared/ next to it).
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
PLACEHOLDER = {"project": "your-project-id", "token": "your-api-token"}


class Example:
    """One example program running in a subprocess."""

    def __init__(
        self,
        name: str,
        adapter_spec: tuple[str, ...],
        tmp_path: Path,
        source_dir: Path = EXAMPLES,
    ) -> None:
        source = (source_dir / name).read_text()
        if adapter_spec[0] == "relay_trio" and ("asyncio.run(" in source or "anyio.run(" in source):
            pytest.skip("starts its own asyncio loop: a relay_anyio program")
        if adapter_spec[0] == "relay_trio":
            source = source.replace("from relay_anyio import", "from relay_trio import")
        # The placeholder space: an explicit host= is never replaced by the environment.
        source = re.sub(r'\bhost="your-space\.signalwire\.com",\s*', "", source)
        self.path = tmp_path / name
        self.path.write_text(source)
        self.process: anyio.abc.Process | None = None
        self.output = ""

    async def start(self, emu: Emulator) -> None:
        env = dict(os.environ)
        env.update(
            SIGNALWIRE_RELAY_URL=emu.url,
            SIGNALWIRE_PROJECT_ID=PROJECT,
            SIGNALWIRE_API_TOKEN=TOKEN,
            PYTHONUNBUFFERED="1",
        )
        self.process = await anyio.open_process(
            [sys.executable, str(self.path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    async def finish(
        self, stop: signal.Signals | None = None, limit: float = 20.0, expect: int = 0
    ) -> str:
        """Optionally signal the program, wait for it, return its output.

        The program must exit with status *expect*.
        """
        process = self.process
        assert process is not None
        assert process.stdout is not None
        if stop is not None:
            process.send_signal(stop)
        chunks: list[bytes] = []
        with anyio.fail_after(limit):
            async for chunk in process.stdout:
                chunks.append(chunk)
            code = await process.wait()
        self.output = b"".join(chunks).decode(errors="replace")
        assert code == expect, f"{self.path.name} exited {code}:\n{self.output}"
        return self.output

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            with anyio.CancelScope(shield=True):
                await self.process.wait()

    @asynccontextmanager
    async def running(self, emu: Emulator) -> AsyncIterator[Example]:
        """The program started against *emu*, and killed on the way out if it still runs."""
        await self.start(emu)
        try:
            yield self
        finally:
            await self.kill()


@pytest.fixture
def run_example(
    adapter_spec: tuple[str, ...], tmp_path: Path
) -> Callable[[str, Emulator], AbstractAsyncContextManager[Example]]:
    """``async with run_example(name, emu) as example``: examples/*name* running against *emu*."""
    return lambda name, emu: Example(name, adapter_spec, tmp_path).running(emu)


async def wait_connected(emu: Emulator, call_id: str) -> dict[str, Any]:
    """Wait for the final ``calling.call.connect`` event (connected/failed) of *call_id*."""
    count = 1
    while True:
        entries = await emu.wait_for_journal(
            "calling.call.connect", count=count, direction="out", timeout=10
        )
        for entry in entries:
            params = entry.event_params
            if params.get("call_id") == call_id and params.get("connect_state") in (
                "connected",
                "failed",
            ):
                return params
        count = len(entries) + 1


async def test_relay_hello(adapter: Any, run_example: Any) -> None:
    async with emulator(**PLACEHOLDER) as emu, run_example("relay_hello.py", emu) as example:
        call = await emu.place_call(context="default", script=caller(), wait_subscriber=15)
        record = await call.wait_ended(timeout=10)
        await example.finish(signal.SIGINT)
    assert record.prompts == ["Hello from RELAY!"]
    assert record.end_reason == "hangup"
    assert record.hung_up_by == "app"


async def test_relay_inbound(adapter: Any, run_example: Any) -> None:
    async with emulator() as emu, run_example("relay_inbound.py", emu) as example:
        sales = await emu.place_call(context="ivr", script=caller().press("1"), wait_subscriber=15)
        connect = await wait_connected(emu, sales.call_id)
        other = await emu.place_call(context="ivr", script=caller().press("9"))
        record = await other.wait_ended(timeout=10)
        output = await example.finish(signal.SIGTERM)
    # "1": connect() with a phone device that has no from_number (the emulator fills it in).
    assert connect["connect_state"] == "connected", connect
    (request,) = [e.data for e in emu.journal("calling.connect", "in") if e.kind == "request"]
    assert request["call_id"] == sales.call_id
    assert request["devices"] == [[{"type": "phone", "params": {"to_number": "+15551001000"}}]]
    assert sales.record.connected_to == "+15551001000"
    assert sales.record.inputs[0]["digits"] == "1"
    # Anything else: the goodbye prompt and a hangup by the application.
    assert record.prompts == ["Press 1 for sales, 2 for support.", "Invalid selection. Goodbye."]
    assert record.inputs[0]["digits"] == "9"
    assert record.hung_up_by == "app"
    assert output.count("Inbound call from") == 2


async def test_relay_outbound(adapter: Any, run_example: Any) -> None:
    async with emulator() as emu:
        emu.configure_number("+15559876543", "answer", answer_after=2.0)
        async with run_example("relay_outbound.py", emu) as example:
            output = await example.finish()
        (leg,) = [c.record for c in emu.calls if c.record.to_number == "+15559876543"]
    assert re.search(r"Call answered: \S+", output)
    assert leg.prompts == ["This is an automated message from SignalWire."]
    assert leg.end_reason == "hangup"


async def test_relay_ivr(adapter: Any, run_example: Any) -> None:
    async with emulator() as emu, run_example("relay_ivr.py", emu) as example:
        sales = await emu.place_call(
            context="main-ivr", script=caller().press("1"), wait_subscriber=15
        )
        message = await emu.place_call(
            context="main-ivr", script=caller().press("3").say("Call me back")
        )
        silent = await emu.place_call(context="main-ivr", script=caller().silence())
        records = [await c.wait_ended(timeout=10) for c in (sales, message, silent)]
        await example.finish(signal.SIGINT)
    sales_rec, message_rec, silent_rec = records
    # The seed program hangs up right after connect() is accepted, so whether the
    # bridge completed first is a race; the request itself is what it controls.
    assert "calling.connect" in sales_rec.methods
    (connect,) = [e.data for e in emu.journal("calling.connect", "in") if e.kind == "request"]
    assert connect["call_id"] == sales_rec.call_id
    assert connect["devices"][0][0]["params"]["to_number"] == "+15551001000"
    assert "Connecting you to sales." in sales_rec.prompts
    assert "Please leave your message after the beep." in message_rec.prompts
    assert message_rec.recordings, "\n".join(message_rec.transcript)  # the voicemail
    assert "Invalid option. Goodbye." in silent_rec.prompts
    for record in records:
        assert record.end_reason == "hangup"


async def test_relay_sms(adapter: Any, run_example: Any) -> None:
    async with emulator() as emu, run_example("relay_sms.py", emu) as example:
        output = await example.finish()
    assert "Message ID:" in output
    assert "Final state: delivered" in output


async def test_relay_contexts(adapter: Any, run_example: Any) -> None:
    async with emulator(**PLACEHOLDER) as emu, run_example("relay_contexts.py", emu) as example:
        call = await emu.place_call(
            context="sales", script=caller().hangup_after(1.0), wait_subscriber=15
        )
        record = await call.wait_ended(timeout=10)
        await example.finish(signal.SIGINT)
    assert record.answered
    assert record.hung_up_by == "remote"


async def test_relay_menu(adapter: Any, run_example: Any) -> None:
    async with emulator(**PLACEHOLDER) as emu, run_example("relay_menu.py", emu) as example:
        sales = await emu.place_call(
            context="default", script=caller().press("1"), wait_subscriber=15
        )
        other = await emu.place_call(context="default", script=caller().press("9"))
        sales_rec = await sales.wait_state("ended", timeout=10)
        other_rec = await other.wait_ended(timeout=10)
        await example.finish(signal.SIGINT)
    assert sales_rec.transferred_to == "+15551234567"
    assert "Goodbye." in other_rec.prompts
    assert other_rec.end_reason == "hangup"


async def test_relay_tour(adapter: Any, run_example: Any) -> None:
    async with emulator() as emu:
        emu.configure_number("+15551001000", "answer", answer_after=1.0)
        async with run_example("relay_tour.py", emu) as example:
            script = caller().press("1234#").say("Great service, thanks")
            call = await emu.place_call(context="tour", script=script, wait_subscriber=15)
            record = await call.wait_ended(timeout=10)
            output = await example.finish(signal.SIGINT)
    assert "state: answered" in output
    assert "detected: HUMAN" in output
    assert "account: 1234" in output
    assert re.search(r"feedback: https://\S+ \(\d+\.\d s\)", output), output
    assert "connect: connected" in output
    assert record.end_reason == "hangup"


async def test_relay_drain(adapter: Any, run_example: Any) -> None:
    async with emulator() as emu, run_example("relay_drain.py", emu) as example:
        call = await emu.place_call(context="office", script=caller(), wait_subscriber=15)
        await call.wait_state("answered", timeout=10)
        output = await example.finish(signal.SIGTERM)
        record = call.record
    assert "drained: True" in output
    assert record.prompts == ["Thanks for calling. Goodbye."]
    assert record.end_reason == "hangup"


async def test_readme_ivr(adapter: Any, run_example: Any) -> None:
    async with emulator() as emu, run_example("readme_ivr.py", emu) as example:
        sales = await emu.place_call(
            context="main-ivr", script=caller().press("1"), wait_subscriber=15
        )
        connect = await wait_connected(emu, sales.call_id)
        support = await emu.place_call(context="main-ivr", script=caller().press("2"))
        record = await support.wait_ended(timeout=10)
        await example.finish(signal.SIGINT)
    menu = "Press 1 for sales, 2 for support."
    assert connect["connect_state"] == "connected", connect
    assert sales.record.prompts == [menu]
    assert sales.record.connected_to == "+15551001000"
    assert record.prompts == [menu, "Goodbye."]
    assert record.inputs == [{"type": "digit", "digits": "2", "terminator": ""}]
    assert record.end_reason == "hangup"
    assert record.hung_up_by == "app"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_core_blocking() -> None:
    """The sans-IO core on a plain blocking socket (no adapter): one call, then exit 0."""
    async with emulator() as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
        env.update(
            RELAY_PROJECT=PROJECT,
            RELAY_TOKEN=TOKEN,
            RELAY_CONTEXT="office",
            RELAY_CALLS="1",
            RELAY_SECONDS="30",
            PYTHONUNBUFFERED="1",
        )
        # The emulator's host as the argument, as in docs/core.md.
        record, output = await _one_call_to_a_core_example(
            emu, "core_blocking.py", env=env, from_number="+15557654321"
        )
    assert f"authenticated as {PROJECT}@relay-emulator" in output
    assert f"call {record.call_id} from +15557654321" in output
    assert f"call {record.call_id} ended (hangup)" in output
    assert "handled 1 call(s)" in output
    assert record.prompts == ["Hello from a blocking socket."]
    assert record.methods == ["calling.answer", "calling.play", "calling.end"]
    assert (record.end_reason, record.hung_up_by) == ("hangup", "app")
    (end,) = [e.data for e in emu.journal("calling.end", "in") if e.kind == "request"]
    assert end == {"node_id": end["node_id"], "call_id": record.call_id, "reason": "hangup"}


async def _one_call_to_a_core_example(
    emu: Emulator, name: str, *, env: dict[str, str] | None = None, **call: Any
) -> tuple[Any, str]:
    """Run examples/*name* on ``emu.host`` through one call; its record and the output.

    The program must exit 0 once it has handled the call (placed with *call*'s options).
    """
    async with await anyio.open_process(
        [sys.executable, str(EXAMPLES / name), emu.host],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as process:
        try:
            placed = await emu.place_call(
                context="office", script=caller(), wait_subscriber=15, **call
            )
            record = await placed.wait_ended(timeout=10)
            assert process.stdout is not None
            with anyio.fail_after(20):
                chunks = [chunk async for chunk in process.stdout]
                code = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
    output = b"".join(chunks).decode(errors="replace")
    assert code == 0, output
    return record, output


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_my_ivr_runs_under_pytest(tmp_path: Path) -> None:
    """docs/emulator.md's pytest file passes when a user runs pytest on it (fresh dir)."""
    (tmp_path / "test_my_ivr.py").write_text((EXAMPLES / "test_my_ivr.py").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNALWIRE_", "PYTEST_"))}
    with anyio.fail_after(50):
        result = await anyio.run_process(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_ivr.py"],
            cwd=tmp_path,
            env=env,
            check=False,
        )
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, output
    assert "12 passed" in output, output  # 6 tests, on asyncio and on trio


def test_emulator_sansio() -> None:
    """The in-memory client + emulator program: deterministic, so its whole output is known."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "emulator_sansio.py")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "authenticated as p@relay-emulator",
        "call call-000007 on context ivr",
        "collect: digit '1'",
        "prompts: ['Press 1 for sales.']",
        "inputs: [{'type': 'digit', 'digits': '1', 'terminator': ''}]",
        "ended: hangup (hung up by app) at t=1.9 s",
    ]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_core_minimal() -> None:
    """The ~30-line core example of docs/core.md: one call answered, greeted, hung up."""
    async with emulator(project="demo", token="demo") as emu:
        record, output = await _one_call_to_a_core_example(emu, "core_minimal.py")
    assert "call ended: hangup" in output
    assert record.prompts == ["Hello!"]
    assert record.methods == ["calling.answer", "calling.play", "calling.end"]
    assert (record.end_reason, record.hung_up_by) == ("hangup", "app")


#: Every file under examples/ (path relative to it) and the test that runs it against the
#: emulator (checked by test_docs.py).  The embedding examples are run in tests/adapters.
TESTED_EXAMPLES = {
    "readme_ivr.py": test_readme_ivr,
    "relay_hello.py": test_relay_hello,
    "relay_inbound.py": test_relay_inbound,
    "relay_outbound.py": test_relay_outbound,
    "relay_ivr.py": test_relay_ivr,
    "relay_sms.py": test_relay_sms,
    "relay_contexts.py": test_relay_contexts,
    "relay_menu.py": test_relay_menu,
    "relay_tour.py": test_relay_tour,
    "relay_drain.py": test_relay_drain,
    "core_blocking.py": test_core_blocking,
    "core_minimal.py": test_core_minimal,
    "test_my_ivr.py": test_my_ivr_runs_under_pytest,
    "test_recorded_call.py": recorded_call_tests.test_recorded_call_example_runs_under_pytest,
    "emulator_sansio.py": test_emulator_sansio,
    "embedding/selectors_ivr.py": embedding_tests.test_selectors_ivr_answers_and_plays,
    "embedding/send_sms.py": embedding_tests.test_send_sms_delivered,
    "workers/worker.py": workers_tests.test_three_workers_one_restarted_mid_stream,
    "workers/supervisor.py": workers_tests.test_supervisor_rolling_restart,
    "workers/traced_worker.py": workers_tests.test_traced_worker_exports_spans_and_metrics,
    "health_server.py": health_example_tests.test_health_server,
}


# --------------------------------------------------------------------------
# The examples are the seed programs: same syntax tree except the import.
# --------------------------------------------------------------------------

SEED_FILES = {
    "relay_hello.py": ("002", 0),
    "relay_inbound.py": ("002", 1),
    "relay_outbound.py": ("002", 2),
    "relay_ivr.py": ("002", -1),
}


def _python_blocks(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"```python\n(.*?)```", text, flags=re.S)]


def _normalised(source: str) -> str:
    tree = ast.parse(source.replace("from signalwire.relay import", "from relay_anyio import"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "relay_anyio":
            node.names.sort(key=lambda alias: alias.name)
    return ast.dump(tree)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed docs not available")
@pytest.mark.parametrize("name", sorted(SEED_FILES))
def test_examples_are_the_seed_programs(name: str) -> None:
    prefix, index = SEED_FILES[name]
    (seed,) = SEEDS.glob(f"{prefix}_*.txt")
    blocks = [textwrap_dedent(b) for b in _python_blocks(seed.read_text()) if "#!/usr" in b]
    assert _normalised(blocks[index]) == _normalised((EXAMPLES / name).read_text())


def textwrap_dedent(block: str) -> str:
    import textwrap

    return textwrap.dedent(block)
