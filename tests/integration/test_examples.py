"""The seed-doc programs in examples/ run against the emulator, unchanged but for the import.

Each example runs in a subprocess exactly as a user would run it, pointed at
the emulator with ``SIGNALWIRE_RELAY_URL`` (which overrides a hard-coded
``host=``).  Examples that hard-code ``project="your-project-id"`` get an
emulator that accepts those placeholder credentials.  Servers started with
``client.run()`` are stopped with Ctrl+C (SIGINT) or SIGTERM and must exit 0.

For the relay_trio adapter the import line is switched to ``relay_trio``;
examples that call ``asyncio.run`` are asyncio programs and run on relay_anyio only.
"""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from relay_anyio.emulator import Emulator

from .conftest import PROJECT, TOKEN, caller, emulator

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SEEDS = Path("/work/shared/seeds")
PLACEHOLDER = {"project": "your-project-id", "token": "your-api-token"}


class Example:
    """One example program running in a subprocess."""

    def __init__(
        self,
        name: str,
        adapter_spec: tuple[str, str],
        tmp_path: Path,
        source_dir: Path = EXAMPLES,
    ) -> None:
        source = (source_dir / name).read_text()
        if adapter_spec[0] == "relay_trio" and ("asyncio.run(" in source or "anyio.run(" in source):
            pytest.skip("starts its own asyncio loop: a relay_anyio program")
        if adapter_spec[0] == "relay_trio":
            source = source.replace("from relay_anyio import", "from relay_trio import")
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


@pytest.fixture
def run_example(adapter_spec: tuple[str, str], tmp_path: Path) -> Any:
    created: list[Example] = []

    def factory(name: str) -> Example:
        example = Example(name, adapter_spec, tmp_path)
        created.append(example)
        return example

    return factory


async def test_relay_hello(adapter: Any, run_example: Any) -> None:
    example = run_example("relay_hello.py")
    async with emulator(**PLACEHOLDER) as emu:
        await example.start(emu)
        try:
            call = await emu.place_call(context="default", script=caller(), wait_subscriber=15)
            record = await call.wait_ended(timeout=10)
            await example.finish(signal.SIGINT)
        finally:
            await example.kill()
    assert record.prompts == ["Hello from RELAY!"]
    assert record.end_reason == "hangup"
    assert record.hung_up_by == "app"


async def test_relay_inbound(adapter: Any, run_example: Any) -> None:
    example = run_example("relay_inbound.py")
    async with emulator() as emu:
        await example.start(emu)
        try:
            call = await emu.place_call(
                context="ivr", script=caller().press("9"), wait_subscriber=15
            )
            record = await call.wait_ended(timeout=10)
            output = await example.finish(signal.SIGTERM)
        finally:
            await example.kill()
    assert record.prompts == ["Press 1 for sales, 2 for support.", "Invalid selection. Goodbye."]
    assert record.inputs[0]["digits"] == "9"
    assert "Inbound call from" in output


async def test_relay_outbound(adapter: Any, run_example: Any) -> None:
    example = run_example("relay_outbound.py")
    async with emulator() as emu:
        emu.configure_number("+15559876543", "answer", answer_after=2.0)
        await example.start(emu)
        try:
            output = await example.finish()
        finally:
            await example.kill()
        (leg,) = [c.record for c in emu.calls if c.record.to_number == "+15559876543"]
    assert re.search(r"Call answered: \S+", output)
    assert leg.prompts == ["This is an automated message from SignalWire."]
    assert leg.end_reason == "hangup"


async def test_relay_ivr(adapter: Any, run_example: Any) -> None:
    example = run_example("relay_ivr.py")
    async with emulator() as emu:
        await example.start(emu)
        try:
            sales = await emu.place_call(
                context="main-ivr", script=caller().press("1"), wait_subscriber=15
            )
            message = await emu.place_call(
                context="main-ivr", script=caller().press("3").say("Call me back")
            )
            silent = await emu.place_call(context="main-ivr", script=caller().silence())
            records = [await c.wait_ended(timeout=10) for c in (sales, message, silent)]
            await example.finish(signal.SIGINT)
        finally:
            await example.kill()
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
    example = run_example("relay_sms.py")
    async with emulator() as emu:
        await example.start(emu)
        try:
            output = await example.finish()
        finally:
            await example.kill()
    assert "Message ID:" in output
    assert "Final state: delivered" in output


async def test_relay_contexts(adapter: Any, run_example: Any) -> None:
    example = run_example("relay_contexts.py")
    async with emulator(**PLACEHOLDER) as emu:
        await example.start(emu)
        try:
            call = await emu.place_call(
                context="sales", script=caller().hangup_after(1.0), wait_subscriber=15
            )
            record = await call.wait_ended(timeout=10)
            await example.finish(signal.SIGINT)
        finally:
            await example.kill()
    assert record.answered
    assert record.hung_up_by == "remote"


async def test_relay_menu(adapter: Any, run_example: Any) -> None:
    example = run_example("relay_menu.py")
    async with emulator(**PLACEHOLDER) as emu:
        await example.start(emu)
        try:
            sales = await emu.place_call(
                context="default", script=caller().press("1"), wait_subscriber=15
            )
            other = await emu.place_call(context="default", script=caller().press("9"))
            sales_rec = await sales.wait_state("ended", timeout=10)
            other_rec = await other.wait_ended(timeout=10)
            await example.finish(signal.SIGINT)
        finally:
            await example.kill()
    assert sales_rec.transferred_to == "+15551234567"
    assert "Goodbye." in other_rec.prompts
    assert other_rec.end_reason == "hangup"


async def test_relay_tour(adapter: Any, run_example: Any) -> None:
    example = run_example("relay_tour.py")
    async with emulator() as emu:
        emu.configure_number("+15551001000", "answer", answer_after=1.0)
        await example.start(emu)
        try:
            script = caller().press("1234#").say("Great service, thanks")
            call = await emu.place_call(context="tour", script=script, wait_subscriber=15)
            record = await call.wait_ended(timeout=10)
            output = await example.finish(signal.SIGINT)
        finally:
            await example.kill()
    assert "state: answered" in output
    assert "detected: HUMAN" in output
    assert "account: 1234" in output
    assert re.search(r"feedback: https://\S+ \(\d+\.\d s\)", output), output
    assert "connect: connected" in output
    assert record.end_reason == "hangup"


async def test_relay_drain(adapter: Any, run_example: Any) -> None:
    example = run_example("relay_drain.py")
    async with emulator() as emu:
        await example.start(emu)
        try:
            call = await emu.place_call(context="office", script=caller(), wait_subscriber=15)
            await call.wait_state("answered", timeout=10)
            output = await example.finish(signal.SIGTERM)
            record = call.record
        finally:
            await example.kill()
    assert "drained: True" in output
    assert record.prompts == ["Thanks for calling. Goodbye."]
    assert record.end_reason == "hangup"


#: Every example file and the test above that runs it (checked by test_docs.py).
TESTED_EXAMPLES = {
    "relay_hello.py": test_relay_hello,
    "relay_inbound.py": test_relay_inbound,
    "relay_outbound.py": test_relay_outbound,
    "relay_ivr.py": test_relay_ivr,
    "relay_sms.py": test_relay_sms,
    "relay_contexts.py": test_relay_contexts,
    "relay_menu.py": test_relay_menu,
    "relay_tour.py": test_relay_tour,
    "relay_drain.py": test_relay_drain,
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
