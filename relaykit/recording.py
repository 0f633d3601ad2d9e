"""Record a real RELAY session to a JSONL journal, secrets scrubbed.

``RelayClient(record=...)`` hands every text frame the core sends or receives to
a :class:`SessionRecorder`, which writes one line per frame in the emulator's
journal format (:class:`relaykit.emulator.JournalEntry`'s fields as keys), so a
real call can become a test case or a picture::

    client = RelayClient(contexts=["office"], record="session.jsonl")
    ...
    # later:  relaykit trace session.jsonl -o session.html

(or ``RELAYKIT_RECORD=session.jsonl``, with the program unchanged).  Each socket
gets the next ``conn_id``.  :func:`load_journal` reads such a file (or the
emulator's ``save_journal``) back; :func:`caller_from_journal` and
:func:`program_commands` turn one recorded inbound call into a test against the
emulator (docs/testing.md, "Turn a real call into a test case").

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
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any, Final

from relay_proto import rpc

if TYPE_CHECKING:
    from relaykit.emulator import Caller, JournalEntry

__all__ = [
    "SCRUBBED",
    "SECRET_KEYS",
    "SessionRecorder",
    "caller_from_journal",
    "inbound_calls",
    "load_journal",
    "program_commands",
    "scrub",
]

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

    Each socket gets its own ``conn_id`` (1, 2, ...), as in the emulator's
    journal: the core sends ``signalwire.connect`` first on every socket, so a
    ``signalwire.connect`` the program sends starts the next connection (or
    call :meth:`new_connection` before a socket's first frame).

    Args:
        target: A path (opened for writing at once, truncated) or an open text
            file (written and flushed, never closed here).
        clock: Seconds for the ``time`` field (the client passes its loop clock).

    Raises:
        OSError: *target* cannot be opened.
        TypeError: *target* is neither a path nor a text file.
    """

    def __init__(
        self, target: str | os.PathLike[str] | IO[str], clock: Callable[[], float]
    ) -> None:
        self._path: str | os.PathLike[str] | None = None
        self._file: IO[str] | None
        if isinstance(target, (str, os.PathLike)):
            self._path = target
            self._file = open(target, "w", encoding="utf-8")  # noqa: SIM115
        elif callable(getattr(target, "write", None)):
            self._file = target
        else:
            raise TypeError(f"record= takes a path or a text file, got {type(target).__name__}")
        self._clock = clock
        self._seq = 0
        self.conn_id = 0
        self._frames_on_conn = 0
        # JSON-RPC id -> method, per direction the request went (answers go the other way).
        self._methods: dict[str, dict[str | int, str]] = {"in": {}, "out": {}}
        self._failed = False

    @property
    def path(self) -> str | os.PathLike[str] | None:
        """The file's path, or ``None`` for a file object given by the caller."""
        return self._path

    def new_connection(self) -> None:
        """A new socket: later entries carry the next ``conn_id``; ids start afresh."""
        self.conn_id += 1
        self._frames_on_conn = 0
        for methods in self._methods.values():
            methods.clear()

    def __call__(self, sent: bool, text: str) -> None:
        """Record one frame: *sent* is True for the program's frames (journal ``in``)."""
        if self._failed:
            return
        direction = "in" if sent else "out"
        try:
            entry = self._entry(direction, text)
            line = json.dumps(entry, ensure_ascii=False, default=repr) + "\n"
            file = self._file
            if file is None:  # closed by close() while disconnected: carry on appending
                assert self._path is not None
                file = self._file = open(self._path, "a", encoding="utf-8")  # noqa: SIM115
            file.write(line)
            file.flush()
        except (OSError, ValueError) as exc:  # disk full, file closed: stop, say so once
            self._failed = True
            logger.error("session recording stopped: %s", exc)

    def _entry(self, direction: str, text: str) -> dict[str, Any]:
        msg = rpc.decode(text)
        if (
            direction == "in"
            and type(msg) is rpc.Request
            and msg.method == "signalwire.connect"
            and (self.conn_id == 0 or self._frames_on_conn > 0)
        ):
            self.new_connection()  # the first frame of every socket
        if self.conn_id == 0:
            self.conn_id = 1
        self._seq += 1
        self._frames_on_conn += 1
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
        """Close the file if the recorder opened it (a later frame reopens it to append)."""
        if self._path is not None and self._file is not None:
            file, self._file = self._file, None
            file.close()


