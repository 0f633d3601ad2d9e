"""Long fuzz runs: ``python -m fuzz --minutes N [--target NAME] [--atheris]``.

Without ``--atheris`` every target runs in rounds of hypothesis examples
(random, not derandomized) until the time is up; a finding stops the run and
hypothesis prints the minimal failing input.  With ``--atheris`` (needs the
optional ``atheris`` package) the bytes target runs under libFuzzer instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time

from .targets import TARGETS, bytes_after_handshake, run_target


def _atheris(seconds: int) -> int:
    try:
        atheris = importlib.import_module("atheris")
    except ImportError:
        print("atheris is not installed (pip install atheris); use the hypothesis targets")
        return 2

    def one(data: bytes) -> None:
        bytes_after_handshake(data)

    atheris.Setup([sys.argv[0], f"-max_total_time={seconds}"], one)
    atheris.Fuzz()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="total run time")
    parser.add_argument("--target", choices=sorted(TARGETS), action="append", help="repeatable")
    parser.add_argument("--round", type=int, default=500, help="examples per target per round")
    parser.add_argument("--atheris", action="store_true", help="run the bytes target under atheris")
    args = parser.parse_args(argv)
    # Hostile input makes the core log a warning per skipped frame; keep the run
    # readable, and put the level back afterwards (main() also runs in-process in tests).
    logger = logging.getLogger("relaykit")
    saved = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return _run(args)
    finally:
        logger.setLevel(saved)


def _run(args: argparse.Namespace) -> int:
    if args.atheris:
        return _atheris(int(args.minutes * 60))
    names = args.target or sorted(TARGETS)
    deadline = time.monotonic() + args.minutes * 60
    rounds = 0
    while time.monotonic() < deadline:
        for name in names:
            start = time.monotonic()
            run_target(name, args.round)
            print(
                f"round {rounds}: {name}: {args.round} examples in {time.monotonic() - start:.1f} s"
            )
            if time.monotonic() >= deadline:
                break
        rounds += 1
    print(f"no findings in {rounds} round(s) of {len(names)} target(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
