"""Scripted remote parties and call records for the emulator (pure data).

A :class:`Caller` describes how the simulated person (or machine) on the far
end of a call behaves: which digits it presses, what it says, when it hangs
up, and whether it is a human, a voicemail box or a fax machine.  Input steps
(``press``/``say``/``silence``) are consumed in order, one per collect (and
one per record for ``say``).  Scripts are immutable: every builder method
returns a new :class:`Caller`, so one script can be reused across calls.

A :class:`CallRecord` is the readable account of what happened to one call,
built up by the simulation and handed out as a snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = [
    "DEFAULT_RING_FLOOR",
    "DEFAULT_RING_TIMEOUT",
    "BehaviorName",
    "CallRecord",
    "Caller",
    "NumberBehavior",
    "Step",
]

#: Simulated seconds an inbound call rings when the script does not say.
DEFAULT_RING_TIMEOUT = 60.0
#: ...but never fewer real seconds than this (see ``Caller.ring_timeout``).
DEFAULT_RING_FLOOR = 10.0

Kind = Literal["human", "voicemail", "fax"]
BehaviorName = Literal["answer", "busy", "no-answer", "decline"]
_KINDS: tuple[str, ...] = ("human", "voicemail", "fax")


@dataclass(frozen=True, slots=True)
class Step:
    """One input step of a script: ``press`` (digits), ``say`` (text) or ``silence``."""

    action: Literal["press", "say", "silence"]
    value: str = ""


@dataclass(frozen=True, slots=True)
class Caller:
    """The behaviour of the simulated far-end party of a call.

    Args:
        steps: Input steps, consumed in order by successive collects.
        kind: ``"human"`` (default), ``"voicemail"`` or ``"fax"``; drives detect
            results, fax success and what records capture.
        hangup_seconds: Simulated seconds after answer at which the party hangs
            up (``None``: stays until the application hangs up).
        ring_timeout: Simulated seconds an unanswered inbound call rings before
            the caller gives up (the call ends with ``end_reason="cancel"``).
            ``None`` (the default) means 60 simulated seconds but never less than
            :data:`DEFAULT_RING_FLOOR` real seconds: at a tiny time scale 60 s
            would be 60 ms, and a client slowed by a busy machine must not lose
            its call to a race it cannot see.  Set it explicitly to test ring-outs.
        message_seconds: Length of the message a voicemail box records.
    """

    steps: tuple[Step, ...] = ()
    kind: Kind = "human"
    hangup_seconds: float | None = None
    ring_timeout: float | None = None
    message_seconds: float = 4.0

    def press(self, digits: str) -> Caller:
        """Press *digits* (DTMF) for the next collect, after its prompt finishes."""
        if not isinstance(digits, str) or not digits:
            raise ValueError("press() needs a non-empty string of digits")
        bad = set(digits) - set("0123456789*#ABCD")
        if bad:
            raise ValueError(f"press(): not DTMF digits: {''.join(sorted(bad))!r}")
        return replace(self, steps=(*self.steps, Step("press", digits)))

    def say(self, text: str) -> Caller:
        """Say *text* to the next speech collect (or into the next recording)."""
        if not isinstance(text, str) or not text:
            raise ValueError("say() needs non-empty text")
        return replace(self, steps=(*self.steps, Step("say", text)))

    def silence(self) -> Caller:
        """Stay silent for the next collect: it ends with ``no_input``."""
        return replace(self, steps=(*self.steps, Step("silence")))

    def hangup_after(self, seconds: float) -> Caller:
        """Hang up *seconds* (simulated) after the call is answered."""
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError("hangup_after() needs a non-negative number of seconds")
        return replace(self, hangup_seconds=float(seconds))

    def voicemail(self, message_seconds: float = 4.0) -> Caller:
        """Be an answering machine: detect reports MACHINE, records get a message."""
        return replace(self, kind="voicemail", message_seconds=float(message_seconds))

    def human(self) -> Caller:
        """Be a human (the default): detect reports HUMAN."""
        return replace(self, kind="human")

    def fax(self) -> Caller:
        """Be a fax machine: fax detect reports CED, send/receive fax succeed."""
        return replace(self, kind="fax")

    def to_json(self) -> dict[str, Any]:
        """The script as a JSON-able dict (used by the HTTP control endpoint)."""
        return {
            "steps": [
                {s.action: s.value} if s.action != "silence" else {"silence": True}
                for s in self.steps
            ],
            "kind": self.kind,
            "hangup_after": self.hangup_seconds,
            "ring_timeout": self.ring_timeout,
            "message_seconds": self.message_seconds,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Caller:
        """Build a script from :meth:`to_json` output.

        Raises:
            ValueError: if the data does not describe a valid script.
        """
        if not isinstance(data, Mapping):
            raise ValueError("script must be an object")
        caller = cls()
        steps = data.get("steps", [])
        if not isinstance(steps, list):
            raise ValueError("script.steps must be a list")
        for step in steps:
            if not isinstance(step, Mapping) or len(step) != 1:
                raise ValueError(f"invalid script step: {step!r}")
            ((action, value),) = step.items()
            if action == "press":
                caller = caller.press(value)
            elif action == "say":
                caller = caller.say(value)
            elif action == "silence":
                caller = caller.silence()
            else:
                raise ValueError(f"unknown script step {action!r}")
        kind = data.get("kind", "human")
        if kind not in _KINDS:
            raise ValueError(f"script.kind must be one of {_KINDS}")
        hangup = data.get("hangup_after")
        if hangup is not None:
            caller = caller.hangup_after(hangup)
        ring = data.get("ring_timeout")
        msg = data.get("message_seconds", 4.0)
        if (ring is not None and not isinstance(ring, (int, float))) or not isinstance(
            msg, (int, float)
        ):
            raise ValueError("ring_timeout and message_seconds must be numbers")
        return replace(
            caller,
            kind=kind,
            ring_timeout=None if ring is None else float(ring),
            message_seconds=float(msg),
        )


@dataclass(frozen=True, slots=True)
class NumberBehavior:
    """How a simulated endpoint answers when dialed or connected to.

    Args:
        behavior: ``"answer"``, ``"busy"``, ``"no-answer"`` or ``"decline"``.
        answer_after: Simulated seconds of ringing before it answers (or, for
            busy/decline, before it rejects).
        script: The callee's behaviour once answered (detect, collect, hangup).
    """

    behavior: BehaviorName = "answer"
    answer_after: float = 1.0
    script: Caller = field(default_factory=Caller)


@dataclass(slots=True)
class CallRecord:
    """What happened to one call, as seen by the emulator.

    Attributes:
        call_id: The call's id on the wire.
        direction: ``"inbound"`` (placed by the emulator) or ``"outbound"`` (dial/connect leg).
        context: The context an inbound call was offered on.
        from_number / to_number: The device numbers (or SIP addresses).
        state: Last call state (``created`` ... ``ended``).
        end_reason: The ``end_reason`` of the ``ended`` event.
        hung_up_by: ``"app"`` (the RELAY client sent ``calling.end``), ``"remote"``
            (the scripted party), ``"emulator"`` (timeouts, lost session) or ``None``.
        answered: Whether the call was ever answered.
        prompts: What was played, in order: TTS text, audio URL, ``"silence:2.0"``,
            ``"ringtone:us"``.
        inputs: What the remote party gave to each collect
            (``{"type": "digit", "digits": "1", "terminator": ""}`` ...).
        digits_sent: DTMF sent with ``calling.send_digits``.
        recordings: ``{"url", "duration", "size"}`` for each finished recording.
        detections: Detect results reported (``"MACHINE"``, ``"HUMAN"``, ``"CED"``, digits).
        connected_to: The number/address of the peer this call was bridged to.
        transferred_to: The ``dest`` of a ``calling.transfer``.
        methods: Every ``calling.*`` method the application sent for this call, in order.
        transcript: Human-readable lines (``"<- calling.call.state answered"``,
            ``"-> calling.play"``).
    """

    call_id: str
    direction: str
    context: str | None = None
    from_number: str = ""
    to_number: str = ""
    state: str = "created"
    end_reason: str | None = None
    hung_up_by: str | None = None
    answered: bool = False
    prompts: list[str] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    digits_sent: list[str] = field(default_factory=list)
    recordings: list[dict[str, Any]] = field(default_factory=list)
    detections: list[str] = field(default_factory=list)
    connected_to: str | None = None
    transferred_to: str | None = None
    methods: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        """True once the call reached ``ended``."""
        return self.state == "ended"

    def snapshot(self) -> CallRecord:
        """A copy whose lists do not change as the simulation goes on."""
        return replace(
            self,
            prompts=list(self.prompts),
            inputs=list(self.inputs),
            digits_sent=list(self.digits_sent),
            recordings=list(self.recordings),
            detections=list(self.detections),
            methods=list(self.methods),
            transcript=list(self.transcript),
        )

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON-able dict."""
        return {
            "call_id": self.call_id,
            "direction": self.direction,
            "context": self.context,
            "from_number": self.from_number,
            "to_number": self.to_number,
            "state": self.state,
            "end_reason": self.end_reason,
            "hung_up_by": self.hung_up_by,
            "answered": self.answered,
            "prompts": list(self.prompts),
            "inputs": list(self.inputs),
            "digits_sent": list(self.digits_sent),
            "recordings": list(self.recordings),
            "detections": list(self.detections),
            "connected_to": self.connected_to,
            "transferred_to": self.transferred_to,
            "methods": list(self.methods),
            "transcript": list(self.transcript),
        }
