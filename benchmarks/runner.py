"""The whole suite in one run: ``python -m benchmarks`` (what ``make bench`` calls).

Every scenario is run for every installed client, the clients alternating within
each repetition (the order rotates from one repetition to the next, so no client
always runs first or last), *repeat* times.  Medians are taken per client and
figure, and every client's ratio to the official SDK is computed from the
medians of the same run.  Raw results go to ``benchmarks/results/`` (JSON,
gitignored); the table is printed; ``docs/performance.md`` (its generated block)
and ``docs/img/performance.png`` are rewritten unless ``--no-docs``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

if sys.version_info < (3, 11):  # anyio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

from ._common import CLIENTS, TlsMaterial, available_clients, make_tls
from ._harness import REPO_ROOT, ClientError

__all__ = ["SCENARIOS", "SCENARIO_KWARGS", "applies", "main", "run_parent", "run_suite"]

#: Scenario name -> the function that builds its keyword arguments at a scale.
SCENARIO_KWARGS: dict[str, Callable[[float], dict[str, int]]] = {
    "throughput": lambda s: {
        "calls": max(5, round(1000 * s)),
        "events": max(50, round(20_000 * s)),
    },
    "roundtrip": lambda s: {"plays": max(20, round(2000 * s))},
    "memory": lambda s: {"calls": max(5, round(1000 * s))},
    # Fresh interpreters per figure (their median); at least 3 for a median at all.
    "import": lambda s: {"runs": max(3, round(9 * s))},
}
SCENARIOS: tuple[str, ...] = ("throughput", "roundtrip", "memory", "import")

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


def _measure_fn(scenario: str) -> Callable[..., Awaitable[dict[str, Any]]]:
    if scenario == "throughput":
        from .event_throughput import measure
    elif scenario == "roundtrip":
        from .round_trip import measure
    elif scenario == "memory":
        from .memory_per_call import measure
    elif scenario == "import":
        from .import_time import measure
    else:
        raise ValueError(f"unknown scenario {scenario!r}")
    return measure


def applies(scenario: str, client: str) -> bool:
    """Whether *scenario* measures *client* (the bare ceiling has no library to import)."""
    if scenario == "import":
        from .import_time import MODULES

        return client in MODULES
    return True


def run_parent(func: Callable[[], Awaitable[None]]) -> None:
    """Run the parent side (the emulator and the orchestration) on asyncio, uvloop if present.

    The emulator is the load generator: giving it the fastest loop available keeps
    it out of the way of the clients it measures (the same loop for every client).
    """
    try:
        import uvloop  # noqa: F401

        options = {"use_uvloop": True}
    except ImportError:
        options = {}
    anyio.run(func, backend="asyncio", backend_options=options)


def _rotate(items: list[str], n: int) -> list[str]:
    if not items:
        return items
    n %= len(items)
    return items[n:] + items[:n]


def _log(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


async def run_suite(
    *,
    clients: list[str],
    scenarios: list[str],
    repeat: int,
    scale: float,
    tls: TlsMaterial,
    core: bool = True,
) -> dict[str, Any]:
    """Run everything and return the raw results (see :mod:`benchmarks.report`)."""
    from .core_alone import measure_core

    runs: list[dict[str, Any]] = []
    core_runs: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for rep in range(repeat):
        order = _rotate(list(clients), rep)
        for scenario in scenarios:
            measure = _measure_fn(scenario)
            kwargs = SCENARIO_KWARGS[scenario](scale)
            for client in order:
                if not applies(scenario, client):
                    continue
                _log(f"[{rep + 1}/{repeat}] {scenario:<10} {client:<17} ...")
                try:
                    figures = await measure(client, tls, **kwargs)
                except Exception as exc:  # one failing client must not end the run
                    text = _describe(exc)
                    _log(f"    FAILED: {text}")
                    errors.append(
                        {"rep": rep, "scenario": scenario, "client": client, "error": text}
                    )
                    continue
                _log("    " + ", ".join(f"{k}={_fmt(v)}" for k, v in figures.items()))
                runs.append({"rep": rep, "scenario": scenario, "client": client, **figures})
        if core:
            _log(f"[{rep + 1}/{repeat}] core alone ...")
            try:
                figures = await measure_core(scale)
            except Exception as exc:
                _log(f"    FAILED: {_describe(exc)}\n{traceback.format_exc()}")
                errors.append(
                    {
                        "rep": rep,
                        "scenario": "core",
                        "client": "relay_proto",
                        "error": _describe(exc),
                    }
                )
            else:
                _log("    " + ", ".join(f"{k}={_fmt(v)}" for k, v in figures.items()))
                core_runs.append({"rep": rep, **figures})
    return {
        "meta": _meta(repeat=repeat, scale=scale, clients=clients, scenarios=scenarios),
        "runs": runs,
        "core": core_runs,
        "errors": errors,
    }


def _describe(exc: BaseException) -> str:
    """A readable one-error text, looking through the exception groups of task groups."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    if isinstance(exc, ClientError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _meta(**extra: Any) -> dict[str, Any]:
    versions: dict[str, str] = {}
    from importlib import metadata

    for dist in (
        "relaykit",
        "signalwire-sdk",
        "wsproto",
        "websockets",
        "anyio",
        "trio",
        "uvloop",
        "orjson",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "versions": versions,
        **extra,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="relaykit vs the official SignalWire SDK on the same local emulator.",
    )
    p.add_argument("--repeat", type=int, default=5, help="repetitions (medians are reported)")
    p.add_argument(
        "--scale", type=float, default=1.0, help="multiply every count (e.g. 0.05 for a smoke run)"
    )
    p.add_argument(
        "--clients",
        default=",".join(CLIENTS),
        help="comma-separated clients (those not installed are skipped); also: bare-wsproto",
    )
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated scenarios")
    p.add_argument("--no-core", action="store_true", help="skip the socket-less core benchmark")
    p.add_argument("--results-dir", default=str(RESULTS_DIR), help="where the raw JSON goes")
    p.add_argument(
        "--no-docs", action="store_true", help="do not rewrite docs/performance.md and the chart"
    )
    p.add_argument(
        "--otel",
        action="store_true",
        help="instead: what OpenTelemetry costs (benchmarks/otel_overhead.py)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the suite, print the table, write the raw JSON and (by default) the docs."""
    from . import report

    args = _parser().parse_args(argv)
    if args.otel:
        from .otel_overhead import main as otel_main

        return otel_main(repeat=args.repeat, scale=args.scale, results_dir=args.results_dir)
    installed = set(available_clients()) | {"bare-wsproto"}
    wanted = [c.strip() for c in args.clients.split(",") if c.strip()]
    clients = [c for c in wanted if c in installed]
    skipped = [c for c in wanted if c not in installed]
    if skipped:
        _log(f"not installed, skipped: {', '.join(skipped)}")
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for s in scenarios:
        if s not in SCENARIO_KWARGS:
            raise SystemExit(f"unknown scenario {s!r}; choose from {', '.join(SCENARIOS)}")
    if args.repeat < 1 or args.scale <= 0:
        raise SystemExit("--repeat must be >= 1 and --scale > 0")
    tls = make_tls()
    results: dict[str, Any] = {}

    async def go() -> None:
        results.update(
            await run_suite(
                clients=clients,
                scenarios=scenarios,
                repeat=args.repeat,
                scale=args.scale,
                tls=tls,
                core=not args.no_core,
            )
        )

    run_parent(go)
    summary = report.summarize(results)
    results["summary"] = summary
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    raw_path = out_dir / f"bench-{stamp}.json"
    raw_path.write_text(json.dumps(results, indent=2))
    (out_dir / "latest.json").write_text(json.dumps(results, indent=2))
    print(report.format_table(summary, results["meta"]))
    _log(f"raw results: {raw_path}")
    if not args.no_docs:
        md, png = report.write_docs(results)
        _log(f"wrote {md} and {png}")
    return 1 if results["errors"] and not results["runs"] else 0
