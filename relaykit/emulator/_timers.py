"""The emulator's one timer queue (sans-IO).

Everything that happens "later" in the emulator -- a callee answering after
its ring time, a prompt finishing, a keepalive ping, an injected response
delay -- is a :class:`Timer` in one :class:`Scheduler`.  Nothing here reads a
clock: the adapter asks :meth:`Scheduler.get_timer` for the next deadline,
sleeps until then on its own clock and calls :meth:`Scheduler.handle_timer`
with its ``now``.  This is the aioquic shape (``get_timer`` / ``handle_timer``,
STYLE.md "Time") applied to the server side.

Deadlines are real seconds on the adapter's clock; the world turns simulated
durations into real ones with ``time_scale`` before scheduling (see
``EmulatorServer.scaled``).
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable

__all__ = ["Scheduler", "Timer"]

logger = logging.getLogger("relaykit.emulator")


class Timer:
    """A handle on one scheduled callback; :meth:`cancel` makes it a no-op.

    Cancelling does not remove the entry from the heap (that would cost a
    re-heapify); cancelled entries are skipped when they reach the top.
    """

    __slots__ = ("cancelled", "fn")

    def __init__(self, fn: Callable[[float], None]) -> None:
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        """Do not run the callback (idempotent; harmless after it ran)."""
        self.cancelled = True


class Scheduler:
    """A min-heap of ``(deadline, seq, Timer)``; *seq* keeps equal deadlines FIFO."""

    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()

    def call_later(self, now: float, delay: float, fn: Callable[[float], None]) -> Timer:
        """Run ``fn(deadline_now)`` at ``now + delay`` (real seconds).

        Returns:
            The handle to cancel it with.
        """
        timer = Timer(fn)
        heapq.heappush(self._heap, (now + delay, next(self._seq), timer))
        return timer

    def get_timer(self) -> float | None:
        """The earliest live deadline, or ``None`` when nothing is scheduled.

        Next: sleep until then and call :meth:`handle_timer`.
        """
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def handle_timer(self, now: float) -> None:
        """Run every timer due at *now*, in deadline order.

        Timers scheduled by a callback for a deadline <= *now* run in the same
        pass, so a zero-delay chain settles before the adapter writes.  A
        callback that raises is logged and skipped: one bug in the simulation
        must not stop every other call's clock.
        """
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, timer = heapq.heappop(heap)
            if not timer.cancelled:
                try:
                    timer.fn(now)
                except Exception:  # a bug must not stop the world; say where it was
                    logger.exception("emulator: simulation timer failed")
