"""Record a real RELAY session to a JSONL journal, secrets scrubbed.

``RelayClient(record=...)`` hands every text frame the core sends or receives to
a :class:`SessionRecorder`, which writes one line per frame in the emulator's
journal format (:class:`relaykit.emulator.JournalEntry`'s fields as keys), so a
real call can become a test case or a picture::

    client = RelayClient(contexts=["office"], record="session.jsonl")
    ...
    # later:  relaykit trace session.jsonl -o session.html

Directions are the emulator's: ``"in"`` is program to RELAY, ``"out"`` is RELAY
to program, whichever side writes the journal.

What never reaches the file: the values of every ``token``, ``jwt_token``,
``authorization_state``, ``password`` and ``signature`` key, at any depth (the
project id stays: it names the account, it does not open it).  Frames that are
not JSON are kept as an ``invalid`` entry with a short excerpt, scrubbed the same
way by key where they parse and cut to 120 characters where they don't.

The recorder writes synchronously, one short line per frame, and flushes each
line, so a crash loses nothing; it is a debugging tool, not for every call of a
busy production worker.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from typing import IO, Any, Final

from relay_proto import rpc

__all__ = ["SCRUBBED", "SECRET_KEYS", "SessionRecorder", "scrub"]

logger = logging.getLogger("relaykit.recording")

#: Keys whose values are secrets, wherever they appear in a frame.
SECRET_KEYS: Final = frozenset(
    {"token", "jwt_token", "authorization_state", "password", "signature"}
)
#: What a secret's value is replaced with.
SCRUBBED: Final = "[scrubbed]"

_EXCERPT: Final = 120
# A secret-looking "key": "value" pair in text that is not valid JSON.
_SECRET_TEXT: Final = re.compile(
    r'("(?:' + "|".join(sorted(SECRET_KEYS)) + r')"\s*:\s*)"(?:[^"\\]|\\.)*"?'
)


def scrub(value: Any) -> Any:
    """A copy of *value* with every secret (see :data:`SECRET_KEYS`) replaced."""
    if isinstance(value, dict):
        return {k: SCRUBBED if k in SECRET_KEYS else scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def _scrub_text(text: str) -> str:
    """An excerpt of unparseable *text*, with anything secret-shaped replaced."""
    return _SECRET_TEXT.sub(lambda m: m.group(1) + f'"{SCRUBBED}"', text)[:_EXCERPT]


class SessionRecorder:
    """Writes the frames of one client's session as JSONL journal entries.

    Args:
        target: A path (opened for writing, truncated) or an open text file
            (not closed by :meth:`close`).
        clock: Seconds for the ``time`` field (the client passes its loop clock).

    Raises:
        OSError: *target* cannot be opened.
    """

    def __init__(
        self, target: str | os.PathLike[str] | IO[str], clock: Callable[[], float]
    ) -> None:
        if isinstance(target, (str, os.PathLike)):
            self._file: IO[str] = open(target, "w", encoding="utf-8")  # noqa: SIM115
            self._owned = True
        elif hasattr(target, "write"):
            self._file = target
            self._owned = False
        else:
            raise TypeError(f"record= takes a path or a text file, got {type(target).__name__}")
        self._clock = clock
        self._seq = 0
        self.conn_id = 0
        # JSON-RPC id -> method, per direction the request went (answers go the other way).
        self._methods: dict[str, dict[str | int, str]] = {"in": {}, "out": {}}
        self._failed = False

    def new_connection(self) -> None:
        """A new socket: later entries carry the next ``conn_id``; ids start afresh."""
        self.conn_id += 1
        for methods in self._methods.values():
            methods.clear()

    def __call__(self, sent: bool, text: str) -> None:
        """Record one frame: *sent* is True for the program's frames (journal ``in``)."""
        if self._failed:
            return
        direction = "in" if sent else "out"
        entry = self._entry(direction, text)
        try:
            self._file.write(json.dumps(entry, ensure_ascii=False, default=repr) + "\n")
            self._file.flush()
        except (OSError, ValueError) as exc:  # disk full, file closed: stop, say so once
            self._failed = True
            logger.error("session recording stopped: %s", exc)

    def _entry(self, direction: str, text: str) -> dict[str, Any]:
        self._seq += 1
        msg = rpc.decode(text)
        method: str | None = None
        msg_id: str | int | None = None
        if type(msg) is rpc.Request:
            kind, method, msg_id, data = "request", msg.method, msg.id, scrub(msg.params)
            if msg.id is not None:
                methods = self._methods[direction]
                if len(methods) > 10_000:  # unanswered ids must not grow without bound
                    methods.clear()
                methods[msg.id] = msg.method
        elif type(msg) is rpc.Response:
            kind, msg_id, data = "response", msg.id, scrub(msg.result)
            method = self._answered(direction, msg.id)
        elif type(msg) is rpc.ResponseError:
            kind, msg_id = "error", msg.id
            data = scrub({"code": msg.code, "message": msg.message, "data": msg.data})
            method = self._answered(direction, msg.id)
        else:
            kind, data = (
                "invalid",
                {"reason": getattr(msg, "reason", ""), "excerpt": _scrub_text(text)},
            )
        return {
            "seq": self._seq,
            "time": self._clock(),
            "conn_id": self.conn_id,
            "direction": direction,
            "kind": kind,
            "method": method,
            "id": msg_id,
            "data": data,
        }

    def _answered(self, direction: str, msg_id: str | int | None) -> str | None:
        """The method of the request this answer (going *direction*) answers."""
        other = "out" if direction == "in" else "in"
        return self._methods[other].pop(msg_id, None) if msg_id is not None else None

    def close(self) -> None:
        """Close the file if the recorder opened it."""
        if self._owned:
            self._file.close()
