"""Benchmark 3: memory per active call.

The client connects and idles; its resident set size is read (``VmRSS``).  The
emulator then offers *calls* inbound calls, the client answers and holds them
all, and ``VmRSS`` is read again once the client is idle.  The figure is the
difference divided by the number of calls: what one more held call costs.

Run alone: ``python -m benchmarks.memory_per_call --client official``.
"""

from __future__ import annotations

from typing import Any

from ._common import TlsMaterial, wait_cpu_idle
from ._harness import start_client
from ._server import ServerFactory, open_emulator

__all__ = ["CALLS", "measure"]

CALLS = 1000


async def measure(
    client: str,
    tls: TlsMaterial,
    *,
    calls: int = CALLS,
    server: ServerFactory = open_emulator,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run the memory benchmark once for *client* and return its figures.

    Args:
        client: Which client to start (see :data:`benchmarks._common.CLIENTS`).
        tls: The CA and server certificate to serve and trust.
        calls: Inbound calls to hold.
        server: Opens the emulator (tests and tools may substitute it).
        extra_env: Added to the client's environment (``benchmarks.memory_profile``).
    """
    async with (
        server(tls) as emu,
        start_client(
            client, "calls", host=emu.host, ca_file=tls.ca_file, count=calls, extra_env=extra_env
        ) as proc,
    ):
        base = await wait_cpu_idle(proc.pid)
        await emu.offer_calls(calls)
        await proc.expect("answered", within=60 + calls / 20)
        held = await wait_cpu_idle(proc.pid)
    return {
        "calls": calls,
        "rss_idle": base.rss,
        "rss_held": held.rss,
        "bytes_per_call": (held.rss - base.rss) / calls,
    }


if __name__ == "__main__":
    from ._main_one import main_one

    main_one("memory", measure)
