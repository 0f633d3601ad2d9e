"""Dialing: ``calling.dial``, ``calling.begin`` and ``calling.connect`` (sans-IO).

A device plan is a list of groups of devices (relay-protocol.md §5.2): the
devices of one group ring at the same time, and the next group rings only
when every device of the current one failed.  The first leg to answer wins
and the others are cancelled.  How each number answers -- after how long,
or busy, declining, never -- is configured per number with
:meth:`Dialer.configure_number`; unconfigured numbers answer after one
simulated second.

* ``calling.dial`` / ``calling.begin`` report the outcome to the dialing
  session in ``calling.call.dial`` (``dial_state`` ``answered`` with the
  winning ``call``, or ``failed``), as in the corpus's Node/Go fixtures;
* ``calling.connect`` rings the plan on behalf of an answered call and
  bridges the winner to it, reporting ``connecting``, then ``connected`` or
  ``failed`` in ``calling.call.connect`` (§6.5).  A ``call`` device bridges to
  an existing answered call directly.

The legs' own states (``created``, ``ringing``, ...) go to the dialing session
as ``calling.call.state`` events, tagged with the dial's ``tag``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from ._lifecycle import CallMethod, Calls
from ._model import Host, SimCall, fail, ok
from ._script import BehaviorName, Caller, NumberBehavior

if TYPE_CHECKING:
    from ._sessions import ServerSession

__all__ = ["Dialer"]


@dataclass(eq=False, slots=True)
class _Dial:
    """A device plan being rung (calling.dial, calling.connect, calling.begin)."""

    tag: str  # the client's tag: it names the dial and is put on every leg's events
    session: ServerSession  # who dialed: gets the legs' states and the outcome
    groups: list[list[dict[str, Any]]]  # the device plan, rung group by group
    controller: SimCall | None = None  # the call to bridge to: set for calling.connect
    index: int = 0  # the group now ringing
    legs: list[SimCall] = field(default_factory=list)  # that group's legs
    winner: SimCall | None = None
    last_reason: str = "noAnswer"  # why the latest leg failed (the plan's failure reason)


class Dialer:
    """Rings device plans and reports the outcome (see module docstring).

    Args:
        host: The server's services (ids, timers, event delivery).
        calls: Where the legs live, and who bridges them.
    """

    def __init__(self, host: Host, calls: Calls) -> None:
        self.host = host
        self.calls = calls
        # Dialed number or SIP URI -> how it answers; unknown numbers use the
        # NumberBehavior default (answer after one simulated second).
        self.numbers: dict[str, NumberBehavior] = {}

    def methods(self) -> dict[str, CallMethod]:
        """The call-scoped methods this collaborator answers, by wire name."""
        return {"calling.connect": self._m_connect, "calling.disconnect": self._m_disconnect}

    def configure_number(
        self,
        number: str,
        behavior: str = "answer",
        answer_after: float = 1.0,
        script: Caller | None = None,
    ) -> None:
        """How *number* (E.164 or SIP URI) behaves when dialed or connected to.

        Args:
            number: The dialed number or SIP URI.
            behavior: ``answer``, ``busy``, ``no-answer`` or ``decline``.
            answer_after: Simulated seconds of ringing before *behavior* happens.
            script: Drives the callee once it answers (default: a silent caller).

        Raises:
            ValueError: An unknown *behavior*.
        """
        if behavior not in ("answer", "busy", "no-answer", "decline"):
            raise ValueError("behavior must be answer, busy, no-answer or decline")
        self.numbers[number] = NumberBehavior(
            cast(BehaviorName, behavior), float(answer_after), script or Caller()
        )

    # ------------------------------------------------------------------ dial / connect
    def dial(self, session: ServerSession, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.dial`` (§5.1): ring the plan; the answer is only "Dialing".

        The result has no ``call_id`` (§5.1): the client learns the winning
        leg from ``calling.call.dial``, matched by its tag.
        """
        dial = _Dial(tag=params["tag"], session=session, groups=params["devices"])
        self._ring_group(dial, now)
        return ok("Dialing")

    def begin(self, session: ServerSession, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.begin`` (§5.1, deprecated): dial one device, its call_id in the result.

        Unlike ``calling.dial`` the leg exists at once, so the result names it
        (``call_id``, ``node_id``), as PY2 reads it (§5.1).  The tag is
        optional here; one is made up so that the legs' events carry one.
        """
        dial = _Dial(
            tag=params.get("tag") or self.host.new_id("tag"),
            session=session,
            groups=[[params["device"]]],
        )
        self._ring_group(dial, now)
        leg = dial.legs[0]
        return ok("Call started", call_id=leg.call_id, node_id=leg.node_id)

    def _m_connect(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.connect`` (§5.2): bridge an answered call to a new leg or a call.

        A call already bridged is a 409, an unanswered one a 400 (§3.9).  The
        plan is rung for the call's own session, which receives the legs'
        states; the outcome comes as ``calling.call.connect`` on *call*.
        """
        if call.peer is not None:
            return fail("409", "calling.connect: call is already connected")
        if call.state != "answered":
            return fail("400", "calling.connect: call is not answered")
        tag = params.get("tag") or self.host.new_id("tag")
        first = params["devices"][0][0]
        # No peer yet: the corpus's peer objects always name a call (call_id, node_id).
        self.calls.connect_event(call, now, "connecting", tag=tag)
        if first.get("type") == "call":
            other = self.calls.calls.get(str(first.get("params", {}).get("call_id", "")))
            if other is None or other.state != "answered" or other.peer is not None:
                self.calls.connect_failed(call, now, tag, "not_found")
            else:
                self.calls.bridge(call, other, now, tag)
            return ok("connecting")
        if call.session is not None:
            dial = _Dial(tag=tag, session=call.session, groups=params["devices"], controller=call)
            self._ring_group(dial, now)
        return ok("connecting")

    def _m_disconnect(self, call: SimCall, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``calling.disconnect`` (§5.2): unbridge; both calls stay up."""
        if call.peer is None:
            return fail("400", "calling.disconnect: call is not connected")
        self.calls.unbridge(call, call.peer, now)
        return ok("Disconnecting")

    def _ring_group(self, dial: _Dial, now: float) -> None:
        """Ring every device of the plan's current group at once (§4.1: parallel).

        Each device becomes an outbound leg that goes ``created`` then
        ``ringing`` at once, and gets one timer: its answer, or its failure
        (busy / decline after ``answer_after``, no answer after the device's
        ``timeout``, default 30 s).  A number set to answer later than its
        timeout never answers.
        """
        dial.legs = []
        for device in dial.groups[dial.index]:
            params = device.get("params", {})
            if (
                dial.controller is not None
                and device.get("type") == "phone"
                and ("from_number" not in params)
            ):  # connect without a caller id: show the number the call came in on
                params = {**params, "from_number": dial.controller.record.to_number}
                device = {**device, "params": params}
            number = str(params.get("to_number", params.get("to", "")))
            behavior = self.numbers.get(number, NumberBehavior())
            leg = self.calls.new_call("outbound", device, dial.session, behavior.script)
            leg.tag = dial.tag
            leg.created_by = "dial" if dial.controller is None else "connect"
            if dial.controller is not None:
                # §5.2: a connect leg's state events name the call it bridges to.
                leg.peer_ref = {
                    "call_id": dial.controller.call_id,
                    "node_id": dial.controller.node_id,
                }
            dial.legs.append(leg)
            self.calls.set_state(leg, now, "created")
            self.calls.set_state(leg, now, "ringing")
            timeout = float(params.get("timeout", 30.0))
            if behavior.behavior == "answer" and behavior.answer_after <= timeout:
                leg.timers.append(
                    self.host.call_later(
                        now,
                        self.host.scaled(behavior.answer_after),
                        partial(self._leg_answer, dial, leg),
                    )
                )
            else:
                reason, after = {
                    "busy": ("busy", behavior.answer_after),
                    "decline": ("decline", behavior.answer_after),
                }.get(behavior.behavior, ("noAnswer", timeout))
                leg.timers.append(
                    self.host.call_later(
                        now,
                        self.host.scaled(min(after, timeout)),
                        partial(self._leg_fail, dial, leg, reason),
                    )
                )

    def _leg_answer(self, dial: _Dial, leg: SimCall, now: float) -> None:
        """*leg* answered: it wins unless another did, and the others are cancelled.

        A dial reports the winner in ``calling.call.dial`` ``answered`` with
        the leg in ``call`` (the corpus's Node/Go shape, §6.3); a connect
        bridges it -- unless the controlling call ended meanwhile, in which
        case the winner is hung up at once rather than left orphaned.
        """
        if dial.winner is not None or leg.state == "ended":
            return
        dial.winner = leg
        self.calls.answered(leg, now)
        for other in dial.legs:
            if other is not leg:
                self.calls.end_call(other, now, "cancel", "emulator")
        if dial.controller is None:
            call = {
                "call_id": leg.call_id,
                "node_id": leg.node_id,
                "tag": dial.tag,
                "dial_winner": True,
                "device": leg.device,
                "call_state": "answered",
                "direction": "outbound",
            }
            self.host.emit(
                dial.session,
                now,
                "calling.call.dial",
                {"node_id": leg.node_id, "tag": dial.tag, "dial_state": "answered", "call": call},
            )
        elif dial.controller.state == "answered":
            self.calls.bridge(dial.controller, leg, now, dial.tag)
        else:
            self.calls.end_call(leg, now, "cancel", "emulator")

    def _leg_fail(self, dial: _Dial, leg: SimCall, reason: str, now: float) -> None:
        """*leg* failed with *reason*; when its whole group has, ring the next one.

        Only when the last group has failed too does the dial report
        ``failed`` (with the last leg's reason) or the connect ``failed``.
        """
        if leg.state == "ended":
            return
        dial.last_reason = reason
        leg.record.hung_up_by = "remote"
        self.calls.end_call(leg, now, reason, "remote")
        if dial.winner is not None or any(lg.state != "ended" for lg in dial.legs):
            return
        dial.index += 1
        if dial.index < len(dial.groups):
            self._ring_group(dial, now)
        elif dial.controller is not None:
            self.calls.connect_failed(dial.controller, now, dial.tag, reason)
        else:
            self.host.emit(
                dial.session,
                now,
                "calling.call.dial",
                {
                    "node_id": leg.node_id,
                    "tag": dial.tag,
                    "dial_state": "failed",
                    "reason": reason,
                    "source": "outbound",
                },
            )
