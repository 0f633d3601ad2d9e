"""What OpenTelemetry costs the client: ``python -m benchmarks --otel``.

One client process (``relay_anyio`` on asyncio) holds three clients, each with
its own connection and context and its own telemetry:

* ``off``: ``RelayClient(telemetry=False)``: the client holds no recorder (the
  same code runs as without the ``otel`` extra, where OpenTelemetry is never
  imported);
* ``api``: ``telemetry=None`` (the default) in a process that imported the
  OpenTelemetry API and configured no global provider: the extra installed,
  nothing set up.  relaykit must record nothing, and cost nothing;
* ``sdk``: ``Telemetry(tracer_provider=..., meter_provider=...)`` with SDK
  providers: spans through a ``BatchSpanProcessor`` into an in-memory
  exporter, metrics into an in-memory reader.  Everything is recorded.

The machine this runs on is shared and noisy, so the design is about pairing
the modes as closely as possible:

* **interleaved rounds**: each round measures every mode once, one after the
  other (``off api sdk``, then ``api sdk off``, ...: the order rotates), each
  measurement short (a fraction of a second), in the same process, against the
  same emulator: a slow spell of the machine hits the three modes of a round
  alike;
* **three sessions**: the rounds run in three sessions (a fresh emulator and
  client process each) whose clients are made, connected and given their calls
  in a rotated order, so that a client's place (first connection, first calls
  placed) is not mistaken for its telemetry: ``api`` runs the same code as
  ``off``, and their ratio shows what is left of such effects and of noise;
* **CPU time, not wall time**: events -- the emulator floods one client's calls
  with ``calling.call.play`` events while the parent reads the client process's
  CPU time before and after (all threads, the span processor's included, in
  nanoseconds from ``/proc/<pid>/task/*/schedstat``); commands -- the process
  times its own ``await call.play(...)`` loops with ``time.process_time()``;
* **paired ratios**: ``api``/``off`` and ``sdk``/``off`` are taken within each
  round and their median reported, next to the median of each figure.

``RELAYKIT_BENCH_OTEL_PLACEBO=1`` runs the same with every client off: the
ratios it reports are the noise floor.

The figures are per event and per command; memory is not compared here (the
three clients share a process): ``RELAYKIT_BENCH_OTEL=sdk python -m
benchmarks.event_throughput --client relaykit-asyncio`` runs the suite's own
scenario in one mode (:mod:`benchmarks.otel_client`).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from ._common import PROJECT, TOKEN, TlsMaterial, emit, median, percentile, read_proc
from ._harness import REPO_ROOT, ClientProcess
from ._server import open_emulator
from .sdk_client import MEDIA, WARMUP_PLAYS

__all__ = [
    "FIGURES",
    "MODES",
    "cpu_seconds",
    "format_table",
    "main",
    "measure",
    "rotate",
    "summarize",
]

#: The telemetry of the three clients, in table order; ``off`` is the reference.
MODES: tuple[str, ...] = ("off", "api", "sdk")

#: ``RELAYKIT_BENCH_OTEL_PLACEBO=1``: all three clients ``telemetry=False``, to read
#: the measurement's own noise floor off the ratios.
PLACEBO = os.environ.get("RELAYKIT_BENCH_OTEL_PLACEBO") == "1"

#: (key, label, decimals) of every reported figure.
FIGURES: tuple[tuple[str, str, int], ...] = (
    ("cpu_us_per_event", "CPU µs/event", 2),
    ("cpu_us_per_play", "CPU µs/command", 1),
    ("p50_us", "command p50 µs", 0),
)


def sizes(scale: float) -> dict[str, int]:
    """Held calls per client, events per flood, plays per round at *scale*."""
    return {
        "calls": max(5, round(200 * scale)),
        "events": max(100, round(4000 * scale)),
        "plays": max(20, round(300 * scale)),
    }


def rotate(n: int) -> tuple[str, ...]:
    """The order of the modes in round *n*."""
    k = n % len(MODES)
    return MODES[k:] + MODES[:k]


def cpu_seconds(pid: int) -> float:
    """CPU seconds of every live thread of *pid*, at nanosecond resolution.

    ``/proc/<pid>/task/<tid>/schedstat`` starts with the thread's time on a
    CPU in nanoseconds; without it (some kernels), the process's
    ``/proc/<pid>/stat`` ticks are used instead.
    """
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as f:
                    total += int(f.read().split()[0])
            except FileNotFoundError:
                continue  # a thread that just exited
    except OSError:
        return read_proc(pid).cpu
    return total / 1e9


async def wait_idle(pid: int, quiet: float = 0.05, limit: float = 5.0) -> float:
    """Wait until *pid*'s CPU time stops moving for *quiet* seconds; return it."""
    import anyio

    deadline = time.monotonic() + limit
    last = cpu_seconds(pid)
    still_since = time.monotonic()
    while True:
        await anyio.sleep(0.005)
        now = time.monotonic()
        cur = cpu_seconds(pid)
        if cur - last > 20e-6:  # more than housekeeping (20 µs)
            last, still_since = cur, now
        elif now - still_since >= quiet or now >= deadline:
            return cur