# --------------------------------------------------------------------- reading journals
def load_journal(source: str | os.PathLike[str] | IO[str]) -> list[JournalEntry]:
    """The entries of a JSONL journal (a recording, or ``Emulator.save_journal``'s file).

    Blank lines are skipped.

    Raises:
        OSError: *source* cannot be read.
        ValueError: A line is not a journal entry (the message names the line).
    """
    from relaykit._trace_model import normalize_entry, parse_jsonl
    from relaykit.emulator import JournalEntry

    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        with open(source, encoding="utf-8") as file:
            lines = file.readlines()
    else:
        name = getattr(source, "name", "<journal>")
        lines = source.readlines()
    objects, numbers, problems = parse_jsonl(lines)
    if problems:
        raise ValueError(f"{name}:{problems[0].where}: {problems[0].message}")
    entries = []
    for number, obj in zip(numbers, objects, strict=True):
        try:
            frame = normalize_entry(obj)
        except ValueError as exc:
            raise ValueError(f"{name}:{number}: not a journal entry: {exc}") from None
        if frame.seq is None or frame.time is None:
            raise ValueError(f"{name}:{number}: not a journal entry: 'seq' or 'time' missing")
        entries.append(
            JournalEntry(
                frame.seq,
                frame.time,
                frame.conn_id,
                frame.direction,
                frame.kind,
                frame.method,
                frame.id,
                frame.data,
            )
        )
    return entries


def _call_events(entries: Iterable[JournalEntry], call_id: str) -> list[JournalEntry]:
    return [
        e for e in entries if e.event_type is not None and e.event_params.get("call_id") == call_id
    ]


def inbound_calls(entries: Iterable[JournalEntry]) -> list[str]:
    """The ids of the inbound calls offered to the program (``calling.call.receive``), in order."""
    ids: list[str] = []
    for entry in entries:
        if entry.event_type == "calling.call.receive":
            call_id = entry.event_params.get("call_id")
            if isinstance(call_id, str) and call_id not in ids:
                ids.append(call_id)
    return ids


def _only_call(entries: list[JournalEntry], call_id: str | None) -> str:
    calls = inbound_calls(entries)
    if call_id is None:
        if len(calls) != 1:
            raise ValueError(
                f"the journal holds {len(calls)} inbound calls ({calls}); pass call_id="
            )
        return calls[0]
    if call_id not in calls:
        raise ValueError(f"no inbound call {call_id!r} in the journal; it holds {calls}")
    return call_id


def program_commands(entries: Iterable[JournalEntry], call_id: str | None = None) -> list[str]:
    """The ``calling.*`` commands the program sent for one inbound call, in order.

    The same list as the emulator's ``CallRecord.methods`` for a call it placed,
    so a test can check that the program does against the emulator what it did
    in the recorded session.  *call_id* may be left out when the journal holds
    one inbound call.

    Raises:
        ValueError: No such call (or, without *call_id*, not exactly one).
    """
    entries = list(entries)
    call = _only_call(entries, call_id)
    return [
        e.method
        for e in entries
        if e.direction == "in"
        and e.kind == "request"
        and e.method is not None
        and e.method.startswith("calling.")
        and e.data.get("call_id") == call
    ]


def caller_from_journal(entries: Iterable[JournalEntry], call_id: str | None = None) -> Caller:
    """A :class:`~relaykit.emulator.Caller` that does what the recorded caller did.

    Read from one inbound call's events: each collect's result in order (digits
    pressed, with the terminator that ended the collect; speech said; silence;
    a ``no_match`` replays as silence), and,
    when the call ended in ``hangup`` without the program sending
    ``calling.end``, a hang-up that many seconds after the answer.  What a
    caller said into a recording is not on the wire: replace the script's steps
    if the test needs it.

    Raises:
        ValueError: No such call (or, without *call_id*, not exactly one).
    """
    from relaykit.emulator import Caller

    entries = list(entries)
    call = _only_call(entries, call_id)
    script = Caller()
    answered_at: float | None = None
    ended_at: float | None = None
    end_reason: str | None = None
    for event in _call_events(entries, call):
        params = event.event_params
        if event.event_type == "calling.call.collect":
            result = params.get("result")
            if not isinstance(result, dict) or params.get("final") is False:
                continue
            kind = result.get("type")
            found = result.get("params")
            inner: dict[str, Any] = found if isinstance(found, dict) else {}
            if kind == "digit" and inner.get("digits"):
                # The terminator ends the collect at once, as it did for the caller.
                script = script.press(str(inner["digits"]) + str(inner.get("terminator") or ""))
            elif kind == "speech" and inner.get("text"):
                script = script.say(str(inner["text"]))
            elif kind in ("no_input", "no_match"):
                script = script.silence()
        elif event.event_type == "calling.call.state":
            state = params.get("call_state")
            if state == "answered" and answered_at is None:
                answered_at = event.time
            elif state == "ended":
                ended_at, end_reason = event.time, params.get("end_reason")
    hung_up_by_program = any(
        e.direction == "in"
        and e.kind == "request"
        and e.method == "calling.end"
        and e.data.get("call_id") == call
        for e in entries
    )
    if (
        end_reason == "hangup"
        and not hung_up_by_program
        and answered_at is not None
        and ended_at is not None
    ):
        script = script.hangup_after(max(0.0, ended_at - answered_at))
    return script
