"""The benchmark client written once against the seed API (``signalwire.relay``).

The same code runs the official SDK (``signalwire.relay.RelayClient``) and
relaykit (``relay_anyio.RelayClient`` on asyncio or uvloop, ``relay_trio.RelayClient``
on trio): only the import and the event loop differ, exactly what a user switching
libraries would change.  It is started in its own process by :mod:`benchmarks._child`
and reports over stdout (JSON lines, see :func:`benchmarks._common.emit`).

Scenarios:

``calls``
    Subscribe to the bench context; the handler answers every inbound call and
    waits for it to end.  Once *count* calls are answered it reports
    ``{"answered": count}``; it then idles until the parent stops the process
    (the parent floods events at the held calls and measures this process).
``roundtrip``
    Answer the first inbound call, then ``await call.play(...)`` *count* times in
    sequence (after a short warm-up), timing each with ``perf_counter_ns``;
    report ``{"latencies_ns": [...]}``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from ._common import emit
from ._memtrace import MemTrace

__all__ = ["WARMUP_PLAYS", "run_calls", "run_roundtrip"]

#: Plays sent before the timed ones (imports, first-use caches, allocator warm-up).
WARMUP_PLAYS = 50

#: The wire media shape (protocol reference §4.2), accepted unchanged by both SDKs.
MEDIA: list[dict[str, Any]] = [{"type": "tts", "params": {"text": "benchmark"}}]


async def run_calls(
    client_cls: Any,
    sleep_forever: Callable[[], Awaitable[Any]],
    *,
    host: str,
    project: str,
    token: str,
    context: str,
    count: int,
) -> None:
    """Hold every inbound call until it ends; report once *count* are answered."""
    trace = MemTrace.from_env()
    client = client_cls(project=project, token=token, host=host, contexts=[context])
    answered = 0

    @client.on_call
    async def on_call(call: Any) -> None:
        nonlocal answered
        await call.answer()
        answered += 1
        if answered == count:
            if trace is not None:
                trace.report(count)
            emit({"answered": answered})
        await call.wait_for_ended()

    async with client:
        if trace is not None:
            trace.baseline()
        emit({"ready": True})
        await sleep_forever()


async def run_roundtrip(
    client_cls: Any,
    sleep_forever: Callable[[], Awaitable[Any]],
    *,
    host: str,
    project: str,
    token: str,
    context: str,
    count: int,
) -> None:
    """Time *count* sequential ``await call.play(...)`` on the first inbound call."""
    client = client_cls(project=project, token=token, host=host, contexts=[context])
    started = False

    @client.on_call
    async def on_call(call: Any) -> None:
        nonlocal started
        if started:  # only the first call is timed; others are left ringing
            return
        started = True
        await call.answer()
        clock = time.perf_counter_ns
        latencies: list[int] = []
        for i in range(WARMUP_PLAYS + count):
            t0 = clock()
            await call.play(MEDIA)
            if i >= WARMUP_PLAYS:
                latencies.append(clock() - t0)
        emit({"latencies_ns": latencies})
        await call.hangup()

    async with client:
        emit({"ready": True})
        await sleep_forever()
