"""Messaging: ``messaging.send`` and inbound SMS/MMS (sans-IO).

An outbound message is accepted at once (``message_id`` in the result) and
then walks ``queued -> initiated -> sent -> delivered`` in
``messaging.state`` events (relay-protocol.md §7.1), or ends ``undelivered``
(after ``sent``) or ``failed`` for numbers configured with
:meth:`Messaging.fail_messages_to`.  The state events go to the session the
``context`` names -- its own protocol, or a subscriber of that context -- as
on the platform, where the sender's context receives the updates.

Inbound messages (:meth:`Messaging.send_inbound`) are offered round robin to
the subscribers of a context as ``messaging.receive``.  Both event kinds carry
the corpus's fields: ``message_id``, ``context``, ``direction``, ``tags``,
``from_number``, ``to_number``, ``body``, ``media``, ``segments`` (160
characters each) and ``message_state``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from ._model import Host, ok

if TYPE_CHECKING:
    from ._sessions import ServerSession

__all__ = ["MessageRecord", "Messaging"]


@dataclass(slots=True)
class MessageRecord:
    """An SMS/MMS the emulator handled (``direction`` ``outbound`` = sent by a client)."""

    message_id: str
    direction: str
    context: str  # outbound: whose subscribers get the state events; inbound: where it came
    from_number: str
    to_number: str
    body: str
    media: list[str]
    tags: list[str]
    state: str  # the latest ``message_state`` sent (``received`` for inbound)
    reason: str | None = None  # why it failed (undelivered / failed only)


def _segments(body: str) -> int:
    """How many SMS segments *body* takes (160 characters each, at least one)."""
    return max(1, -(-len(body) // 160))


class Messaging:
    """Every message the world handled, and the numbers that fail (module docstring).

    Args:
        host: The server's services (ids, timers, event delivery, routing).
    """

    def __init__(self, host: Host) -> None:
        self.host = host
        self.messages: dict[str, MessageRecord] = {}
        # to_number -> the final state its messages reach (fail_messages_to).
        self.failing_numbers: dict[str, str] = {}

    def fail_messages_to(self, number: str, state: str = "undelivered") -> None:
        """Messages sent to *number* end in *state*: ``undelivered`` (after ``sent``) or ``failed``.

        Raises:
            ValueError: Another *state*.
        """
        if state not in ("undelivered", "failed"):
            raise ValueError("state must be undelivered or failed")
        self.failing_numbers[number] = state

    # ------------------------------------------------------------------ messaging
    def send(self, session: ServerSession, params: dict[str, Any], now: float) -> dict[str, Any]:
        """``messaging.send`` (§7.1): accept at once, then walk the message's states.

        Returns:
            ``200 "Message accepted"`` with the new ``message_id``; every
            delivery outcome comes later as ``messaging.state`` events.
        """
        context = params["context"]
        # Updates go to the context's session; a context nobody receives
        # falls back to the sender, so a test never loses its own updates.
        target = self.host.session_for_context(context) or session
        body = params.get("body") or ""
        msg = MessageRecord(
            message_id=self.host.new_id("msg"),
            direction="outbound",
            context=context,
            from_number=params["from_number"],
            to_number=params["to_number"],
            body=body,
            media=list(params.get("media") or []),
            tags=list(params.get("tags") or []),
            state="queued",
        )
        self.messages[msg.message_id] = msg
        final = self.failing_numbers.get(msg.to_number)
        # (simulated seconds after the send, state): the carrier's pace is
        # compressed to about a second, the order is §7.2's.
        steps: list[tuple[float, str]] = [(0.0, "queued"), (0.2, "initiated")]
        if final == "failed":
            # Refused before it left: never ``sent``.
            steps.append((0.5, "failed"))
        else:
            steps.append((0.5, "sent"))
            steps.append((1.0, final or "delivered"))
        for delay, state in steps:
            self.host.call_later(
                now, self.host.scaled(delay), partial(self._message_state, target, msg, state)
            )
        return ok("Message accepted", message_id=msg.message_id)

    def _message_state(
        self, session: ServerSession, msg: MessageRecord, state: str, now: float
    ) -> None:
        """Emit one ``messaging.state`` (§7.2) for *msg* entering *state*.

        Failures add a ``reason``: ``carrier_blocked`` for a message the
        carrier dropped after sending, ``invalid_destination`` for one it
        refused outright.
        """
        msg.state = state
        params: dict[str, Any] = {
            "message_id": msg.message_id,
            "context": msg.context,
            "direction": "outbound",
            "from_number": msg.from_number,
            "to_number": msg.to_number,
            "body": msg.body,
            "media": msg.media,
            "segments": _segments(msg.body),
            "message_state": state,
            "tags": msg.tags,
        }
        if state in ("undelivered", "failed"):
            msg.reason = "carrier_blocked" if state == "undelivered" else "invalid_destination"
            params["reason"] = msg.reason
        self.host.emit(session, now, "messaging.state", params)

    def send_inbound(
        self,
        context: str,
        from_number: str,
        to_number: str,
        now: float,
        body: str = "",
        media: list[str] | None = None,
    ) -> MessageRecord:
        """Deliver an inbound SMS/MMS to a subscriber of *context* (round robin).

        Raises:
            LookupError: if no connected client is subscribed to *context*.
            ValueError: if there is neither body nor media.
        """
        # The same rule as messaging.send (§7.1): an empty message cannot exist.
        if not body and not media:
            raise ValueError("an inbound message needs a body or media")
        session = self.host.pick_subscriber(context)
        if session is None:
            raise LookupError(f"no client is subscribed to context {context!r}")
        msg = MessageRecord(
            message_id=self.host.new_id("msg"),
            direction="inbound",
            context=context,
            from_number=from_number,
            to_number=to_number,
            body=body,
            media=list(media or []),
            tags=[],
            state="received",
        )
        self.messages[msg.message_id] = msg
        self.host.emit(
            session,
            now,
            "messaging.receive",
            {
                "message_id": msg.message_id,
                "context": context,
                "direction": "inbound",
                "from_number": from_number,
                "to_number": to_number,
                "body": body,
                "media": msg.media,
                "segments": _segments(body),
                "message_state": "received",
                "tags": [],
            },
        )
        return msg
