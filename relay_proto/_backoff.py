"""Reconnect backoff: when to try the next socket (protocol reference §3.8).

The policy:

* The first delay after losing a socket is 1 s.  Each further failed attempt
  doubles it, up to 30 s: 1, 2, 4, 8, 16, 30, 30, ... seconds.
* The count resets only once a session has stayed *authenticated* for a
  stable period (``BACKOFF_RESET_AFTER``, 10 s by default; the
  ``reconnect_reset_after`` option of ``RelayConnection``), measured from
  ``SessionAuthenticated`` to the loss of that socket.  A socket that opens,
  or even authenticates, and is then dropped or rejected within that period
  counts as one more failed attempt.

  This departs from the official Python client on purpose: it resets as soon
  as a WebSocket opens, before authentication, so a server that accepts
  sockets and then drops them (a flapping load balancer, an overloaded node
  that rejects sessions) is hammered about once a second forever.  Here such
  a server sees 1, 2, 4, ... 30 s, like one that refuses connections.
* Jitter spreads reconnect storms.  The core never draws randomness itself;
  the injected ``jitter()`` returns a float in ``[0, 1)`` and adds up to 10 %
  of the delay.  The result is still capped at 30 s, so every delay lies in
  ``[1, 30]``.  A misbehaving ``jitter`` (NaN, out of range) counts as 0.
* The 1 s and 30 s bounds are the defaults of ``RelayConnection``'s
  ``reconnect_min_delay`` / ``reconnect_max_delay`` (tests shorten them).

This module only does arithmetic and remembers the scheduled time.  The
session emits :class:`~relay_proto.ReconnectScheduled`, and the caller opens
the socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

__all__ = [
    "BACKOFF_FACTOR",
    "BACKOFF_MAX",
    "BACKOFF_MIN",
    "BACKOFF_RESET_AFTER",
    "JITTER_FRACTION",
    "Backoff",
]

BACKOFF_MIN: Final = 1.0
BACKOFF_MAX: Final = 30.0
#: Seconds a session must stay authenticated before its loss restarts the
#: backoff at ``BACKOFF_MIN`` (shorter-lived sessions keep the delays growing).
BACKOFF_RESET_AFTER: Final = 10.0
#: Each failed attempt multiplies the delay by this (1, 2, 4, ... 30 s).
BACKOFF_FACTOR: Final = 2.0
JITTER_FRACTION: Final = 0.1
# Stop doubling long before 2.0**n could overflow (any cap is reached well before).
_MAX_DOUBLINGS: Final = 512


class Backoff:
    """Reconnect delays and the currently scheduled reconnect time.

    Args:
        jitter: Returns a float in ``[0, 1)`` (injected; the core has no randomness).
        min_delay: The first delay (validated by the caller: ``0 < min <= max``).
        max_delay: The cap.

    Attributes:
        at: When the scheduled reconnect is due, or None when none is scheduled.
        armed: True until :meth:`fire` saw the time pass (keeps ``get_timer`` honest).
    """

    __slots__ = ("_attempt", "_jitter", "armed", "at", "max_delay", "min_delay")

    def __init__(
        self,
        jitter: Callable[[], float],
        min_delay: float = BACKOFF_MIN,
        max_delay: float = BACKOFF_MAX,
    ) -> None:
        self._jitter = jitter
        self.min_delay = min_delay
        self.max_delay = max_delay
        self._attempt = 0
        self.at: float | None = None
        self.armed = False

    def reset(self) -> None:
        """A session proved stable: the next loss starts again at ``min_delay``."""
        self._attempt = 0

    def schedule(self, now: float) -> tuple[float, int]:
        """Schedule the next attempt; returns ``(delay, attempt number)``, 1-based."""
        attempt = self._attempt
        cap = self.max_delay
        base = min(self.min_delay * BACKOFF_FACTOR ** min(attempt, _MAX_DOUBLINGS), cap)
        jitter = self._jitter()
        # "not (0 <= j < 1)" is also true for NaN, so a broken source adds nothing.
        if not (isinstance(jitter, (int, float)) and 0.0 <= jitter < 1.0):
            jitter = 0.0
        delay = min(base + base * JITTER_FRACTION * jitter, cap)
        self._attempt = attempt + 1
        self.at = now + delay
        self.armed = True
        return delay, attempt + 1

    def is_stale_report(self, now: float) -> bool:
        """True when a connection loss at *now* is a duplicate, not a failed attempt.

        Before the scheduled time nobody can have tried a new socket yet, so a
        report then is about the socket we already gave up on.
        """
        return self.at is None or now < self.at

    def fire(self, now: float) -> None:
        """The timer ran: once the time has passed, stop reporting it as a deadline."""
        if self.armed and self.at is not None and now >= self.at:
            self.armed = False

    def clear(self) -> None:
        """A socket was made (or the client closed): nothing is scheduled any more."""
        self.at = None
        self.armed = False

    @property
    def deadline(self) -> float | None:
        """The reconnect time while it is still a pending deadline for ``get_timer``."""
        return self.at if self.armed else None
