"""Where a client's time goes: ``python -m benchmarks.profile``.

Runs the event-throughput scenario (or, with ``--scenario roundtrip``, the round
trip) once per requested client with ``py-spy`` attached to the client process
for the measured part only (sampling, ``--nonblocking`` so the client is not
paused), then prints the functions with the most samples,
by self time and by inclusive time.  The collapsed stacks are kept under
``benchmarks/results/profile-<scenario>-<client>.txt`` for flame graphs
(``flamegraph.pl`` / speedscope).  Needs ``py-spy`` (``pip install py-spy``) and
permission to ptrace the child (root, or ``kernel.yama.ptrace_scope=0``).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from . import event_throughput, round_trip
from ._common import available_clients, make_tls
from .runner import RESULTS_DIR, SCENARIO_KWARGS, run_parent

__all__ = ["main", "summarize_collapsed"]


def summarize_collapsed(path: Path, top: int = 25) -> str:
    """Self and inclusive sample counts per function from a py-spy ``raw`` (collapsed) file."""
    self_counts: Counter[str] = Counter()
    incl_counts: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = [_short(f) for f in stack.split(";")]
        self_counts[frames[-1]] += count
        for f in set(frames):
            incl_counts[f] += count
    if not total:
        return "no samples"
    out = [f"{total} samples", "", "self time:"]
    out += [f"  {c / total:6.1%}  {f}" for f, c in self_counts.most_common(top)]
    # Frames on (nearly) every stack are the event loop and the entry point: skip them.
    inner = [(f, c) for f, c in incl_counts.most_common() if c < 0.9 * total][:top]
    out += ["", "inclusive time (frames on under 90% of the samples):"]
    out += [f"  {c / total:6.1%}  {f}" for f, c in inner]
    return "\n".join(out)


def _short(frame: str) -> str:
    # "func (path/to/module.py:123)" -> "func (module.py)"; line numbers merged.
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    file = where.rsplit(":", 1)[0]
    parts = file.split("/")
    return f"{name} ({'/'.join(parts[-2:])})" if file else name


@asynccontextmanager
async def _py_spy(pid: int, out: Path, rate: int) -> AsyncIterator[None]:
    # py-spy installs a binary next to the interpreter (.venv/bin), often not on PATH.
    beside = Path(sys.executable).with_name("py-spy")
    exe = str(beside) if beside.exists() else shutil.which("py-spy")
    if exe is None:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    cmd = [exe, "record", "--pid", str(pid), "--format", "raw", "--rate", str(rate)]
    cmd += ["--nonblocking", "--output", str(out)]
    proc = await anyio.open_process(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await anyio.sleep(0.5)  # let py-spy attach before the flood starts
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        with anyio.move_on_after(10):
            await proc.wait()
        if proc.returncode is None:
            proc.kill()
        await proc.aclose()


def main(argv: list[str] | None = None) -> None:
    """Profile the flood for each requested client and print the summaries."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    p.add_argument("--client", action="append", help="client to profile (repeatable)")
    p.add_argument("--scenario", choices=("throughput", "roundtrip"), default="throughput")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    tls = make_tls()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, Path] = {}

    async def go() -> None:
        for client in args.client or ["relaykit-asyncio"]:
            if client not in available_clients() and client != "bare-wsproto":
                raise SystemExit(f"{client} is not installed")
            out = RESULTS_DIR / f"profile-{args.scenario}-{client}.txt"
            outputs[client] = out

            def probe(pid: int, out: Path = out) -> object:
                return _py_spy(pid, out, args.rate)

            measure = (
                event_throughput.measure if args.scenario == "throughput" else round_trip.measure
            )
            kwargs = SCENARIO_KWARGS[args.scenario](args.scale)
            figures = await measure(client, tls, probe=probe, **kwargs)
            shown = ", ".join(f"{k}={v:,.4g}" for k, v in figures.items())
            print(f"== {client} under the profiler: {shown}")

    run_parent(go)
    for client, out in outputs.items():
        print(f"\n== {client} ({out})")
        print(summarize_collapsed(out, args.top) if out.exists() else "no profile written")


if __name__ == "__main__":
    main()
