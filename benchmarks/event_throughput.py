"""Benchmark 1: event throughput with 1000 held calls.

One client subscribes to the bench context; the emulator offers *calls* inbound
calls (the client answers each and waits for it to end), then pushes *events*
``calling.call.play`` / ``calling.call.state`` events spread over those calls as
fast as the client ACKs them.

Reported per run:

* ``events_per_s``: events / (last ACK - first push), timed by the emulator;
* ``cpu_us_per_event``: the client's CPU time (user + system, from ``/proc``)
  between "all calls answered, client idle" and "last ACK seen, client idle
  again", per event -- work done after the last ACK (dispatching the last batch)
  is counted;
* ``peak_rss``: the client's ``VmHWM`` at the end;
* ``server_busy``: the emulator's CPU time during the flood / its duration (near
  1.0 means the load generator, not the client, set the pace).

Run alone: ``python -m benchmarks.event_throughput --client relaykit-asyncio``.
"""

from __future__ import annotations

import os
from typing import Any

from ._common import TlsMaterial, read_proc, wait_cpu_idle
from ._harness import Probe, probing, start_session
from ._server import ServerFactory, open_emulator

__all__ = ["CALLS", "EVENTS", "measure"]

CALLS = 1000
EVENTS = 20_000


async def measure(
    client: str,
    tls: TlsMaterial,
    *,
    calls: int = CALLS,
    events: int = EVENTS,
    server: ServerFactory = open_emulator,
    probe: Probe | None = None,
) -> dict[str, Any]:
    """Run the throughput benchmark once for *client* and return its figures.

    *client*, *tls*, *server*: as in :func:`benchmarks._harness.start_session`.

    Args:
        calls: Inbound calls to hold.
        events: Events to push across them.
        probe: Wraps the flood (the profiler uses it).
    """
    async with start_session(client, "calls", tls, server, count=calls) as (emu, proc):
        await emu.offer_calls(calls)
        await proc.expect("answered", within=60 + calls / 20)
        before = await wait_cpu_idle(proc.pid)
        server_before = read_proc(os.getpid()).cpu
        async with probing(probe, proc.pid):
            seconds = await emu.flood(events, within=60 + events / 200)
        server_cpu = read_proc(os.getpid()).cpu - server_before
        after = await wait_cpu_idle(proc.pid)
    cpu = after.cpu - before.cpu
    return {
        "calls": calls,
        "events": events,
        "seconds": seconds,
        "events_per_s": events / seconds,
        "cpu_s": cpu,
        "cpu_us_per_event": cpu / events * 1e6,
        "peak_rss": after.hwm,
        # The emulator's own CPU during the flood: when it approaches "seconds", the
        # load generator, not the client, is what limits events/s.
        "server_cpu_s": server_cpu,
        "server_cpu_us_per_event": server_cpu / events * 1e6,
        "server_busy": server_cpu / seconds,
    }


if __name__ == "__main__":
    from ._main_one import main_one

    main_one("throughput", measure)
