"""Shared helpers of the benchmark suite: process accounting, statistics, TLS material.

Everything a measurement reads about a client process comes from ``/proc/<pid>``
(no psutil): CPU time from ``stat`` (user + system clock ticks, all threads) and
memory from ``status`` (``VmRSS`` now, ``VmHWM`` the peak).  The parent samples
the child, so every client -- ours, the official SDK, the bare ceiling -- is
measured by the same code at the same moments.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CLIENTS",
    "CONTEXT",
    "PROJECT",
    "TOKEN",
    "ProcSample",
    "TlsMaterial",
    "available_clients",
    "emit",
    "make_tls",
    "median",
    "percentile",
    "read_proc",
    "wait_cpu_idle",
]

PROJECT = "bench-project"
TOKEN = "bench-token"
CONTEXT = "bench"

#: Every client the suite knows, in the order tables and charts list them.
#: ``official`` is the reference every ratio is taken against.
CLIENTS: tuple[str, ...] = (
    "relaykit-asyncio",
    "relaykit-uvloop",
    "relaykit-trio",
    "official",
    "bare",
)

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _importable(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def available_clients() -> list[str]:
    """The clients whose libraries are installed in this environment.

    ``relaykit-uvloop`` needs ``uvloop``, ``official`` needs ``signalwire-sdk``;
    the bare ceiling uses ``websockets`` when present and falls back to raw
    asyncio + ``wsproto`` otherwise, so it is always available.
    """
    found = []
    for name in CLIENTS:
        if name == "relaykit-uvloop" and not _importable("uvloop"):
            continue
        if name == "relaykit-trio" and not _importable("trio"):
            continue
        if name == "official" and not _importable("signalwire.relay"):
            continue
        found.append(name)
    return found


@dataclass(frozen=True, slots=True)
class ProcSample:
    """One reading of a process's accounting.

    Attributes:
        cpu: User + system CPU seconds of the whole process (all threads).
        rss: Resident set size now, in bytes.
        hwm: Peak resident set size so far ("high water mark"), in bytes.
    """

    cpu: float
    rss: int
    hwm: int


def read_proc(pid: int) -> ProcSample:
    """Read CPU time and memory of process *pid* from ``/proc``.

    Raises:
        OSError: the process is gone (or ``/proc`` is unavailable).
    """
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    # The command name (field 2) may contain spaces and parentheses: split after
    # the last ")" so utime/stime are fields 14 and 15 counting from 1.
    fields = stat[stat.rindex(b")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICK
    rss = hwm = 0
    with open(f"/proc/{pid}/status", "rb") as f:
        for line in f:
            if line.startswith(b"VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith(b"VmHWM:"):
                hwm = int(line.split()[1]) * 1024
    return ProcSample(cpu, rss, hwm)


async def wait_cpu_idle(
    pid: int, *, quiet: float = 0.1, limit: float = 5.0, sleep: Any = None
) -> ProcSample:
    """Wait until process *pid* stops burning CPU, then return its sample.

    Work a client does after its last ACK (dispatching the last events it read)
    is still work caused by the benchmark, so CPU readings are taken only once
    the CPU counter has not moved for *quiet* seconds (or after *limit*).

    Args:
        pid: The process to watch.
        quiet: How long the CPU counter must stay still.
        limit: Give up waiting after this many seconds and return the last sample.
        sleep: ``async (seconds) -> None``; defaults to ``anyio.sleep``.
    """
    if sleep is None:
        import anyio

        sleep = anyio.sleep
    deadline = time.monotonic() + limit
    last = read_proc(pid)
    still_since = time.monotonic()
    while True:
        await sleep(0.01)
        now = time.monotonic()
        cur = read_proc(pid)
        if cur.cpu != last.cpu:
            last, still_since = cur, now
        elif now - still_since >= quiet or now >= deadline:
            return cur


def median(values: Sequence[float]) -> float:
    """The median of *values*; NaN for an empty sequence."""
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """The *q*-th percentile (0..100) of *values*, nearest-rank method; NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return float(ordered[rank - 1])


def emit(obj: dict[str, Any]) -> None:
    """Write one JSON line to stdout (the child -> parent control channel)."""
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


@dataclass(frozen=True, slots=True)
class TlsMaterial:
    """Files of a throw-away certificate authority and a server cert for 127.0.0.1.

    Attributes:
        ca_file: The CA certificate (PEM): what clients trust
            (``SIGNALWIRE_RELAY_CA_FILE``).
        cert_file: The server certificate chain (PEM).
        key_file: The server private key (PEM).
    """

    ca_file: str
    cert_file: str
    key_file: str


def make_tls(directory: str | None = None) -> TlsMaterial:
    """Create a ``trustme`` CA and a server certificate for ``127.0.0.1``/``localhost``.

    Args:
        directory: Where to write the PEM files; a fresh temporary directory if None.
    """
    import trustme

    path = Path(directory or tempfile.mkdtemp(prefix="relaykit-bench-"))
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file = path / "ca.pem"
    cert_file = path / "server.pem"
    key_file = path / "server.key"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    return TlsMaterial(str(ca_file), str(cert_file), str(key_file))
