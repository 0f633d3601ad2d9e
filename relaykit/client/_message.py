"""``Message``: one SMS/MMS, outbound (``send_message``) or inbound (``on_message``).

Outbound messages start as ``queued`` after the ``messaging.send`` result and
follow ``messaging.state`` events to a terminal state: ``delivered``,
``undelivered`` or ``failed`` (protocol reference §7).  States may be skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from relay_proto import MessageStateChanged, RelayEvent

if TYPE_CHECKING:
    from ._client import RelayClient
    from ._dispatch import Dispatcher
    from ._runtime import AsyncEvent

__all__ = ["Message", "inbound_message"]

logger = logging.getLogger("relaykit.client")


class Message:
    """An SMS/MMS message and its delivery state.

    Attributes:
        message_id: The server's message id.
        context: The context the state events are delivered to.
        direction: ``"outbound"`` or ``"inbound"``.
        from_number: Sender (E.164).
        to_number: Recipient (E.164).
        body: Text.
        media: Media URLs (MMS).
        segments: Number of SMS segments (once known).
        state: ``queued``, ``initiated``, ``sent``, ``delivered``,
            ``undelivered``, ``failed`` or ``received``.
        reason: Failure reason on ``undelivered``/``failed``.
        tags: Tags.
    """

    def __init__(
        self,
        *,
        message_id: str = "",
        context: str = "",
        direction: str = "",
        from_number: str = "",
        to_number: str = "",
        body: str = "",
        media: list[str] | None = None,
        segments: int = 0,
        state: str = "",
        reason: str = "",
        tags: list[str] | None = None,
        client: RelayClient | None = None,
        on_completed: Callable[[RelayEvent], Any] | None = None,
    ) -> None:
        self.message_id = message_id
        self.context = context
        self.direction = direction
        self.from_number = from_number
        self.to_number = to_number
        self.body = body
        self.media: list[str] = media if media is not None else []
        self.segments = segments
        self.state = state
        self.reason = reason
        self.tags: list[str] = tags if tags is not None else []
        # The engine behind the client, by its documented link.
        self._hub: Dispatcher | None = client.dispatcher if client is not None else None
        self._on_completed = on_completed
        self._listeners: list[Callable[[RelayEvent], Any]] = []
        self._result: RelayEvent | None = None
        self._done: AsyncEvent | None = (
            self._hub.runtime.create_event() if self._hub is not None else None
        )

    def __repr__(self) -> str:
        return (
            f"Message(id={self.message_id!r}, direction={self.direction!r}, "
            f"state={self.state!r}, from={self.from_number!r}, to={self.to_number!r})"
        )

    @property
    def is_done(self) -> bool:
        """True once the message reached ``delivered``, ``undelivered`` or ``failed``."""
        return self._result is not None

    @property
    def result(self) -> RelayEvent | None:
        """The terminal ``messaging.state`` event, or ``None`` while in flight."""
        return self._result

    def on(self, handler: Callable[[RelayEvent], Any]) -> None:
        """Call *handler(event)* for every state change (sync or async)."""
        self._listeners.append(handler)

    async def wait(self, timeout: float | None = None) -> RelayEvent:
        """Wait for a terminal state and return its ``messaging.state`` event.

        A timed-out wait does not affect the message; wait again later.

        Raises:
            TimeoutError: *timeout* seconds passed first.  A Message built by hand
                (not by a client) can never reach a terminal state by itself, so
                with a *timeout* it raises this at once, as the official client's
                wait does once the timeout passes.
            RuntimeError: A Message built by hand, waited on without a *timeout*
                (it would wait forever).
        """
        if self._result is None:
            if self._done is None or self._hub is None:
                if timeout is not None:
                    raise TimeoutError(
                        f"message {self.message_id} is not attached to a RelayClient:"
                        f" not final within {timeout} s"
                    )
                raise RuntimeError(
                    "this Message is not attached to a RelayClient (it would wait forever)"
                )
            runtime = self._hub.runtime
            if timeout is None:
                await self._done.wait()
            else:
                with runtime.move_on_at(runtime.current_time() + timeout):
                    await self._done.wait()
        if self._result is None:
            raise TimeoutError(f"message {self.message_id} not final within {timeout} s")
        return self._result

    def note_state(self, event: MessageStateChanged) -> None:
        """Apply one ``messaging.state`` event (called by the dispatcher; the end is
        :meth:`settle`)."""
        state = event.message_state
        if state:
            self.state = state
        if event.reason:
            self.reason = event.reason
        if event.segments:
            self.segments = event.segments
        hub = self._hub
        if hub is not None:
            for handler in tuple(self._listeners):
                hub.run_listener(handler, event)

    def settle(self, event: MessageStateChanged) -> None:
        """The core's ``MessageCompleted`` (called by the dispatcher): *event* is the
        terminal state (applied once)."""
        if self._result is not None:
            return
        self._result = event
        if self._done is not None:
            self._done.set()
        hub = self._hub
        if self._on_completed is not None and hub is not None:
            hub.run_callback(self._on_completed, event, f"on_completed of {self!r}")


def inbound_message(event: RelayEvent, client: RelayClient) -> Message:
    """An inbound :class:`Message` from a ``messaging.receive`` event."""
    info: Any = event
    return Message(
        message_id=info.message_id,
        context=info.context,
        direction=info.direction or "inbound",
        from_number=info.from_number,
        to_number=info.to_number,
        body=info.body,
        media=info.media,
        segments=info.segments,
        state=info.message_state or "received",
        reason=info.reason,
        tags=info.tags,
        client=client,
    )
