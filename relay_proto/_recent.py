"""A fixed-size window of recently seen ids, for dropping redelivered server input.

RELAY asks the client to ACK every ``signalwire.event`` (``event_acks: true``).
An ACK that was written just before a socket died may never reach the server,
which can then deliver the same event again on the resumed session; a
``messaging.receive`` or ``calling.call.receive`` may also be offered twice.
The core ACKs every copy (the server must stop resending) but hands only the
first to the application.

Remembering every id for ever would grow without bound on a long-lived
worker, so only the most recent ``size`` ids are kept: a redelivery arrives
within seconds of the original, long before thousands of newer ids have pushed
it out.  Memory is O(size) whatever the traffic.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Final

__all__ = ["MAX_RECENT_CALLS", "MAX_RECENT_EVENT_IDS", "MAX_RECENT_MESSAGES", "RecentIds"]

#: ``signalwire.event`` request ids remembered per session, to drop redeliveries.
MAX_RECENT_EVENT_IDS: Final = 4096
#: ``call_id`` values remembered of ended calls whose ``calling.call.receive``
#: was delivered (a live call's own record says so while it lasts).
MAX_RECENT_CALLS: Final = 1024
#: ``message_id`` values of delivered ``messaging.receive`` events remembered.
MAX_RECENT_MESSAGES: Final = 1024


class RecentIds:
    """The last *size* distinct ids added, with O(1) add, membership and eviction.

    A dict answers membership and a ring of *size* slots, allocated once, says
    which id is the oldest, so the oldest is evicted by key, never by scanning.
    (The dict's values are unused: a dict of string keys is a dense entry table
    of 16 bytes an id behind a small index, where CPython's set is a sparse
    table of 16-byte slots that grows fourfold and keeps a dummy slot for every
    eviction until it is rebuilt: 128 KiB against 26 KiB for 1,300 ids, 512 KiB
    against about 210 KiB for a full window of 4,096.  Popping the dict from its
    front instead of keeping a ring would scan the deleted slots on every
    ``next(iter(d))``, quadratic until the next resize.)

    Args:
        size: How many ids are kept (at least 1).
    """

    __slots__ = ("_filled", "_next", "_ring", "_seen", "size")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size!r}")
        self.size = size
        self._seen: dict[Hashable, None] = {}
        self._ring: list[Hashable] = [None] * size
        self._next = 0  # the ring slot written next: it holds the oldest id once full
        self._filled = 0  # ring slots written so far (at most size)

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, item: object) -> bool:
        return item in self._seen

    def add(self, item: Hashable) -> bool:
        """Remember *item*; returns False when it was already in the window (a duplicate)."""
        seen = self._seen
        if item in seen:
            return False
        seen[item] = None
        ring = self._ring
        position = self._next
        if self._filled == self.size:
            seen.pop(ring[position], None)
        else:
            self._filled += 1
        ring[position] = item
        position += 1
        self._next = 0 if position == self.size else position
        return True

    def discard(self, item: Hashable) -> None:
        """Forget *item* (it may come again legitimately, e.g. a call passed back).

        Its place in the ring stays until it ages out; if *item* is added again
        meanwhile, that older place may evict it a little early.  The bound
        holds either way: the dict and the ring never hold more than ``size``.
        """
        self._seen.pop(item, None)

    def clear(self) -> None:
        """Forget everything (a brand-new session cannot redeliver the old one's events)."""
        self._seen.clear()
        self._ring[:] = [None] * self.size
        self._next = self._filled = 0

    @property
    def footprint(self) -> tuple[int, int]:
        """``(ids remembered, ring slots used)``: for tests that check the memory bound."""
        return len(self._seen), self._filled