# --------------------------------------------------------------------------
# The client process: python -m benchmarks.otel_overhead --child ...
# --------------------------------------------------------------------------


async def _child(host: str, calls: int, plays: int, rounds: int, order: list[str]) -> None:
    import opentelemetry.metrics
    import opentelemetry.trace  # noqa: F401  (api: imported, no provider configured)
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from relay_anyio import RelayClient
    from relaykit.observability import Telemetry

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    options: dict[str, Any] = {
        "off": False,
        "api": None,
        "sdk": Telemetry(tracer_provider=tracer_provider, meter_provider=meter_provider),
    }
    if PLACEBO:  # every client off: what the ratios read when nothing differs
        options = dict.fromkeys(MODES, False)
    answered = 0
    go = {mode: asyncio.Event() for mode in MODES}
    done = {mode: asyncio.Event() for mode in MODES}
    timed: dict[str, list[int]] = {}
    clients = {}
    for mode in order:  # the session's order: which client is made and connects first
        client = RelayClient(
            project=PROJECT,
            token=TOKEN,
            host=host,
            contexts=[f"bench-{mode}"],
            telemetry=options[mode],
        )
        clients[mode] = client

        def handler(mode: str) -> Any:
            timer = [True]  # the client's first call times the plays; the others are held

            async def on_call(call: Any) -> None:
                nonlocal answered
                await call.answer()
                answered += 1
                if answered == 3 * calls:
                    tracer_provider.force_flush()  # the answers' spans: before measuring
                    emit({"answered": answered})
                if not timer:
                    await call.wait_for_ended()
                    return
                timer.clear()
                for _ in range(WARMUP_PLAYS):
                    await call.play(MEDIA)
                while True:  # one batch of timed plays per go
                    await go[mode].wait()
                    go[mode].clear()
                    clock = time.perf_counter_ns
                    latencies = timed[mode] = []
                    for _ in range(plays):
                        t0 = clock()
                        await call.play(MEDIA)
                        latencies.append(clock() - t0)
                    done[mode].set()

            return on_call

        client.on_call(handler(mode))

    loop = asyncio.get_running_loop()
    start_commands = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, start_commands.set)
    async with clients[order[0]], clients[order[1]], clients[order[2]]:
        recording = {mode: c._dispatcher.telemetry is not None for mode, c in clients.items()}
        if recording != {"off": False, "api": False, "sdk": not PLACEBO}:
            raise RuntimeError(f"the clients record {recording}, not as their modes say")
        emit({"ready": True})
        await start_commands.wait()
        results = []
        for n in range(rounds):
            for mode in rotate(n):
                before = time.process_time()
                go[mode].set()
                await done[mode].wait()
                if mode == "sdk":
                    tracer_provider.force_flush()  # their spans' export counts too
                cpu = time.process_time() - before
                done[mode].clear()
                us = [v / 1000 for v in timed[mode]]
                results.append(
                    {
                        "round": n,
                        "mode": mode,
                        "cpu_us_per_play": cpu / plays * 1e6,
                        "p50_us": percentile(us, 50),
                    }
                )
        emit({"commands": results})
        await asyncio.Event().wait()


