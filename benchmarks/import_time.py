"""Benchmark 4: import time, what ``import relay_anyio`` costs a program before it does anything.

Each figure is the median of *runs* fresh interpreters, each running
``python -X importtime -c "import <module>"``; one run's value is the
cumulative time of the module's top-level line (its whole import, the
packages it pulls in included, the interpreter's own start-up excluded).

One unmeasured process first writes any missing bytecode caches (whatever
``PYTHONDONTWRITEBYTECODE`` says), so that no run pays for compiling: the
installed official SDK has its ``.pyc`` files, and so does an installed
relaykit (pip compiles at install); an editable checkout without them would
measure the compiler, not the import (about twice the time).

The modules are what a program imports: ``relay_anyio`` for relaykit on
asyncio or uvloop (the loop is chosen later, at run time), ``relay_trio`` for
relaykit on trio, ``signalwire.relay`` for the official SDK.  The bare ceiling
is no library and is not measured.

Run alone: ``python -m benchmarks.import_time --client official``.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

import anyio

from ._common import TlsMaterial, median

__all__ = ["MODULES", "RUNS", "import_us", "measure"]

#: Runs (fresh processes) per figure at scale 1.
RUNS = 9

#: The module each client's programs import.
MODULES: dict[str, str] = {
    "relaykit-asyncio": "relay_anyio",
    "relaykit-uvloop": "relay_anyio",
    "relaykit-trio": "relay_trio",
    "official": "signalwire.relay",
}

# "import time: <self us> | <cumulative us> | <indent><module>"
_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)")


def import_us(stderr: str, module: str) -> int:
    """The cumulative microseconds of *module*'s top-level line in ``-X importtime`` output.

    Raises:
        ValueError: the output has no top-level line for *module* (it was
            already imported by start-up, or the import failed).
    """
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match and not match.group(2) and match.group(3) == module:
            return int(match.group(1))
    raise ValueError(f"no top-level import-time line for {module!r} in:\n{stderr[-2000:]}")


async def _one(module: str, *, write_bytecode: bool = False) -> int:
    env = None
    if write_bytecode:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = await anyio.run_process(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"], check=False, env=env
    )
    stderr = result.stderr.decode(errors="replace")
    if result.returncode != 0:
        raise RuntimeError(f"import {module} failed (exit {result.returncode}):\n{stderr[-2000:]}")
    return import_us(stderr, module)


async def measure(
    client: str, tls: TlsMaterial | None = None, *, runs: int = RUNS
) -> dict[str, Any]:
    """Time ``import`` of *client*'s module in *runs* fresh interpreters.

    Args:
        client: One of :data:`MODULES`.
        tls: Unused (the runner passes every scenario its TLS material).
        runs: Fresh processes to take the median of.

    Returns:
        ``import_ms`` (the median), ``import_ms_min`` and ``import_runs``.
    """
    module = MODULES.get(client)
    if module is None:
        raise ValueError(f"client {client!r} has no module to import (known: {sorted(MODULES)})")
    # Warm-up: the page cache, and the bytecode caches, written even when
    # PYTHONDONTWRITEBYTECODE is set: an installed wheel has them (pip compiles
    # at install), and a run that compiles every module measures the compiler.
    await _one(module, write_bytecode=True)
    values = [await _one(module) / 1000 for _ in range(max(1, runs))]
    return {"import_ms": median(values), "import_ms_min": min(values), "import_runs": len(values)}


if __name__ == "__main__":
    from ._main_one import main_one

    main_one("import", measure)
