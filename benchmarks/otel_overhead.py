"""What OpenTelemetry costs the client: ``python -m benchmarks --otel``.

The same client (``relay_anyio`` on asyncio) in three modes
(:mod:`benchmarks.otel_client`, ``RELAYKIT_BENCH_OTEL``):

* ``off``: OpenTelemetry is never imported (as without the ``otel`` extra);
* ``api``: the API imported and no provider configured (the extra installed,
  nothing set up): relaykit must record nothing and cost nothing;
* ``sdk``: global SDK providers, spans through a ``BatchSpanProcessor`` into an
  in-memory exporter, metrics into an in-memory reader: everything recorded.

The machine this runs on is shared and noisy, so the design is about pairing:

* the modes are interleaved within each repetition (``off api sdk``, then
  ``api sdk off``...: the order rotates), each run a fresh emulator and a fresh
  client process, so slow spells of the machine hit every mode alike;
* the figure compared is the client's CPU time, not wall time: CPU seconds of
  all its threads (the span processor's included), read by the parent from
  ``/proc/<pid>/task/*/schedstat`` in nanoseconds (what ``time.process_time()``
  reads inside the process; ``/proc/<pid>/stat`` counts 10 ms ticks);
* the ratios are taken per repetition (``api`` / ``off`` of the same
  repetition) and their median reported, next to the medians of each figure.

Two scenarios, as in the main suite: an event flood over held calls (CPU per
event: what a busy worker spends per RELAY event), and sequential
``call.play`` round trips (CPU per command, and the p50 latency).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from ._common import TlsMaterial, median, percentile, read_proc, wait_cpu_idle
from ._harness import start_client
from ._server import open_emulator
from .otel_client import MODES
from .sdk_client import WARMUP_PLAYS

__all__ = ["FIGURES", "cpu_seconds", "format_table", "main", "measure_mode", "summarize"]

CLIENT = "relaykit-asyncio"

#: (scenario, key, label, scale to display, decimals) of every reported figure.
FIGURES: tuple[tuple[str, str, str, float, int], ...] = (
    ("events", "cpu_us_per_event", "CPU µs/event", 1.0, 2),
    ("events", "events_per_s", "events/s", 1.0, 0),
    ("roundtrip", "cpu_us_per_play", "CPU µs/play", 1.0, 1),
    ("roundtrip", "p50_us", "RTT p50 µs", 1.0, 0),
    ("events", "peak_rss", "peak RSS MiB", 1 / 2**20, 1),
)


def cpu_seconds(pid: int) -> float:
    """CPU seconds of every live thread of *pid*, at nanosecond resolution.

    ``/proc/<pid>/task/<tid>/schedstat`` starts with the thread's time on a
    CPU in nanoseconds; without schedstat (some kernels), the process's
    ``/proc/<pid>/stat`` ticks are used instead.
    """
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as f:
                    total += int(f.read().split()[0])
            except FileNotFoundError:
                continue  # a thread that just exited
    except OSError:
        return read_proc(pid).cpu
    return total / 1e9


async def measure_events(mode: str, tls: TlsMaterial, *, calls: int, events: int) -> dict[str, Any]:
    """The event flood over *calls* held calls, the client in *mode*."""
    env = {"RELAYKIT_BENCH_OTEL": mode}
    async with (
        open_emulator(tls) as emu,
        start_client(
            CLIENT, "calls", host=emu.host, ca_file=tls.ca_file, count=calls, extra_env=env
        ) as proc,
    ):
        await emu.offer_calls(calls)
        await proc.expect("answered", within=60 + calls / 20)
        await wait_cpu_idle(proc.pid)
        before = cpu_seconds(proc.pid)
        seconds = await emu.flood(events, within=60 + events / 200)
        sample = await wait_cpu_idle(proc.pid)
        cpu = cpu_seconds(proc.pid) - before
    return {
        "events": events,
        "events_per_s": events / seconds,
        "cpu_us_per_event": cpu / events * 1e6,
        "peak_rss": sample.hwm,
    }


async def measure_roundtrip(mode: str, tls: TlsMaterial, *, plays: int) -> dict[str, Any]:
    """Sequential ``call.play`` round trips, the client in *mode*."""
    env = {"RELAYKIT_BENCH_OTEL": mode}
    async with (
        open_emulator(tls) as emu,
        start_client(
            CLIENT, "roundtrip", host=emu.host, ca_file=tls.ca_file, count=plays, extra_env=env
        ) as proc,
    ):
        before = cpu_seconds(proc.pid)
        await emu.offer_calls(1)
        latencies_ns = await proc.expect("latencies_ns", within=60 + plays / 50)
        cpu = cpu_seconds(proc.pid) - before
    us = [v / 1000 for v in latencies_ns]
    return {
        "plays": len(us),
        "p50_us": percentile(us, 50),
        "cpu_us_per_play": cpu / (len(us) + WARMUP_PLAYS) * 1e6,
    }


async def measure_mode(mode: str, tls: TlsMaterial, scale: float) -> dict[str, Any]:
    """Both scenarios once for *mode*; the figures of one repetition."""
    calls = max(5, round(1000 * scale))
    events = max(50, round(20_000 * scale))
    plays = max(20, round(2000 * scale))
    figures = {"mode": mode}
    figures.update(await measure_events(mode, tls, calls=calls, events=events))
    figures.update(await measure_roundtrip(mode, tls, plays=plays))
    return figures


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians per mode and figure, and the medians of the per-repetition ratios to ``off``."""
    summary: dict[str, Any] = {"medians": {}, "ratios": {}}
    reps = sorted({run["rep"] for run in runs})
    for mode in MODES:
        mine = [run for run in runs if run["mode"] == mode]
        summary["medians"][mode] = {
            key: median([run[key] for run in mine]) for _, key, _, _, _ in FIGURES
        }
    for mode in MODES[1:]:
        ratios: dict[str, float] = {}
        for _, key, _, _, _ in FIGURES:
            paired = []
            for rep in reps:
                base = [r[key] for r in runs if r["rep"] == rep and r["mode"] == "off"]
                other = [r[key] for r in runs if r["rep"] == rep and r["mode"] == mode]
                if base and other and base[0]:
                    paired.append(other[0] / base[0])
            ratios[key] = median(paired)
        summary["ratios"][mode] = ratios
    return summary


