"""Where the memory of a held call goes: ``python -m benchmarks.memory_profile``.

Runs the memory scenario once per requested client with ``tracemalloc`` on in
the client (see :mod:`benchmarks._memtrace`) and prints the traced bytes per
held call, grouped by allocation site.  The JSON breakdown is kept under
``benchmarks/results/memtrace-<client>.json``.  Traced bytes are Python
allocations only; the RSS figure of ``memory_per_call`` also includes allocator
overhead and fragmentation.
"""

from __future__ import annotations

import argparse
import json

from ._common import available_clients, make_tls
from ._memtrace import ENV
from .memory_per_call import measure
from .runner import RESULTS_DIR, SCENARIO_KWARGS, run_parent

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Trace each requested client's per-call allocations and print the top sites."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.memory_profile")
    p.add_argument("--client", action="append", help="client to trace (repeatable)")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--top", type=int, default=20)
    args = p.parse_args(argv)
    clients = args.client or ["relaykit-asyncio", "official"]
    for client in clients:
        if client not in available_clients():
            raise SystemExit(f"{client} is not installed")
    tls = make_tls()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)

    async def go() -> None:
        for client in clients:
            out = RESULTS_DIR / f"memtrace-{client}.json"
            await measure(
                client, tls, extra_env={ENV: str(out)}, **SCENARIO_KWARGS["memory"](args.scale)
            )

    run_parent(go)
    for client in clients:
        data = json.loads((RESULTS_DIR / f"memtrace-{client}.json").read_text())
        print(f"\n== {client}: {data['traced_bytes_per_call']:,.0f} traced bytes per held call")
        for site in data["sites"][: args.top]:
            print(
                f"  {site['bytes_per_call']:7,.0f} B {site['blocks_per_call']:5.2f} blocks"
                f"  {site['site']}"
            )


if __name__ == "__main__":
    main()
