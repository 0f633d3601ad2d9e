"""Entry point of one client process: ``python -m benchmarks._child --client NAME ...``.

Each client runs in its own process so that the CPU time and memory the parent
reads from ``/proc/<pid>`` are the client's own, and so that clients cannot
share warm caches.  The process talks to the parent with JSON lines on stdout
(``{"ready": true}``, ``{"answered": n}``, ``{"latencies_ns": [...]}``,
``{"error": "..."}``) and runs until the parent terminates it.

The TLS trust root comes from ``SIGNALWIRE_RELAY_CA_FILE`` (the official SDK's
variable, honoured by relaykit too), which the parent sets.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Any

from ._common import CLIENTS, emit

__all__ = ["main"]

_ALL_CLIENTS = (*CLIENTS, "bare-wsproto")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks._child")
    p.add_argument("--client", required=True, choices=_ALL_CLIENTS)
    p.add_argument("--scenario", required=True, choices=("calls", "roundtrip"))
    p.add_argument("--host", required=True, help="host:port of the emulator (wss)")
    p.add_argument("--project", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--context", required=True)
    p.add_argument("--count", type=int, required=True)
    return p


def _run(args: argparse.Namespace) -> None:
    from . import sdk_client

    kwargs: dict[str, Any] = {
        "host": args.host,
        "project": args.project,
        "token": args.token,
        "context": args.context,
        "count": args.count,
    }
    scenario = sdk_client.run_calls if args.scenario == "calls" else sdk_client.run_roundtrip
    name = args.client
    if name.startswith("bare"):
        import asyncio

        from .bare_client import run_bare

        transport = "wsproto" if name == "bare-wsproto" else "auto"
        asyncio.run(
            run_bare(
                scenario=args.scenario,
                ca_file=os.environ.get("SIGNALWIRE_RELAY_CA_FILE"),
                transport=transport,
                **kwargs,
            )
        )
    elif name == "official":
        import asyncio

        from signalwire.relay import RelayClient as Official

        asyncio.run(scenario(Official, _asyncio_forever, **kwargs))
    elif name in ("relaykit-asyncio", "relaykit-uvloop"):
        import asyncio

        from .otel_client import configure

        configure()  # RELAYKIT_BENCH_OTEL: off, api (no provider) or sdk (in-memory exporters)

        from relay_anyio import RelayClient as Anyio

        coro = scenario(Anyio, _asyncio_forever, **kwargs)
        if name == "relaykit-uvloop":
            import uvloop

            uvloop.run(coro)
        else:
            asyncio.run(coro)
    elif name == "relaykit-trio":
        import trio

        from relay_trio import RelayClient as Trio

        async def main() -> None:
            await scenario(Trio, trio.sleep_forever, **kwargs)

        trio.run(main)
    else:  # pragma: no cover - argparse restricts the choices
        raise SystemExit(f"unknown client {name!r}")


async def _asyncio_forever() -> None:
    import asyncio

    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and run one client until terminated."""
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except KeyboardInterrupt:
        pass
    except BaseException as exc:
        emit({"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()})
        sys.exit(1)


if __name__ == "__main__":
    main()
