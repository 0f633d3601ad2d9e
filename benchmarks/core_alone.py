"""Benchmark 4: the core alone -- frames/s ``relay_proto`` parses, dispatches and ACKs.

No sockets, no event loop: :func:`benchmarks.core_throughput.run` (the core's own
benchmark) feeds pre-built server frames to a ``RelayConnection`` in 64 KiB chunks,
drains every event and collects the ACK bytes after each chunk.  It runs in a
fresh process, like every client, so its figure does not depend on what the
parent did before.

Run alone: ``python -m benchmarks.core_alone [--events N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import anyio

from ._harness import REPO_ROOT

__all__ = ["EVENTS", "measure_core"]

EVENTS = 200_000
CHUNK = 65_536


async def measure_core(scale: float = 1.0) -> dict[str, Any]:
    """Run the core benchmark once in a child process and return its figures."""
    events = max(1000, round(EVENTS * scale))
    cmd = [sys.executable, "-m", "benchmarks.core_alone", "--child", "--events", str(events)]
    with anyio.fail_after(60 + events / 1000):
        done = await anyio.run_process(cmd, cwd=str(REPO_ROOT), check=False)
    if done.returncode != 0:
        raise RuntimeError(f"core benchmark failed: {done.stderr.decode(errors='replace')[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


def _child(events: int) -> None:
    from .core_throughput import run

    run(min(events, 2000), CHUNK)  # warm-up: imports, first-use caches
    # run() checks itself that every frame produced its event and its ACK, and
    # returns the elapsed seconds first (further fields are informational).
    elapsed = float(run(events, CHUNK)[0])
    print(
        json.dumps(
            {
                "frames": events,
                "seconds": elapsed,
                "frames_per_s": events / elapsed,
                "us_per_frame": elapsed / events * 1e6,
            }
        )
    )


def main(argv: list[str] | None = None) -> None:
    """Measure the core once and print the figures as JSON."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.core_alone")
    p.add_argument("--events", type=int, default=EVENTS)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args.events)
        return
    print(json.dumps(anyio.run(measure_core, args.events / EVENTS), indent=2))


if __name__ == "__main__":
    main()
