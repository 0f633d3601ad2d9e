"""The request table: every request that still waits for its outcome.

The session layer guarantees that each request gets exactly one outcome
(response, failure, timeout or cancellation).  This module is the ledger
that makes that guarantee easy to keep: a request is in the table until the
session *takes* it out, and every way of taking one out (answered, expired,
cancelled) removes it, so nothing can be answered twice or forgotten.

Three views over the same requests, kept consistent here:

* ``_pending``: id -> request, for answering responses (O(1)).
* ``_queue``: the requests not yet on the wire, in FIFO order.  Entries that
  expire while queued are skipped lazily when the queue is drained, so a
  timeout never has to search the deque.
* ``_timers``: a heap of ``(deadline, id)``, also with lazy deletion.  An
  entry is live only while its id is pending *with that same deadline*, which
  stays correct even if an id is reused after its request finished.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator
from typing import Final

__all__ = ["CONNECT", "INTERNAL", "PING", "USER", "PendingRequest", "RequestTable"]

#: Request kinds: a caller's request, or one the session sends for itself.
USER: Final = 0
CONNECT: Final = 1
PING: Final = 2
#: Sent by the core on its own account (``calling.end`` for an abandoned dial's
#: legs, ``calling.pass`` past the call cap): outcomes go to the router, and no
#: request event is emitted, since nobody outside the core knows the id.
INTERNAL: Final = 3


class PendingRequest:
    """One request waiting for its outcome (queued or on the wire).

    Attributes:
        id: The JSON-RPC id.
        method: The RELAY method.
        text: The encoded request, ready to send (encoded once, at creation).
        deadline: When it times out (absolute, on the caller's clock).
        timeout: The timeout it was given, for :class:`~relay_proto.RequestTimedOut`.
        kind: :data:`USER`, :data:`CONNECT`, :data:`PING` or :data:`INTERNAL`.
        sent: True once it went out on the current socket.
    """

    __slots__ = ("deadline", "id", "kind", "method", "sent", "text", "timeout")

    def __init__(
        self, request_id: str, method: str, text: str, deadline: float, timeout: float, kind: int
    ) -> None:
        self.id = request_id
        self.method = method
        self.text = text
        self.deadline = deadline
        self.timeout = timeout
        self.kind = kind
        self.sent = False


class RequestTable:
    """Pending requests by id, the offline FIFO queue and the timeout heap."""

    __slots__ = ("_pending", "_queue", "_queued", "_timers")

    def __init__(self) -> None:
        self._pending: dict[str, PendingRequest] = {}
        self._queue: deque[PendingRequest] = deque()
        # Live entries in _queue (expired ones are still in the deque until drained).
        self._queued = 0
        self._timers: list[tuple[float, str]] = []

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._pending

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def queued(self) -> int:
        """How many requests wait for a socket (the offline queue's size)."""
        return self._queued

    def add(self, req: PendingRequest, *, queue: bool) -> None:
        """Track *req*; with ``queue=True`` it also waits in the offline FIFO."""
        self._pending[req.id] = req
        heapq.heappush(self._timers, (req.deadline, req.id))
        if queue:
            self._queue.append(req)
            self._queued += 1

    def take_answered(self, request_id: object) -> PendingRequest | None:
        """Remove and return the request a response answers, if it was sent.

        A response to an id we never sent (or sent on an earlier socket, or
        already answered) returns None: the server cannot answer a request that
        is still in the offline queue.
        """
        req = self._pending.get(request_id) if isinstance(request_id, str) else None
        if req is None or not req.sent:
            return None
        del self._pending[req.id]
        return req

    def take_queued(self, request_id: str) -> PendingRequest | None:
        """Remove and return a request that still waits in the offline queue, if it does.

        Its queue entry is skipped lazily by :meth:`drain_queue`, like an
        expired one (the ``pending.get(id) is req`` check fails once removed).
        """
        req = self._pending.get(request_id)
        if req is None or req.sent:
            return None
        del self._pending[request_id]
        self._queued -= 1
        return req

    def drain_queue(self) -> Iterator[PendingRequest]:
        """Yield the queued requests in FIFO order, each exactly once.

        The caller transmits each one (which marks it sent).  Requests that
        expired while queued are skipped: they already had their outcome.
        """
        queue = self._queue
        pending = self._pending
        while queue:
            req = queue.popleft()
            if pending.get(req.id) is req and not req.sent:
                self._queued -= 1
                yield req

    def take_sent(self) -> list[PendingRequest]:
        """Remove and return every request on the wire (the socket is gone).

        Queued requests stay: they go out on the next socket.
        """
        sent = [req for req in self._pending.values() if req.sent]
        for req in sent:
            del self._pending[req.id]
        return sent

    def queued_ids(self) -> set[str]:
        """Ids of the requests still waiting in the offline queue."""
        pending = self._pending
        return {r.id for r in self._queue if pending.get(r.id) is r and not r.sent}

    def take_all(self) -> list[PendingRequest]:
        """Remove and return everything (user close, fatal authentication)."""
        everything = list(self._pending.values())
        self._pending.clear()
        self._queue.clear()
        self._queued = 0
        self._timers.clear()
        return everything

    def take_expired(self, now: float) -> list[PendingRequest]:
        """Remove and return the requests whose deadline is at or before *now*."""
        heap = self._timers
        pending = self._pending
        expired = []
        while heap and heap[0][0] <= now:
            deadline, request_id = heapq.heappop(heap)
            req = pending.get(request_id)
            if req is not None and req.deadline == deadline:
                del pending[request_id]
                if not req.sent:
                    self._queued -= 1
                expired.append(req)
        return expired

    def next_deadline(self) -> float | None:
        """The earliest live deadline, discarding stale heap entries on the way."""
        heap = self._timers
        pending = self._pending
        while heap:
            deadline, request_id = heap[0]
            req = pending.get(request_id)
            if req is not None and req.deadline == deadline:
                return deadline
            heapq.heappop(heap)
        return None
