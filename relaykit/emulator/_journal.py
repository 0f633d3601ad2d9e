"""The emulator's journal of frames, and its small value types."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["Journal", "JournalEntry"]


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One frame, in or out.

    Attributes:
        seq: Position in the journal (increasing).
        time: The ``now`` of the emulator when the frame passed.
        conn_id: The connection.
        direction: ``"in"`` (client to emulator) or ``"out"``.
        kind: ``"request"``, ``"response"``, ``"error"`` (JSON-RPC error),
            ``"invalid"`` (not JSON-RPC) or ``"raw"`` (injected by a fault).
        method: The request's method; for responses, the method of the request
            answered (``"signalwire.event"`` for an event ACK).
        id: The JSON-RPC id.
        data: Request ``params``, response ``result``, error object, or for
            invalid/raw frames ``{"reason": ..., "excerpt": ...}``.  Shared, do not mutate.
    """

    seq: int
    time: float
    conn_id: int
    direction: str
    kind: str
    method: str | None
    id: str | int | None
    data: dict[str, Any]

    @property
    def event_type(self) -> str | None:
        """The ``event_type`` of a ``signalwire.event`` request, else ``None``."""
        if self.method == "signalwire.event" and self.kind == "request":
            value = self.data.get("event_type")
            return value if isinstance(value, str) else None
        return None

    @property
    def event_params(self) -> dict[str, Any]:
        """The inner ``params`` of a ``signalwire.event`` (``{}`` otherwise)."""
        inner = self.data.get("params") if self.event_type is not None else None
        return inner if isinstance(inner, dict) else {}

    def matches(self, method: str | None, direction: str | None) -> bool:
        """True if the entry has *method* (or event type) and *direction* (``None`` = any)."""
        if direction is not None and self.direction != direction:
            return False
        return method is None or self.method == method or self.event_type == method


class Journal:
    """A bounded, queryable record of frames (oldest dropped past ``maxlen``)."""

    __slots__ = ("_entries", "_seq", "enabled")

    def __init__(self, maxlen: int = 200_000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=maxlen)
        self._seq = 0
        self.enabled = True

    def add(
        self,
        time: float,
        conn_id: int,
        direction: str,
        kind: str,
        method: str | None,
        msg_id: str | int | None,
        data: dict[str, Any],
    ) -> None:
        """Append one entry (no-op when disabled)."""
        if self.enabled:
            self._seq += 1
            self._entries.append(
                JournalEntry(self._seq, time, conn_id, direction, kind, method, msg_id, data)
            )

    @property
    def total(self) -> int:
        """How many entries were ever added."""
        return self._seq

    def query(
        self, method: str | None = None, direction: str | None = None, conn_id: int | None = None
    ) -> list[JournalEntry]:
        """Entries matching the filters, oldest first."""
        return [
            e
            for e in self._entries
            if e.matches(method, direction) and (conn_id is None or e.conn_id == conn_id)
        ]

    def count(self, method: str | None = None, direction: str | None = None) -> int:
        """How many retained entries match."""
        return sum(1 for e in self._entries if e.matches(method, direction))

    def clear(self) -> None:
        """Forget every entry (the sequence keeps counting)."""
        self._entries.clear()