# --------------------------------------------------------------------------
# The parent: the emulator, the floods, the readings
# --------------------------------------------------------------------------


@asynccontextmanager
async def _start_child(
    host: str, ca_file: str, size: dict[str, int], rounds: int, order: tuple[str, ...]
) -> Any:
    import anyio

    env = dict(os.environ)
    env["SIGNALWIRE_RELAY_CA_FILE"] = ca_file
    env["RELAY_MAX_CONNECTIONS"] = str(len(MODES))  # three clients in one process
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.otel_overhead",
        "--child",
        "--host",
        host,
        "--calls",
        str(size["calls"]),
        "--plays",
        str(size["plays"]),
        "--rounds",
        str(rounds),
        "--order",
        ",".join(order),
    ]
    fd, stderr_path = tempfile.mkstemp(prefix="bench-otel-", suffix=".log")
    try:
        process = await anyio.open_process(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=fd, env=env
        )
    finally:
        os.close(fd)
    proc = ClientProcess("otel clients", process, stderr_path)
    try:
        await proc.expect("ready", within=30)
        yield proc
    finally:
        with anyio.CancelScope(shield=True):
            await proc.stop()
        with suppress(OSError):
            os.unlink(stderr_path)


async def measure(tls: TlsMaterial, *, scale: float, rounds: int) -> list[dict[str, Any]]:
    """Three sessions of *rounds* rounds each: one row per (round, mode).

    Each session is a fresh emulator and client process, whose clients are made,
    connected and given their calls in another order (``rotate(session)``): a
    client's place in the process and in the emulator must not pass for its
    telemetry's cost.  Rounds are numbered across the sessions.
    """
    rows: list[dict[str, Any]] = []
    for session in range(len(MODES)):
        rows.extend(await _session(tls, scale, rounds, rotate(session), first=session * rounds))
    return rows


