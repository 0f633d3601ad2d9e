"""The action table: one :class:`ActionSpec` row per kind of RELAY action.

An *action* is a call command that keeps running after its request is answered
(``calling.play``, ``calling.record``...): the server reports its progress in
``calling.call.<kind>`` events carrying the ``control_id`` the client chose, and
one of those events ends it.  Everything the core knows about one kind is in its
row here, so that adding a kind means adding one row (and an event class in
:mod:`._call_events` if its events are new).  The router reads this table
(:mod:`._routing`), and the object model points each action class at its row
instead of keeping its own copy of the facts.

Terminal signals come from the protocol reference (§5.3, §6, the deliberate
choices of §9) and from the public frames of the wire corpus, which beat the
reference where they disagree (``tests/core/data/wire-corpus/README.md``):

* pay sends no ``state``; ``for: payment-completed|payment-failed|payment-canceled`` ends it;
* record also ends on ``state: "error"``;
* collect ends on ``result.type`` ``finished`` or ``error``, with or without a ``state``;
* queue ends on ``status`` ``leave`` or ``dequeue``, and ``dequeue`` arrives with
  ``control_id: null``: such an event is matched to the action by call and
  queue name (:attr:`ActionSpec.match_key`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from ._call_events import (
    CollectResultReceived,
    DetectResultReceived,
    FaxStateChanged,
    PayStateChanged,
)
from ._event_base import RelayEvent
from ._relay_events import EVENT_CLASSES

__all__ = [
    "ACTION_KINDS",
    "ACTION_SPECS",
    "ACTION_SPECS_BY_METHOD",
    "ActionSpec",
]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """Everything the core knows about one kind of action.

    Attributes:
        kind: The kind's name (``"play"``, ``"fax"``...), as in
            :attr:`~relay_proto.ActionCompleted.kind`.
        start_methods: The request methods that start one (``calling.send_fax``
            and ``calling.receive_fax`` both start a ``fax``).  Their ``params``
            must carry ``call_id`` and ``control_id``.
        event_type: The event type carrying its progress (``calling.call.play``).
        is_terminal: Given an event of :attr:`event_class` for this action,
            True when that event ends it.
        match_key: For kinds whose ending event may lack the ``control_id``:
            ``(start param, event param)`` whose values, on the same call,
            identify the action instead (queue: ``("queue_name", "name")``).
            ``None``: events are matched by ``control_id`` only.
    """

    kind: str
    start_methods: tuple[str, ...]
    event_type: str
    is_terminal: Callable[[RelayEvent], bool]
    match_key: tuple[str, str] | None = None

    @property
    def event_class(self) -> type[RelayEvent]:
        """The class of :attr:`event_type`'s events (owned by :data:`EVENT_CLASSES`)."""
        return EVENT_CLASSES[self.event_type]


def _state_in(*states: str) -> Callable[[RelayEvent], bool]:
    """A predicate: the event's ``state`` is one of *states*."""
    ending = frozenset(states)
    return lambda event: event.state in ending


def _collect_final(event: RelayEvent) -> bool:
    # The JS semantics (§6.6 / §9.1) plus the corpus's finished/error result
    # types: partial, start_of_input and continuous "collecting" results go on.
    return isinstance(event, CollectResultReceived) and event.is_final


# Detect results that end a detect at once: the official clients resolve on the
# first meaningful result; the wire's own end markers are finished/error.
# UNKNOWN, READY and NOT_READY are progress (the corpus: HUMAN|MACHINE|UNKNOWN,
# then READY|NOT_READY|finished).
_DETECT_ENDING: Final = frozenset({"MACHINE", "HUMAN", "FAX", "CED", "CNG", "finished", "error"})


def _detect_done(event: RelayEvent) -> bool:
    if not isinstance(event, DetectResultReceived):
        return False
    result = event.result
    if result in _DETECT_ENDING:
        return True
    # A digit detector reports the digits themselves as the result.
    return event.type == "digit" and bool(result)


def _fax_done(event: RelayEvent) -> bool:
    # §9.2: progress lives in fax.type ("page" goes on), not in a top-level state.
    return isinstance(event, FaxStateChanged) and event.type in ("finished", "error")


def _pay_done(event: RelayEvent) -> bool:
    # The platform's progress field is "for"; outcome is "" until it ends.
    return isinstance(event, PayStateChanged) and event.outcome != ""


# The corpus shows enqueue | leave | dequeue; the other spellings are kept from
# before the corpus, when the values were unconfirmed (protocol reference §6.10).
_QUEUE_ENDING: Final = frozenset({"leave", "left", "dequeue", "dequeued", "finished", "error"})


def _queue_done(event: RelayEvent) -> bool:
    status = event.params.get("status")
    return status in _QUEUE_ENDING or event.state in _QUEUE_ENDING


_SPECS: Final = (
    ActionSpec("play", ("calling.play",), "calling.call.play", _state_in("finished", "error")),
    ActionSpec(
        "record",
        ("calling.record",),
        "calling.call.record",
        _state_in("finished", "no_input", "error"),
    ),
    ActionSpec("collect", ("calling.collect",), "calling.call.collect", _collect_final),
    # play_and_collect also gets calling.call.play events; those never end it.
    ActionSpec(
        "play_and_collect", ("calling.play_and_collect",), "calling.call.collect", _collect_final
    ),
    ActionSpec("detect", ("calling.detect",), "calling.call.detect", _detect_done),
    ActionSpec("fax", ("calling.send_fax", "calling.receive_fax"), "calling.call.fax", _fax_done),
    ActionSpec("tap", ("calling.tap",), "calling.call.tap", _state_in("finished")),
    ActionSpec("stream", ("calling.stream",), "calling.call.stream", _state_in("finished")),
    ActionSpec("pay", ("calling.pay",), "calling.call.pay", _pay_done),
    ActionSpec(
        "transcribe", ("calling.transcribe",), "calling.call.transcribe", _state_in("finished")
    ),
    ActionSpec("ai", ("calling.ai",), "calling.call.ai", _state_in("finished", "error")),
    ActionSpec(
        "send_digits", ("calling.send_digits",), "calling.call.send_digits", _state_in("finished")
    ),
    ActionSpec(
        "queue",
        ("calling.queue.enter",),
        "calling.call.queue",
        _queue_done,
        match_key=("queue_name", "name"),
    ),
)

# The public tables are read-only views: a caller cannot edit what the core decides by.
#: kind -> its :class:`ActionSpec`.
ACTION_SPECS: Final[Mapping[str, ActionSpec]] = MappingProxyType(
    {spec.kind: spec for spec in _SPECS}
)

#: start method -> its :class:`ActionSpec` (``"calling.receive_fax"`` -> the fax row).
ACTION_SPECS_BY_METHOD: Final[Mapping[str, ActionSpec]] = MappingProxyType(
    {method: spec for spec in _SPECS for method in spec.start_methods}
)

#: start method -> action kind: a view of :data:`ACTION_SPECS_BY_METHOD`, kept
#: for callers that only need the kind.
ACTION_KINDS: Final[Mapping[str, str]] = MappingProxyType(
    {method: spec.kind for method, spec in ACTION_SPECS_BY_METHOD.items()}
)
