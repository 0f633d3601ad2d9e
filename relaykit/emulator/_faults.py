"""The fault plan: which requests the emulator answers wrongly, and how late (sans-IO).

Tests of a client's error paths need a server that misbehaves on demand.  The
plan holds the *request-level* faults the server consults for every request:

* :meth:`FaultPlan.fail_next` queues canned failures per method;
  ``EmulatorServer._handle_request`` takes one with :meth:`FaultPlan.take`
  before running the method;
* :attr:`FaultPlan.response_delay` holds every answer back by real seconds
  (a slow platform; the client's request timeouts, relay-protocol.md §3.8).

Connection-level faults (half-open sockets, raw frames, a server
``signalwire.disconnect``) act on connections, so they live with the
connections in :mod:`._netfaults`; the adapter exposes both kinds as
``Emulator.fail_next``, ``go_half_open``, ``server_disconnect``, ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["AUTH_ERROR", "FaultPlan", "InjectedFault"]

#: ``data`` of the emulator's own "not authenticated yet" error (§2.5).
AUTH_ERROR: Final = {"signalwire_error_code": "AUTH_REQUIRED"}


@dataclass(frozen=True, slots=True)
class InjectedFault:
    """One canned failure: a RELAY result code (str) or a JSON-RPC error code (int)."""

    code: str | int
    message: str

    def as_reply(self, method: str) -> tuple[str, Any]:
        """How the server answers with this fault.

        Returns:
            ``("error", (code, message, data))`` for a JSON-RPC error, or
            ``("result", {"code": ..., "message": ...})`` for a RELAY failure
            result.  A string code on ``signalwire.connect`` becomes ``-32000``:
            connect results are never code-checked (§2.5), so only an error
            frame can fail a connect.
        """
        if isinstance(self.code, int):
            return "error", (self.code, self.message, None)
        if method == "signalwire.connect":
            return "error", (-32000, self.message, AUTH_ERROR)
        return "result", {"code": self.code, "message": self.message}


@dataclass(slots=True)
class FaultPlan:
    """The queued request faults and the response delay (see module docstring)."""

    response_delay: float = 0.0
    _queued: dict[str, list[InjectedFault]] = field(default_factory=dict)
    _lost_answers: dict[str, int] = field(default_factory=dict)

    def lose_answer_to_next(self, method: str, count: int = 1) -> None:
        """The next *count* requests of *method* run, but their answers are lost.

        The request takes effect (a dial starts ringing, a play plays) and its
        events go out as usual; only the JSON-RPC answer never reaches the
        client, as when the socket dies while the answer is in flight (drop the
        connection next to complete the picture).
        """
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count!r}")
        self._lost_answers[method] = self._lost_answers.get(method, 0) + count

    def take_lost_answer(self, method: str) -> bool:
        """Whether this request of *method* is one whose answer is to be lost (consumed)."""
        left = self._lost_answers.get(method)
        if not left:
            return False
        if left == 1:
            del self._lost_answers[method]
        else:
            self._lost_answers[method] = left - 1
        return True

    def fail_next(
        self,
        method: str,
        code: str | int = "500",
        message: str = "Injected failure",
        count: int = 1,
    ) -> None:
        """Answer the next *count* requests of *method* with *code* and *message*.

        A string code is a RELAY result code (``{"code": "500", ...}``); an int is
        a JSON-RPC error code (see :meth:`InjectedFault.as_reply`).
        """
        self._queued.setdefault(method, []).extend([InjectedFault(code, message)] * count)

    def take(self, method: str) -> InjectedFault | None:
        """The next queued fault for *method* (removed from the plan), or ``None``."""
        queue = self._queued.get(method)
        if not queue:
            return None
        fault = queue.pop(0)
        if not queue:
            del self._queued[method]
        return fault