async def _session(
    tls: TlsMaterial, scale: float, rounds: int, order: tuple[str, ...], first: int
) -> list[dict[str, Any]]:
    from relaykit.emulator import Caller

    size = sizes(scale)
    caller = Caller(ring_timeout=3600.0)
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    async with (
        open_emulator(tls) as server,
        _start_child(server.host, tls.ca_file, size, rounds, order) as proc,
    ):
        emu = server.emulator
        targets: dict[str, list[str]] = {}
        for mode in order:
            placed = [
                await emu.place_call(f"bench-{mode}", caller, wait_subscriber=30.0)
                for _ in range(size["calls"])
            ]
            targets[mode] = [call.call_id for call in placed[1:]]  # the first times plays
        await proc.expect("answered", within=60 + size["calls"] / 5)
        window = max(1, size["calls"] - 1)
        for n in range(first, first + rounds):
            for mode in rotate(n):
                before = await wait_idle(proc.pid)
                result = await emu.flood_events(
                    size["events"], calls=targets[mode], window=window, timeout=60
                )
                if result.acked != size["events"]:
                    raise RuntimeError(f"flood: {result.acked} of {size['events']} ACKed")
                cpu = await wait_idle(proc.pid) - before
                rows[(n, mode)] = {
                    "round": n,
                    "session": ",".join(order),
                    "mode": mode,
                    "cpu_us_per_event": cpu / size["events"] * 1e6,
                    "events_per_s": size["events"] / result.seconds,
                }
        proc.process.send_signal(signal.SIGUSR1)
        commands = await proc.expect("commands", within=60 + rounds * size["plays"] / 20)
    for row in commands:
        rows[(first + row["round"], row["mode"])].update(row, round=first + row["round"])
    return list(rows.values())


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians per mode and figure, and the medians of the per-round ratios to ``off``."""
    by = {(row["round"], row["mode"]): row for row in rows}
    rounds = sorted({row["round"] for row in rows})
    summary: dict[str, Any] = {"medians": {}, "ratios": {}, "spread": {}}
    for mode in MODES:
        summary["medians"][mode] = {
            key: median([row[key] for row in rows if row["mode"] == mode]) for key, _, _ in FIGURES
        }
    for mode in MODES[1:]:
        ratios: dict[str, float] = {}
        spread: dict[str, list[float]] = {}
        for key, _, _ in FIGURES:
            paired = sorted(
                by[(n, mode)][key] / by[(n, "off")][key]
                for n in rounds
                if (n, mode) in by and (n, "off") in by and by[(n, "off")][key]
            )
            ratios[key] = median(paired)
            # The middle half of the paired ratios: how much one round can be trusted.
            spread[key] = [paired[len(paired) // 4], paired[(3 * len(paired)) // 4]]
        summary["ratios"][mode] = ratios
        summary["spread"][mode] = spread
    return summary


def format_table(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    """A markdown table: one row per mode, medians, the paired ratio to ``off`` after them."""
    head = ["telemetry", *(label for _, label, _ in FIGURES)]
    lines = [
        f"OpenTelemetry overhead, {meta['date']}: {meta['rounds']} interleaved rounds, "
        f"scale {meta['scale']}, Python {meta['python']}, {meta['cpus']} CPUs"
        + (" (PLACEBO: every client off)" if meta.get("placebo") else ""),
        "",
        "| " + " | ".join(head) + " |",
        "|" + " --- |" * len(head),
    ]
    for mode in MODES:
        cells = [f"`{mode}`"]
        for key, _, digits in FIGURES:
            cell = f"{summary['medians'][mode][key]:,.{digits}f}"
            if mode != "off":
                low, high = summary["spread"][mode][key]
                ratio = summary["ratios"][mode][key]
                cell += f" ({ratio:.2f}x; {low:.2f}-{high:.2f})"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(*, repeat: int, scale: float, results_dir: str) -> int:
    """Three sessions of *repeat* rounds: print the table, write the raw JSON; the exit status."""
    from ._common import make_tls
    from .runner import run_parent

    try:
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        sys.stderr.write("--otel needs opentelemetry-sdk: pip install -e '.[dev]'\n")
        return 2
    tls = make_tls()
    rows: list[dict[str, Any]] = []

    async def go() -> None:
        sys.stderr.write(
            f"otel: 3 sessions of {repeat} rounds of {', '.join(MODES)} ({sizes(scale)})\n"
        )
        rows.extend(await measure(tls, scale=scale, rounds=repeat))

    run_parent(go)
    meta = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="minutes"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "rounds": len(MODES) * repeat,
        "scale": scale,
        "placebo": PLACEBO,
        **sizes(scale),
    }
    summary = summarize(rows)
    out = Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = out / f"otel-{stamp}.json"
    path.write_text(json.dumps({"meta": meta, "rows": rows, "summary": summary}, indent=2))
    print(format_table(summary, meta))
    sys.stderr.write(f"raw results: {path}\n")
    return 0


def _child_main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.otel_overhead")
    p.add_argument("--child", action="store_true", required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--calls", type=int, required=True)
    p.add_argument("--plays", type=int, required=True)
    p.add_argument("--rounds", type=int, required=True)
    p.add_argument("--order", required=True, help="the modes, in the order the clients are made")
    args = p.parse_args(argv)
    try:
        asyncio.run(_child(args.host, args.calls, args.plays, args.rounds, args.order.split(",")))
    except KeyboardInterrupt:
        pass
    except BaseException as exc:
        import traceback

        emit({"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()})
        sys.exit(1)


if __name__ == "__main__":
    _child_main()
