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

import functools
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


class _HoldCalls:
    """``calls``: answer every inbound call and hold it until it ends."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.answered = 0
        #: The memory trace (``benchmarks.memory_profile``), baselined once connected.
        self.trace = MemTrace.from_env()

    async def on_call(self, call: Any) -> None:
        await call.answer()
        self.answered += 1
        if self.answered == self.count:
            if self.trace is not None:
                self.trace.report(self.count)
            emit({"answered": self.answered})
        await call.wait_for_ended()


class _TimePlays:
    """``roundtrip``: time *count* sequential plays on the first inbound call."""

    trace = None  # nothing to trace

    def __init__(self, count: int) -> None:
        self.count = count
        self.started = False

    async def on_call(self, call: Any) -> None:
        if self.started:  # only the first call is timed; others are left ringing
            return
        self.started = True
        await call.answer()
        clock = time.perf_counter_ns
        latencies: list[int] = []
        for i in range(WARMUP_PLAYS + self.count):
            t0 = clock()
            await call.play(MEDIA)
            if i >= WARMUP_PLAYS:
                latencies.append(clock() - t0)
        emit({"latencies_ns": latencies})
        await call.hangup()


async def _run(
    scenario: type[_HoldCalls | _TimePlays],
    client_cls: Any,
    sleep_forever: Callable[[], Awaitable[Any]],
    *,
    host: str,
    project: str,
    token: str,
    context: str,
    count: int,
) -> None:
    """Run *scenario*'s handler in a client of *client_cls* until the parent stops us."""
    client = client_cls(project=project, token=token, host=host, contexts=[context])
    handler = scenario(count)
    client.on_call(handler.on_call)
    async with client:
        if handler.trace is not None:
            handler.trace.baseline()
        emit({"ready": True})
        await sleep_forever()


#: Hold every inbound call until it ends; report once *count* are answered.
run_calls = functools.partial(_run, _HoldCalls)
#: Time *count* sequential ``await call.play(...)`` on the first inbound call.
run_roundtrip = functools.partial(_run, _TimePlays)