def format_table(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    """A markdown table: one row per mode, medians, the ratio to ``off`` in parentheses."""
    head = ["mode", *(label for _, _, label, _, _ in FIGURES)]
    lines = [
        f"OpenTelemetry overhead, {meta['date']}, {meta['repeat']} interleaved repetitions, "
        f"scale {meta['scale']}, Python {meta['python']}, {meta['cpus']} CPUs",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for mode in MODES:
        cells = [f"`{mode}`"]
        for _, key, _, scale, digits in FIGURES:
            value = summary["medians"][mode][key] * scale
            cell = f"{value:,.{digits}f}"
            if mode != "off":
                cell += f" ({summary['ratios'][mode][key]:.2f}x)"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(*, repeat: int, scale: float, results_dir: str) -> int:
    """Run the interleaved repetitions, print the table, write the raw JSON; exit status."""
    import platform

    from ._common import make_tls
    from .runner import run_parent

    try:
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        sys.stderr.write("--otel needs opentelemetry-sdk (pip install -e '.[dev]')\n")
        return 2
    tls = make_tls()
    runs: list[dict[str, Any]] = []

    async def go() -> None:
        for rep in range(repeat):
            n = rep % len(MODES)
            for mode in MODES[n:] + MODES[:n]:
                sys.stderr.write(f"[{rep + 1}/{repeat}] otel {mode} ...\n")
                figures = await measure_mode(mode, tls, scale)
                sys.stderr.write(
                    "    "
                    + ", ".join(f"{k}={v:.4g}" for k, v in figures.items() if k != "mode")
                    + "\n"
                )
                runs.append({"rep": rep, **figures})

    run_parent(go)
    meta = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="minutes"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "repeat": repeat,
        "scale": scale,
        "client": CLIENT,
    }
    summary = summarize(runs)
    out = Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = out / f"otel-{stamp}.json"
    path.write_text(json.dumps({"meta": meta, "runs": runs, "summary": summary}, indent=2))
    print(format_table(summary, meta))
    sys.stderr.write(f"raw results: {path}\n")
    # Not a timing assertion: the spread of the paired ratios, for the reader.
    for mode in MODES[1:]:
        ratios = [
            r["cpu_us_per_event"] / b["cpu_us_per_event"]
            for r in runs
            for b in runs
            if r["mode"] == mode and b["mode"] == "off" and r["rep"] == b["rep"]
        ]
        if len(ratios) > 1:
            sys.stderr.write(
                f"{mode}/off CPU per event, per repetition: "
                + ", ".join(f"{x:.3f}" for x in ratios)
                + f" (stdev {statistics.stdev(ratios):.3f})\n"
            )
    return 0
