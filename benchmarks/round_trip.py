"""Benchmark 2: command round trip.

The client answers one inbound call and then runs *plays* sequential
``await call.play(...)`` (after a 50-play warm-up), each timed in the client with
``time.perf_counter_ns`` from the call to the return of the awaited command
(request encoded, written, answered by the emulator, response matched).
Reported: p50, p99 and mean in microseconds, and the client's CPU time per
command (from ``/proc``, the call setup and the warm-up included).

Run alone: ``python -m benchmarks.round_trip --client relaykit-trio``.
"""

from __future__ import annotations

import statistics
from typing import Any

from ._common import TlsMaterial, percentile, read_proc
from ._harness import Probe, probing, start_session
from ._server import ServerFactory, open_emulator
from .sdk_client import WARMUP_PLAYS

__all__ = ["PLAYS", "measure"]

PLAYS = 2000


async def measure(
    client: str,
    tls: TlsMaterial,
    *,
    plays: int = PLAYS,
    server: ServerFactory = open_emulator,
    probe: Probe | None = None,
) -> dict[str, Any]:
    """Run the round-trip benchmark once for *client* and return its figures.

    *client*, *tls*, *server*: as in :func:`benchmarks._harness.start_session`.

    Args:
        plays: Timed sequential plays (after the warm-up).
        probe: Wraps the timed part (the profiler uses it).
    """
    async with (
        start_session(client, "roundtrip", tls, server, count=plays) as (emu, proc),
        probing(probe, proc.pid),
    ):
        before = read_proc(proc.pid).cpu
        await emu.offer_calls(1)
        latencies_ns = await proc.expect("latencies_ns", within=60 + plays / 50)
        cpu = read_proc(proc.pid).cpu - before
    us = [v / 1000 for v in latencies_ns]
    return {
        "plays": len(us),
        "p50_us": percentile(us, 50),
        "p99_us": percentile(us, 99),
        "mean_us": statistics.fmean(us),
        # Client CPU per command (answer, warm-up and ACKs of the play events
        # included): unlike latency, it hardly depends on the machine's load.
        "cpu_us_per_play": cpu / (len(us) + WARMUP_PLAYS) * 1e6,
    }


if __name__ == "__main__":
    from ._main_one import main_one

    main_one("roundtrip", measure)
