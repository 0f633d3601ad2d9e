"""Many workers on one context: examples/workers/ against one emulator on loopback.

Three worker processes (``examples/workers/worker.py``, each with its own
connection) receive the same context while the test places a steady stream of
scripted calls, a few in flight at a time.  One worker gets SIGTERM mid-stream
and is replaced: no call is lost, none is handled twice, the calls it had
finish on it, and the calls placed while it drains go to the others.  The
supervisor's rolling restart (SIGHUP) is checked the same way.  In-process
clients check the routing rules the emulator applies to a worker that passes
a call back (what a worker at capacity or draining does).

Everything waits on observable events -- lines the workers print, the
emulator's journal and call records -- never on elapsed time.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest

from relaykit.emulator import Caller, CallRecord, Emulator

from .conftest import CHILD_PROCESS, PROJECT, TOKEN, emulator, make_client

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

ROOT = Path(__file__).resolve().parents[2]
WORKERS = ROOT / "examples" / "workers"
CONTEXT = "support"
MENU = "Press 1 for our opening hours, 2 to hold for an agent."
HOURS = "We are open from nine to five. Goodbye."
HOLD = "All our agents are busy. Please hold."
HANDLED = re.compile(r"handled (\S+) pid=(\d+)")
FINISHED = re.compile(r"finished (\S+) pid=(\d+)")
READY = "relaykit.client INFO connected to "
DRAINING = "relaykit.client INFO received SIGTERM: shutting down"
# Simulated seconds a holding caller stays on the line (x0.001: real seconds).
LONG_HOLD = 2000.0
SHORT_HOLD = 200.0


def quick() -> Caller:
    """Presses 1: hears the opening hours; the worker hangs up."""
    return Caller().press("1")


def holding(seconds: float) -> Caller:
    """Presses 2 and holds until it hangs up *seconds* (simulated) after the answer."""
    return Caller().press("2").hangup_after(seconds)


def ended_as_scripted(record: CallRecord, script: Caller) -> bool:
    if script.hangup_seconds is None:
        return (
            record.prompts == [MENU, HOURS]
            and record.end_reason == "hangup"
            and record.hung_up_by == "app"
        )
    return (
        record.prompts == [MENU, HOLD]
        and record.end_reason == "hangup"
        and record.hung_up_by == "remote"
    )


def child_env(emu: Emulator) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SIGNALWIRE_RELAY_URL=emu.url,
        SIGNALWIRE_PROJECT_ID=PROJECT,
        SIGNALWIRE_API_TOKEN=TOKEN,
        WORKER_CONTEXTS=CONTEXT,
        WORKER_SHUTDOWN_GRACE="20",
        PYTHONUNBUFFERED="1",
    )
    return env


class Child:
    """A child process whose output lines are collected as they come."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self.process: anyio.abc.Process | None = None
        self.returncode: int | None = None
        self._changed = anyio.Event()
        self._closed = False

    async def run(
        self, argv: list[str], env: dict[str, str], *, task_status: Any = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Start the process, then read its output until it exits (a task)."""
        self.process = process = await anyio.open_process(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        task_status.started()
        assert process.stdout is not None
        buffer = b""
        try:
            async for chunk in process.stdout:
                buffer += chunk
                *complete, buffer = buffer.split(b"\n")
                self.lines.extend(line.decode(errors="replace") for line in complete)
                self._notify()
            self.returncode = await process.wait()
        finally:
            with anyio.CancelScope(shield=True):
                if process.returncode is None:
                    process.kill()
                    await process.wait()
                await process.aclose()
            if buffer:
                self.lines.append(buffer.decode(errors="replace"))
            self._closed = True
            self._notify()

    def changed(self) -> anyio.Event:
        """Set at the next output line (or exit)."""
        return self._changed

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until *predicate* holds (checked after each output line, and at exit)."""
        try:
            with anyio.fail_after(timeout):
                while not predicate():
                    if self._closed:
                        raise AssertionError(f"{self.name} exited before {what}:\n{self.output}")
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"{self.name}: no {what} in {timeout} s:\n{self.output}") from None

    async def wait_line(self, text: str, timeout: float = 30.0) -> str:  # noqa: ASYNC109
        """The first output line containing *text* (waiting for it)."""
        await self.wait_for(lambda: any(text in line for line in self.lines), repr(text), timeout)
        return next(line for line in self.lines if text in line)

    async def wait_exit(self, timeout: float = 40.0) -> int:  # noqa: ASYNC109
        await self.wait_for(lambda: self._closed, "exit", timeout)
        assert self.returncode is not None, self.output
        return self.returncode

    def signal(self, signum: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    def handled(self) -> dict[str, int]:
        """call id -> pid of every "handled" line."""
        return {m[1]: int(m[2]) for line in self.lines if (m := HANDLED.search(line))}

    def finished(self) -> dict[str, int]:
        return {m[1]: int(m[2]) for line in self.lines if (m := FINISHED.search(line))}


def worker_program(adapter: str, tmp_path: Path) -> Path:
    """worker.py, with its import switched for the relay_trio case."""
    source = (WORKERS / "worker.py").read_text()
    if adapter == "relay_trio":
        source = source.replace("from relay_anyio import", "from relay_trio import")
    path = tmp_path / f"worker_{adapter}.py"
    path.write_text(source)
    return path


class Stream:
    """Places scripted calls, at most *in_flight* at a time, and keeps every outcome."""

    def __init__(self, emu: Emulator, tg: anyio.abc.TaskGroup, in_flight: int) -> None:
        self.emu = emu
        self.tg = tg
        self.slots = anyio.Semaphore(in_flight)
        self.placed: list[tuple[str, Caller, str]] = []  # (call id, script, phase)
        self.records: dict[str, CallRecord] = {}
        self.phase = "start"
        self.lost_to_drain_race: list[str] = []
        self._ended = anyio.Event()

    async def place(self, script: Caller) -> str:
        """Place one call once a slot is free; returns its id (its end is awaited apart)."""
        await self.slots.acquire()
        try:
            call = await self.emu.place_call(context=CONTEXT, script=script, wait_subscriber=15)
        except BaseException:
            self.slots.release()
            raise
        # Routed synchronously by place_call: the phase is the one it was routed in.
        self.placed.append((call.call_id, script, self.phase))

        async def finish() -> None:
            try:
                self.records[call.call_id] = await call.wait_ended(timeout=40)
            finally:
                self.slots.release()
                self._ended.set()
                self._ended = anyio.Event()

        self.tg.start_soon(finish)
        return call.call_id

    async def place_many(self, count: int) -> None:
        for i in range(count):
            await self.place(quick() if i % 3 else holding(SHORT_HOLD))

    async def settle(self) -> None:
        """Wait until every placed call has ended."""
        with anyio.fail_after(40):
            while len(self.records) < len(self.placed):
                await self._ended.wait()

    def check_outcomes(self, outputs: list[Child]) -> dict[str, int]:
        """No call lost (each ended as scripted), none handled twice; call id -> pid.

        Calls lost to the known drain race (see :func:`xfail_if_lost_to_drain_race`)
        are left out here and reported by that function at the end of the test.
        """
        text = "\n".join(child.output for child in outputs)
        self.lost_to_drain_race = [
            call_id
            for call_id, script, _ in self.placed
            if not ended_as_scripted(self.records[call_id], script)
            and not self.records[call_id].answered
            and f"pass of call {call_id} raised" in text
        ]
        for call_id, script, _ in self.placed:
            if call_id not in self.lost_to_drain_race:
                record = self.records[call_id]
                assert ended_as_scripted(record, script), (call_id, record)
        handled: dict[str, int] = {}
        for child in outputs:
            for call_id, pid in child.handled().items():
                assert call_id not in handled, f"{call_id} handled twice"
                handled[call_id] = pid
            for call_id, pid in child.handled().items():
                assert child.finished().get(call_id) == pid, f"{call_id} not finished on {pid}"
        placed = {call_id for call_id, _, _ in self.placed}
        assert set(handled) == placed - set(self.lost_to_drain_race)
        return handled

    def xfail_if_lost_to_drain_race(self) -> None:
        """A known client bug, reported rather than hidden (call this last).

        A call offered to a worker just as it starts draining is passed back with
        a ``calling.pass`` that ``drain()`` does not wait for: ``run()`` then
        disconnects, the pass fails with ``ConnectionLostError`` ("pass of call
        ... raised" in the worker's log), and the call is never offered again (it
        rings until the caller gives up).  Every other check has passed by now.
        """
        if self.lost_to_drain_race:
            pytest.xfail(
                "client bug: drain() returned before its calling.pass went out; lost "
                + ", ".join(self.lost_to_drain_race)
            )


async def start_child(
    tg: anyio.abc.TaskGroup, child: Child, argv: list[str], env: dict[str, str]
) -> Child:
    await tg.start(child.run, argv, env)
    return child


@CHILD_PROCESS
async def test_three_workers_one_restarted_mid_stream(
    adapter_spec: tuple[str, ...], tmp_path: Path
) -> None:
    program = worker_program(adapter_spec[0], tmp_path)
    argv = [sys.executable, str(program)]
    children: list[Child] = []
    async with emulator() as emu:
        env = child_env(emu)
        async with anyio.create_task_group() as tg:
            try:
                for n in range(3):
                    children.append(await start_child(tg, Child(f"worker {n}"), argv, env))
                for child in children:
                    await child.wait_line(READY)
                stream = Stream(emu, tg, in_flight=4)

                # 1. All three serving.
                stream.phase = "all"
                await stream.place_many(9)
                long_id = await stream.place(holding(LONG_HOLD))
                victim = await _handler_of(children, long_id)

                # 2. SIGTERM the worker that has the long call; calls keep coming.
                victim.signal(signal.SIGTERM)
                stream.phase = "signalled"
                await stream.place_many(2)
                await victim.wait_line(DRAINING)
                await emu.wait_for_journal("signalwire.unreceive", direction="in", timeout=20)
                stream.phase = "draining"  # unsubscribed: routed to the other two
                await stream.place_many(6)
                assert await victim.wait_exit() == 0, victim.output

                # 3. Its replacement connects; the stream goes on over three again.
                stream.phase = "replacing"
                replacement = await start_child(tg, Child("replacement"), argv, env)
                children.append(replacement)
                await stream.place_many(3)
                await replacement.wait_line(READY)
                stream.phase = "replaced"
                await stream.place_many(9)
                await stream.settle()
                # 4. Stop the rest the same way: each drains (its last lines come out) and exits 0.
                for child in children:
                    if child is not victim:
                        child.signal(signal.SIGTERM)
                for child in children:
                    assert await child.wait_exit() == 0, child.output
            finally:
                for child in children:
                    child.kill()
                tg.cancel_scope.cancel()

    handled = stream.check_outcomes(children)
    assert len(stream.placed) == 30
    # The long call was in progress on the victim when it started draining, and ended there.
    lines = victim.lines
    drain_at = next(i for i, line in enumerate(lines) if DRAINING in line)
    assert any(f"handled {long_id} " in line for line in lines[:drain_at]), victim.output
    assert any(f"finished {long_id} " in line for line in lines[drain_at:]), victim.output
    # From the moment it unsubscribed until its replacement was up: the others only.
    others = {child.pid for child in children[:3] if child is not victim}
    draining = [handled[cid] for cid, _, phase in stream.placed if phase == "draining"]
    assert len(draining) == 6
    assert set(draining) <= others
    replacing = [handled[cid] for cid, _, phase in stream.placed if phase == "replacing"]
    assert set(replacing) <= others | {replacement.pid}
    # Round robin over three subscribers again: the replacement takes its share.
    replaced = [cid for cid, _, phase in stream.placed if phase == "replaced"]
    assert sum(handled[cid] == replacement.pid for cid in replaced) >= 3
    assert len(set(handled.values())) == 4
    stream.xfail_if_lost_to_drain_race()


async def _handler_of(children: list[Child], call_id: str) -> Child:
    """The worker that prints "handled <call_id>" (waiting for it)."""
    with anyio.fail_after(20):
        while True:
            for child in children:
                if call_id in child.handled():
                    return child
            await _any_output(children)


async def _any_output(children: list[Child]) -> None:
    """Return once any of *children* prints a line (or exits)."""
    async with anyio.create_task_group() as tg:

        async def one(child: Child) -> None:
            await child.changed().wait()
            tg.cancel_scope.cancel()

        for child in children:
            tg.start_soon(one, child)


@pytest.mark.cases("anyio-asyncio-tcp")
async def test_supervisor_rolling_restart(adapter_spec: tuple[str, ...]) -> None:
    argv = [sys.executable, str(WORKERS / "supervisor.py"), "--workers", "3"]
    supervisor = Child("supervisor")

    def ready_lines(slot: int) -> int:
        return sum(
            bool(re.search(rf"supervisor: worker {slot} pid=\d+ ready", line))
            for line in supervisor.lines
        )

    async with emulator() as emu, anyio.create_task_group() as tg:
        try:
            await tg.start(supervisor.run, argv, child_env(emu))
            await supervisor.wait_line("supervisor: 3 workers ready")
            stream = Stream(emu, tg, in_flight=3)
            stream.phase = "before"
            await stream.place_many(6)
            supervisor.signal(signal.SIGHUP)
            stream.phase = "restarting"
            for slot in range(3):
                await supervisor.wait_line(f"restarting worker {slot}:")
                await stream.place_many(3)  # while it drains, then while it is replaced
                await supervisor.wait_for(
                    lambda slot=slot: ready_lines(slot) == 2, f"worker {slot} ready", 30
                )
                await stream.place_many(3)
            await supervisor.wait_line("supervisor: rolling restart done")
            stream.phase = "after"
            await stream.place_many(6)
            await stream.settle()
            supervisor.signal(signal.SIGTERM)
            assert await supervisor.wait_exit() == 0, supervisor.output
        finally:
            _kill_orphans(supervisor)
            supervisor.kill()
            tg.cancel_scope.cancel()

    handled = stream.check_outcomes([supervisor])
    assert len(stream.placed) == 30
    started = [int(m[1]) for m in re.finditer(r"started worker \d pid=(\d+)", supervisor.output)]
    assert len(started) == 6, supervisor.output  # three, then one replacement each
    exits = re.findall(r"worker \d pid=(\d+) exited with status (-?\d+)", supervisor.output)
    assert sorted(int(pid) for pid, _ in exits) == sorted(started)
    assert {status for _, status in exits} == {"0"}, supervisor.output
    # The calls after the restart went to the three replacements only, each its share.
    after = [handled[cid] for cid, _, phase in stream.placed if phase == "after"]
    assert sorted(set(after)) == sorted(started[3:])
    stream.xfail_if_lost_to_drain_race()


def _kill_orphans(supervisor: Child) -> None:
    """After a failure: the workers the supervisor started and did not see exit."""
    output = supervisor.output
    for pid in re.findall(r"started worker \d pid=(\d+)", output):
        if not re.search(rf"pid={pid} exited with status", output):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


# --------------------------------------------------------------------------
# The routing rules, with in-process clients: passing, unsubscribing
# --------------------------------------------------------------------------


async def _serve(
    adapter: Any,
    emu: Emulator,
    handlers: list[Callable[[Any], Awaitable[None]]],
    body: Callable[[list[Any]], Awaitable[None]],
) -> None:
    clients = [make_client(adapter, emu, [CONTEXT]) for _ in handlers]
    for client, handler in zip(clients, handlers, strict=True):
        client.on_call(handler)
    async with contextlib.AsyncExitStack() as stack:
        for client in clients:
            await stack.enter_async_context(client)
        await body(clients)


@pytest.mark.loopback
async def test_a_passed_call_goes_to_another_subscriber_never_back(
    adapter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that passes (at capacity, draining) is skipped for that call."""
    monkeypatch.setenv("RELAY_MAX_CONNECTIONS", "3")
    took: list[tuple[int, str]] = []

    def handler(index: int) -> Callable[[Any], Awaitable[None]]:
        async def handle(call: Any) -> None:
            if index == 0:
                await call.pass_()  # the full worker
                return
            took.append((index, call.call_id))
            await call.answer()
            await call.hangup()

        return handle

    async def body(clients: list[Any]) -> None:
        calls = [await emu.place_call(context=CONTEXT, script=quick()) for _ in range(6)]
        for call in calls:
            record = await call.wait_ended(timeout=10)
            assert record.hung_up_by == "app", record
        assert sorted(cid for _, cid in took) == sorted(c.call_id for c in calls)
        assert {index for index, _ in took} == {1, 2}

    async with emulator() as emu:
        await _serve(adapter, emu, [handler(0), handler(1), handler(2)], body)
    passes = [e for e in emu.journal("calling.pass", "in") if e.kind == "request"]
    assert len(passes) == 2  # round robin offers a third of the calls to the full worker first


async def test_a_call_every_subscriber_passes_ends(
    adapter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offered to each subscriber once; when all pass, the emulator ends it (an assumption)."""
    monkeypatch.setenv("RELAY_MAX_CONNECTIONS", "2")

    async def passing(call: Any) -> None:
        await call.pass_()

    async def body(clients: list[Any]) -> None:
        call = await emu.place_call(context=CONTEXT, script=quick())
        record = await call.wait_ended(timeout=10)
        assert (record.end_reason, record.hung_up_by) == ("error", "emulator")

    async with emulator() as emu:
        await _serve(adapter, emu, [passing, passing], body)
    offers = emu.journal("calling.call.receive", "out")
    assert len(offers) == 2
    assert len({e.conn_id for e in offers}) == 2


async def test_an_unsubscribed_worker_gets_no_calls(
    adapter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What drain() does first: unreceive; round robin then skips that worker."""
    monkeypatch.setenv("RELAY_MAX_CONNECTIONS", "3")
    took: dict[str, int] = {}

    def handler(index: int) -> Callable[[Any], Awaitable[None]]:
        async def handle(call: Any) -> None:
            took[call.call_id] = index
            await call.answer()
            await call.hangup()

        return handle

    async def body(clients: list[Any]) -> None:
        await clients[0].unreceive([CONTEXT])
        calls = [await emu.place_call(context=CONTEXT, script=quick()) for _ in range(6)]
        for call in calls:
            await call.wait_ended(timeout=10)
        assert sorted(took.values()) == [1, 1, 1, 2, 2, 2]

    async with emulator() as emu:
        await _serve(adapter, emu, [handler(0), handler(1), handler(2)], body)


# --------------------------------------------------------------------------
# Capacity across workers: over_capacity="pass" hands the call to the others
# --------------------------------------------------------------------------

CAPPED = "max_active_calls (1) reached: passing inbound call "
# Simulated seconds the capped worker's call lasts (5 s real): far longer than placing
# nine calls and passing a third of them takes.
CAPPED_HOLD = 5000.0


def _offers(emu: Emulator) -> dict[str, list[int]]:
    """call id -> the connections it was offered to, in order (the emulator's journal)."""
    offers: dict[str, list[int]] = {}
    for entry in emu.journal("calling.call.receive", "out"):
        offers.setdefault(entry.data["params"]["call_id"], []).append(entry.conn_id)
    return offers


@CHILD_PROCESS
async def test_calls_beyond_one_workers_capacity_go_to_the_others(
    adapter_spec: tuple[str, ...], tmp_path: Path
) -> None:
    """Three workers; one may hold one call (RELAY_MAX_ACTIVE_CALLS=1, over_capacity pass).

    While it holds a long call, every call offered to it is passed back
    (``calling.pass``) and the emulator offers it to one of the other two,
    never back to it; every call is handled once, and ends as scripted.
    """
    argv = [sys.executable, str(worker_program(adapter_spec[0], tmp_path))]
    children: list[Child] = []
    async with emulator() as emu:
        env = child_env(emu)
        capped_env = {**env, "RELAY_MAX_ACTIVE_CALLS": "1", "WORKER_OVER_CAPACITY": "pass"}
        async with anyio.create_task_group() as tg:
            try:
                # The capped worker alone first: the long call can only go to it.
                capped = await start_child(tg, Child("capped worker"), argv, capped_env)
                children.append(capped)
                await capped.wait_line(READY)
                stream = Stream(emu, tg, in_flight=12)
                stream.phase = "alone"
                long_id = await stream.place(holding(CAPPED_HOLD))
                await capped.wait_for(lambda: long_id in capped.handled(), "the long call", 20)
                for n in (1, 2):
                    children.append(await start_child(tg, Child(f"worker {n}"), argv, env))
                for child in children[1:]:
                    await child.wait_line(READY)
                # Nine calls at once while the capped worker holds its one: round robin
                # offers every third to it (the first of them at the latest).
                stream.phase = "capped busy"
                await stream.place_many(9)
                await stream.settle()
                for child in children:
                    child.signal(signal.SIGTERM)
                for child in children:
                    assert await child.wait_exit() == 0, child.output
            finally:
                for child in children:
                    child.kill()
                tg.cancel_scope.cancel()

    handled = stream.check_outcomes(children)  # none lost, none handled twice
    assert stream.lost_to_drain_race == []
    assert handled[long_id] == capped.pid
    offers = _offers(emu)
    capped_conn = offers[long_id][0]
    passes = [e for e in emu.journal("calling.pass", "in") if e.kind == "request"]
    passed = [e.data["call_id"] for e in passes]
    assert passed, "no call was offered to the capped worker while it held its call"
    assert {e.conn_id for e in passes} == {capped_conn}
    answers = [e for e in emu.journal("calling.pass", "out") if e.kind == "response"]
    assert [e.data["code"] for e in answers] == ["200"] * len(passed)
    others = {child.pid for child in children[1:]}
    conn_of = {handled[cid]: conns[0] for cid, conns in offers.items() if len(conns) == 1}
    assert set(conn_of) == {capped.pid, *others}  # each took a call offered to it first
    for call_id in passed:
        # Offered to the capped worker, then once to another worker, which took it.
        assert offers[call_id][0] == capped_conn, offers[call_id]
        assert len(offers[call_id]) == 2, offers[call_id]
        assert handled[call_id] in others, call_id
        assert offers[call_id][1] == conn_of[handled[call_id]], offers[call_id]
        assert f"{CAPPED}{call_id}" in capped.output
    # The capped worker took nothing but its call while it held it: every other call
    # offered to it was passed, and it never had two calls at once.
    offered_to_capped = {cid for cid, conns in offers.items() if conns[0] == capped_conn}
    assert offered_to_capped - {long_id} == set(passed)
    assert [cid for cid, pid in handled.items() if pid == capped.pid] == [long_id]


# --------------------------------------------------------------------------
# The worker's probe (WORKER_HEALTH_PORT) and the traced worker
# --------------------------------------------------------------------------

PROBE = re.compile(r"health probe on (http://127\.0\.0\.1:\d+)/ready")


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def get(url: str) -> tuple[int, dict[str, Any]]:
    return await anyio.to_thread.run_sync(_get, url)


@pytest.mark.cases("anyio-asyncio-tcp")
async def test_worker_probe_is_ready_when_connected_and_not_while_draining(
    adapter_spec: tuple[str, ...],
) -> None:
    env = {"WORKER_HEALTH_PORT": "0"}
    worker = Child("worker")
    async with emulator() as emu, anyio.create_task_group() as tg:
        try:
            await start_child(
                tg, worker, [sys.executable, str(WORKERS / "worker.py")], {**child_env(emu), **env}
            )
            match = PROBE.search(await worker.wait_line("health probe on "))
            assert match, worker.output
            base = match[1]
            await worker.wait_line(READY)
            status, health = await get(f"{base}/ready")
            assert (status, health["ready"], health["state"]) == (200, True, "connected")
            assert health["draining"] is False
            assert (await get(f"{base}/live"))[0] == 200
            assert (await get(f"{base}/metrics"))[0] == 404
            call = await emu.place_call(context=CONTEXT, script=holding(LONG_HOLD))
            await worker.wait_for(lambda: call.call_id in worker.handled(), "the call", 20)
            status, health = await get(f"{base}/ready")
            assert (health["active_calls"], health["handlers_running"]) == (1, 1)
            worker.signal(signal.SIGTERM)
            await worker.wait_line(DRAINING)
            # Draining: no longer ready (the call still runs), still alive.
            status, health = await get(f"{base}/ready")
            assert (status, health["ready"], health["draining"]) == (503, False, True)
            assert (await get(f"{base}/live"))[0] == 200
            assert await worker.wait_exit() == 0, worker.output
        finally:
            worker.kill()
            tg.cancel_scope.cancel()
    assert worker.finished() == {call.call_id: worker.pid}
    assert ended_as_scripted(call.record, holding(LONG_HOLD))


@pytest.mark.cases("anyio-asyncio-tcp")
async def test_traced_worker_exports_spans_and_metrics(adapter_spec: tuple[str, ...]) -> None:
    pytest.importorskip("opentelemetry.sdk.trace")
    worker = Child("traced worker")
    argv = [sys.executable, str(WORKERS / "traced_worker.py")]
    async with emulator() as emu, anyio.create_task_group() as tg:
        try:
            env = {**child_env(emu), "OTEL_SERVICE_NAME": "test-worker"}
            env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
            await start_child(tg, worker, argv, env)
            await worker.wait_line(READY)
            call = await emu.place_call(context=CONTEXT, script=quick())
            record = await call.wait_ended(timeout=20)
            await worker.wait_for(lambda: call.call_id in worker.finished(), "finished", 20)
            worker.signal(signal.SIGTERM)
            assert await worker.wait_exit() == 0, worker.output
        finally:
            worker.kill()
            tg.cancel_scope.cancel()
    assert ended_as_scripted(record, quick())
    output = worker.output
    # The console exporters' JSON, flushed at exit: the call's span and its commands...
    assert '"name": "relaykit.call"' in output, output
    assert f'"relaykit.call.id": "{call.call_id}"' in output
    assert '"name": "calling.answer"' in output
    assert '"service.name": "test-worker"' in output
    # ...and the metrics of the last reading.
    assert '"name": "relaykit.commands"' in output
    assert '"name": "relaykit.events.received"' in output
