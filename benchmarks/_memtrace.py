"""Where a client's per-call memory goes (``tracemalloc``), for ``benchmarks.memory_profile``.

Enabled in a client process by ``BENCH_TRACEMALLOC=<output.json>``: allocation
tracing starts when the client process starts, a baseline snapshot is taken
when the client is connected and idle, and a second one once every call is
answered.  The difference is grouped by allocation site -- the innermost frame
in client code (``relay_proto``/``relay_anyio``/``relay_trio``/``signalwire``/the
benchmark handler) plus the frame that actually allocated -- and written as JSON.
Tracing slows the client down and adds its own memory, so these runs are never
used for the reported figures.
"""

from __future__ import annotations

import gc
import json
import os
import tracemalloc
from collections import Counter
from typing import Any

__all__ = ["ENV", "MemTrace"]

ENV = "BENCH_TRACEMALLOC"
_OWN = ("relay_proto/", "relaykit/", "relay_anyio/", "relay_trio/", "signalwire/", "benchmarks/")


def _where(frame: tracemalloc.Frame) -> str:
    parts = frame.filename.replace(os.sep, "/").split("/")
    return f"{'/'.join(parts[-2:])}:{frame.lineno}"


class MemTrace:
    """Baseline and per-call breakdown of traced allocations in this process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._base: tracemalloc.Snapshot | None = None
        if not tracemalloc.is_tracing():
            tracemalloc.start(25)

    @classmethod
    def from_env(cls) -> MemTrace | None:
        """A tracer if ``BENCH_TRACEMALLOC`` names an output file, else None."""
        path = os.environ.get(ENV)
        return cls(path) if path else None

    def baseline(self) -> None:
        """Take the "connected, idle" snapshot."""
        gc.collect()
        self._base = tracemalloc.take_snapshot()

    def report(self, calls: int) -> None:
        """Write the allocations made since :meth:`baseline`, per call, grouped by site."""
        if self._base is None:
            raise RuntimeError("baseline() was not called")
        gc.collect()
        snap = tracemalloc.take_snapshot()
        size: Counter[str] = Counter()
        blocks: Counter[str] = Counter()
        for stat in snap.compare_to(self._base, "traceback"):
            frames = list(stat.traceback)  # oldest call first, the allocating frame last
            ours = [f for f in frames if any(mark in f.filename for mark in _OWN)]
            site = _where(ours[-1]) if ours else "?"
            key = f"{site} -> {_where(frames[-1])}" if frames else site
            size[key] += stat.size_diff
            blocks[key] += stat.count_diff
        total = sum(size.values())
        out: dict[str, Any] = {
            "calls": calls,
            "traced_bytes_per_call": total / calls,
            "sites": [
                {
                    "site": key,
                    "bytes_per_call": value / calls,
                    "blocks_per_call": blocks[key] / calls,
                }
                for key, value in size.most_common(60)
            ],
        }
        with open(self.path, "w") as f:
            json.dump(out, f, indent=2)
