"""From journal entries to a sequence diagram's arrows, grouped per call.

Theory of operation
-------------------
A journal entry is one frame that passed the emulator (``JournalEntry``'s fields:
``seq, time, conn_id, direction, kind, method, id, data``).  ``"in"`` frames go
from the program (the RELAY client) to RELAY, ``"out"`` frames the other way.
Each entry becomes one :class:`Arrow` between the *program* and *relay* lanes.

The journal holds no frame of the far end: what the caller did is inferred from
the events that report it, and drawn as *derived* arrows on the *caller* lane
(a ``calling.call.collect`` digit result means the caller pressed digits before
it; an ``ended`` state with no ``calling.end`` from the program means the caller
hung up).  A frame's call is ``params.call_id`` (events: ``params.params.call_id``);
responses and event ACKs carry none, so they take the call of the request or
event with the same JSON-RPC id on the same connection.  Frames with no call
(connect, pings, subscriptions, messaging) go to the session group.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

# The secret keys and their scrubbing have one owner: the session recorder.
from .recording import SCRUBBED, scrub

__all__ = [
    "SCRUBBED",
    "Arrow",
    "Group",
    "Problem",
    "Trace",
    "build_trace",
    "normalize_entry",
    "parse_jsonl",
    "scrub",
]

PROGRAM, RELAY, CALLER = "program", "relay", "caller"
KINDS = frozenset({"request", "response", "error", "invalid", "raw"})
#: Keys whose values never reach a trace (the journal holds connect params as sent).
#: ``end_reason`` / ``calling.end`` reasons that mean the call failed.
FAILED_END_REASONS = frozenset({"error", "busy", "noAnswer", "decline", "failed"})
FAILED_STATES = frozenset({"error", "failed", "undelivered"})


@dataclass(frozen=True, slots=True)
class Problem:
    """One input line or entry that was skipped, and why."""

    where: int  # 1-based line (JSONL) or entry number (render_html)
    message: str


@dataclass(frozen=True, slots=True)
class Frame:
    """A validated journal entry."""

    seq: int | None
    time: float | None
    conn_id: int
    direction: str
    kind: str
    method: str | None
    id: str | int | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Arrow:
    """One arrow of the diagram.

    ``category`` is ``command`` (program request), ``result`` (RELAY response),
    ``event`` (``signalwire.event``), ``ack`` (event ACK), ``server`` (other RELAY
    request, e.g. ``signalwire.ping``), ``reply`` (program's answer to it),
    ``invalid`` (not JSON-RPC / injected raw frame) or ``caller`` (derived).
    """

    source: str
    target: str
    category: str
    label: str
    detail: str
    failed: bool
    derived: bool
    call_id: str | None
    seq: int | None
    time: float | None
    conn_id: int


@dataclass(slots=True)
class Group:
    """The arrows of one call (``call_id``) or of the session (``call_id is None``)."""

    call_id: str | None
    arrows: list[Arrow] = field(default_factory=list)
    direction: str | None = None
    from_number: str | None = None
    to_number: str | None = None
    context: str | None = None
    last_state: str | None = None
    end_reason: str | None = None
    ended_by: str | None = None
    #: Requests (and events) of this group with no response (ACK) in the journal.
    unanswered: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Arrow]:
        """The arrows drawn in red."""
        return [a for a in self.arrows if a.failed]

    def count(self, category: str) -> int:
        """How many arrows of *category*."""
        return sum(1 for a in self.arrows if a.category == category)

    @property
    def duration(self) -> float | None:
        """Seconds from the group's first to its last timed frame."""
        times = [a.time for a in self.arrows if a.time is not None]
        return max(times) - min(times) if times else None


@dataclass(slots=True)
class Trace:
    """Everything the renderer draws."""

    groups: list[Group]
    problems: list[Problem]
    frames: int
    conn_ids: list[int]

    def group(self, call_id: str) -> Group | None:
        """The group of *call_id*, if the journal has it."""
        return next((g for g in self.groups if g.call_id == call_id), None)


# --------------------------------------------------------------------- input
def parse_jsonl(
    lines: Iterable[str | bytes],
) -> tuple[list[dict[str, Any]], list[int], list[Problem]]:
    """Parse JSONL text: the objects, the line number of each, a :class:`Problem` per skip.

    Blank lines are ignored; a line that is not UTF-8, not JSON or not an object
    is reported with its line number.  Shapes are checked by :func:`build_trace`.
    """
    entries: list[dict[str, Any]] = []
    numbers: list[int] = []
    problems: list[Problem] = []
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(Problem(number, f"not UTF-8 ({exc.reason} at byte {exc.start})"))
                continue
        else:
            text = raw
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            problems.append(Problem(number, f"not JSON ({exc})"))
            continue
        if not isinstance(value, dict):
            problems.append(Problem(number, f"not a JSON object (a {type(value).__name__})"))
            continue
        entries.append(value)
        numbers.append(number)
    return entries, numbers, problems


def _optional_number(entry: Mapping[str, Any], key: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{key!r} is {value!r}, not a number")
    return float(value)


def normalize_entry(entry: Mapping[str, Any]) -> Frame:
    """Check one journal entry's shape; raises ``ValueError`` saying what is wrong."""
    if not isinstance(entry, Mapping):
        raise ValueError(f"not an object (a {type(entry).__name__})")
    direction = entry.get("direction")
    if direction not in ("in", "out"):
        raise ValueError(f"'direction' is {direction!r}, expected 'in' or 'out'")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise ValueError(f"'kind' is {kind!r}, expected one of {', '.join(sorted(KINDS))}")
    method = entry.get("method")
    if method is not None and not isinstance(method, str):
        raise ValueError(f"'method' is {method!r}, not a string")
    msg_id = entry.get("id")
    if msg_id is not None and (isinstance(msg_id, bool) or not isinstance(msg_id, (str, int))):
        raise ValueError(f"'id' is {msg_id!r}, not a string or integer")
    data = entry.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"'data' is a {type(data).__name__}, not an object")
    seq = _optional_number(entry, "seq")
    conn = _optional_number(entry, "conn_id")
    if kind == "request" and method is None:
        raise ValueError("a request without 'method'")
    return Frame(
        seq=None if seq is None else int(seq),
        time=_optional_number(entry, "time"),
        conn_id=0 if conn is None else int(conn),
        direction=direction,
        kind=kind,
        method=method,
        id=msg_id,
        data=data,
    )


# --------------------------------------------------------------------- helpers
def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def short_id(value: Any) -> str:
    """A control id as a label shows it: its first 8 characters."""
    text = str(value)
    return text if len(text) <= 9 else text[:8] + "…"


def _detail(frame: Frame) -> str:
    shown: dict[str, Any] = {}
    for key in ("seq", "time", "conn_id", "direction", "kind", "method", "id"):
        shown[key] = getattr(frame, key)
    shown["data"] = scrub(frame.data)
    return json.dumps(shown, indent=1, ensure_ascii=False, default=repr)


def _prompt(params: Mapping[str, Any]) -> str | None:
    """What a play/play_and_collect request plays, in a few words."""
    items = params.get("play")
    if not isinstance(items, list):
        return None
    words = []
    for item in items:
        if not isinstance(item, dict):
            continue
        inner = _obj(item.get("params"))
        kind = item.get("type")
        if kind == "tts":
            words.append(f'"{inner.get("text", "")}"')
        elif kind == "audio":
            words.append(str(inner.get("url", "audio")))
        elif kind == "silence":
            words.append(f"silence {inner.get('duration', '')}s")
        elif kind == "ringtone":
            words.append(f"ringtone {inner.get('name', '')}")
    return ", ".join(words) or None


def _targets(devices: Any) -> list[str]:
    """The numbers/addresses of a connect or dial's ``devices`` (serial lists of parallel)."""
    found = []
    for serial in devices if isinstance(devices, list) else []:
        for device in serial if isinstance(serial, list) else [serial]:
            params = _obj(_obj(device).get("params"))
            target = params.get("to_number") or params.get("to")
            if isinstance(target, str):
                found.append(target)
    return found


def _code_failed(data: Mapping[str, Any]) -> bool:
    code = data.get("code")
    return code is not None and not str(code).startswith("2")


def _event_failed(params: Mapping[str, Any]) -> bool:
    for key in ("state", "call_state", "connect_state", "dial_state", "message_state"):
        if params.get(key) in FAILED_STATES:
            return True
    result = params.get("result")
    if isinstance(result, dict) and result.get("type") == "error":
        return True
    return params.get("end_reason") in FAILED_END_REASONS


def _event_label(event_type: str, params: Mapping[str, Any]) -> str:
    parts = [event_type]
    for key in ("call_state", "state", "connect_state", "dial_state", "message_state"):
        value = params.get(key)
        if isinstance(value, str):
            parts.append(value)
            break
    result = params.get("result")
    if isinstance(result, dict):
        parts.append(str(result.get("type")))
        inner = _obj(result.get("params"))
        for key in ("digits", "text", "event"):
            if inner.get(key) not in (None, ""):
                parts.append(repr(inner[key]) if key == "text" else str(inner[key]))
    detect = params.get("detect")
    if isinstance(detect, dict):
        inner = _obj(detect.get("params"))
        parts.append(f"{detect.get('type')} {inner.get('event', '')}".strip())
    if _str(params.get("end_reason")):
        parts.append(f"({params['end_reason']})")
    if params.get("control_id") is not None:
        parts.append(f"[{short_id(params['control_id'])}]")
    return " ".join(parts)


# --------------------------------------------------------------------- building
_Key: TypeAlias = "tuple[int, str, str | int]"


class _Builder:
    def __init__(self) -> None:
        self.groups: dict[str | None, Group] = {None: Group(None)}
        # (conn_id, requester direction, id) -> (method, call_id)
        self.requests: dict[_Key, tuple[str, str | None]] = {}
        self.pending: dict[_Key, tuple[str | None, str]] = {}  # key -> (call_id, what)
        self.prompts: dict[str, str] = {}  # control_id -> what it plays
        self.hung_up_by_program: set[str] = set()
        self.caller_gone: set[str] = set()

    def group(self, call_id: str | None) -> Group:
        if call_id not in self.groups:
            self.groups[call_id] = Group(call_id)
        return self.groups[call_id]

    def add(self, frame: Frame, call_id: str | None, **kw: Any) -> None:
        program_side = frame.direction == "in"
        arrow = Arrow(
            source=PROGRAM if program_side else RELAY,
            target=RELAY if program_side else PROGRAM,
            detail=_detail(frame),
            derived=False,
            call_id=call_id,
            seq=frame.seq,
            time=frame.time,
            conn_id=frame.conn_id,
            **kw,
        )
        self.group(call_id).arrows.append(arrow)

    def caller(self, frame: Frame, call_id: str, to_caller: bool, label: str, why: str) -> None:
        """A derived arrow on the caller lane (not a frame: inferred from *frame*)."""
        self.group(call_id).arrows.append(
            Arrow(
                source=RELAY if to_caller else CALLER,
                target=CALLER if to_caller else RELAY,
                category="caller",
                label=label,
                detail=f"Derived, not a frame: {why} (journal seq {frame.seq}).",
                failed=False,
                derived=True,
                call_id=call_id,
                seq=frame.seq,
                time=frame.time,
                conn_id=frame.conn_id,
            )
        )

    # ---------------------------------------------------------------- frames
    def feed(self, frame: Frame) -> None:
        if frame.kind in ("invalid", "raw"):
            reason = frame.data.get("reason", frame.kind)
            call_id = _str(frame.data.get("call_id"))
            self.add(
                frame, call_id, category="invalid", label=f"{frame.kind}: {reason}", failed=True
            )
        elif frame.kind == "request" and frame.method == "signalwire.event":
            self.event(frame)
        elif frame.kind == "request":
            self.request(frame)
        else:
            self.response(frame)

    def request(self, frame: Frame) -> None:
        method = frame.method or "?"
        data = frame.data
        call_id = _str(data.get("call_id"))
        if frame.id is not None:
            key = (frame.conn_id, frame.direction, frame.id)
            self.requests[key] = (method, call_id)
            self.pending[key] = (call_id, f"{method} (seq {frame.seq})")
        control = data.get("control_id")
        prompt = _prompt(data)
        if control is not None and prompt is not None:
            self.prompts[str(control)] = prompt
        label = method
        failed = False
        if method == "calling.end":
            reason = data.get("reason")
            label += f" ({reason})" if reason else ""
            failed = reason in FAILED_END_REASONS
            if call_id is not None:
                self.hung_up_by_program.add(call_id)
        if method in ("calling.connect", "calling.dial"):
            targets = _targets(data.get("devices"))
            label += f" → {', '.join(targets)}" if targets else ""
        if control is not None:
            label += f" [{short_id(control)}]"
        if prompt is not None:
            label += f" {prompt}"
        category = "command" if frame.direction == "in" else "server"
        self.add(frame, call_id, category=category, label=label, failed=failed)

    def response(self, frame: Frame) -> None:
        requester = "out" if frame.direction == "in" else "in"
        asked: tuple[str | None, str | None] = (None, None)
        if frame.id is not None:
            key = (frame.conn_id, requester, frame.id)
            asked = self.requests.pop(key, asked)
            self.pending.pop(key, None)
        method = frame.method or asked[0] or "?"
        call_id = _str(frame.data.get("call_id")) or asked[1]
        if method == "signalwire.event" and frame.direction == "in":
            failed = frame.kind == "error"
            self.add(frame, call_id, category="ack", label="ack", failed=failed)
            return
        data = frame.data
        if frame.kind == "error":
            label = f"error {data.get('code', '')} {data.get('message', '')}".rstrip()
            failed = True
        elif "code" in data:
            label = f"{data.get('code')} {data.get('message', '')}".rstrip()
            failed = _code_failed(data)
        else:
            label = "ok" if frame.direction == "in" else "result"
            failed = False
        label = f"{method}: {label}"
        category = "result" if frame.direction == "out" else "reply"
        self.add(frame, call_id, category=category, label=label, failed=failed)

    def event(self, frame: Frame) -> None:
        event_type = _str(frame.data.get("event_type")) or "signalwire.event"
        params = frame.data.get("params")
        params = params if isinstance(params, dict) else {}
        call_id = _str(params.get("call_id"))
        if frame.id is not None:
            key = (frame.conn_id, frame.direction, frame.id)
            self.requests[key] = ("signalwire.event", call_id)
            self.pending[key] = (call_id, f"ACK of {event_type} (seq {frame.seq})")
        if call_id is not None:
            self.before_event(frame, call_id, event_type, params)
        self.add(
            frame,
            call_id,
            category="event",
            label=_event_label(event_type, params),
            failed=_event_failed(params),
        )
        if call_id is not None:
            self.after_event(frame, call_id, event_type, params)

    # ---------------------------------------------------------------- the caller
    def note_call(self, group: Group, params: Mapping[str, Any]) -> None:
        group.direction = _str(params.get("direction")) or group.direction
        group.context = _str(params.get("context")) or group.context
        device = params.get("device")
        if isinstance(device, dict) and isinstance(device.get("params"), dict):
            dev = device["params"]
            group.from_number = _str(dev.get("from_number")) or group.from_number
            group.to_number = _str(dev.get("to_number")) or group.to_number
        state = _str(params.get("call_state"))
        if state is not None:
            group.last_state = state
        group.end_reason = _str(params.get("end_reason")) or group.end_reason

    def before_event(
        self, frame: Frame, call_id: str, event_type: str, params: Mapping[str, Any]
    ) -> None:
        group = self.group(call_id)
        self.note_call(group, params)
        if event_type == "calling.call.receive":
            who = f"{group.from_number or '?'} → {group.to_number or '?'}"
            self.caller(frame, call_id, False, f"dials {who}", "an inbound call was offered")
        elif event_type == "calling.call.collect" and isinstance(params.get("result"), dict):
            result = params["result"]
            inner = _obj(result.get("params"))
            kind = result.get("type")
            if kind == "digit":
                label = f"presses {inner.get('digits', '')}{inner.get('terminator', '')}"
            elif kind == "speech":
                label = f"says {inner.get('text', '')!r}"
            elif kind == "no_input":
                label = "stays silent (no input)"
            elif kind == "no_match":
                label = "gives input that does not match"
            else:
                return
            self.caller(frame, call_id, False, label, f"the collect result was {kind}")
        elif event_type == "calling.call.detect":
            detect = params.get("detect")
            if isinstance(detect, dict) and isinstance(detect.get("params"), dict):
                found = detect["params"].get("event")
                if found not in (None, "finished", "READY", "NOT_READY"):
                    self.caller(frame, call_id, False, f"is {found}", "a detect result")
        elif (
            event_type == "calling.call.state"
            and params.get("call_state") in ("ending", "ended")
            and call_id not in self.caller_gone
        ):
            self.caller_gone.add(call_id)
            reason = _str(params.get("end_reason")) or "?"
            if call_id in self.hung_up_by_program:
                group.ended_by = "program"
                label = "call hung up" + ("" if reason == "hangup" else f" ({reason})")
                self.caller(frame, call_id, True, label, "the program sent calling.end")
            elif reason == "hangup":
                group.ended_by = "caller (or the emulator: the journal cannot tell)"
                self.caller(
                    frame, call_id, False, "hangs up", "the call ended and the program sent no end"
                )
            else:
                group.ended_by = f"RELAY ({reason})"
                self.caller(frame, call_id, True, f"call ends ({reason})", "end_reason")

    def after_event(
        self, frame: Frame, call_id: str, event_type: str, params: Mapping[str, Any]
    ) -> None:
        state = params.get("state")
        control = params.get("control_id")
        if event_type == "calling.call.state" and params.get("call_state") == "answered":
            self.caller(frame, call_id, True, "call answered", "the call state became answered")
        elif event_type == "calling.call.play" and state == "playing":
            prompt = self.prompts.get(str(control), "media")
            self.caller(frame, call_id, True, f"plays {prompt}", "a play started")
        elif event_type == "calling.call.record" and state == "recording":
            self.caller(frame, call_id, True, "records the caller", "a recording started")
        elif event_type == "calling.call.connect" and params.get("connect_state") == "connected":
            peer = params.get("peer")
            who = peer.get("call_id") if isinstance(peer, dict) else None
            label = "bridged" + (f" to {who}" if who else "")
            self.caller(frame, call_id, True, label, "the connect state became connected")


def build_trace(
    entries: Iterable[Mapping[str, Any]], numbers: Sequence[int] | None = None
) -> Trace:
    """Validate *entries* (journal order) and turn them into groups of arrows.

    Entries of an unknown shape are skipped, each reported as a :class:`Problem`
    at its number in *numbers* (line numbers), or from 1 in the order given.
    """
    builder = _Builder()
    problems: list[Problem] = []
    frames = 0
    conn_ids: list[int] = []
    for number, entry in enumerate(entries, start=1):
        try:
            frame = normalize_entry(entry)
        except ValueError as exc:
            where = numbers[number - 1] if numbers is not None else number
            problems.append(Problem(where, str(exc)))
            continue
        frames += 1
        if frame.conn_id not in conn_ids:
            conn_ids.append(frame.conn_id)
        builder.feed(frame)
    for call_id, what in builder.pending.values():
        builder.group(call_id).unanswered.append(what)
    groups = [g for g in builder.groups.values() if g.arrows]
    return Trace(groups=groups, problems=problems, frames=frames, conn_ids=conn_ids)
