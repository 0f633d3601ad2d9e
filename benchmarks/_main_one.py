"""Command line of a single benchmark script (``python -m benchmarks.<script>``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from ._common import available_clients, make_tls
from .runner import SCENARIO_KWARGS, applies, run_parent

__all__ = ["main_one"]


def main_one(scenario: str, measure: Callable[..., Awaitable[dict[str, Any]]]) -> None:
    """Measure *scenario* once per requested client and print the figures as JSON."""
    p = argparse.ArgumentParser(prog=f"python -m benchmarks.{measure.__module__.split('.')[-1]}")
    p.add_argument("--client", action="append", help="client to run (repeatable); default: all")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every count (smoke: 0.05)")
    args = p.parse_args()
    tls = make_tls()
    out: dict[str, Any] = {}

    async def main() -> None:
        for client in args.client or [c for c in available_clients() if applies(scenario, c)]:
            out[client] = await measure(client, tls, **SCENARIO_KWARGS[scenario](args.scale))

    run_parent(main)
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
