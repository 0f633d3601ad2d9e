"""The less common ``Call`` commands: fax, tap, stream, pay, conferences, rooms, AI, queues, ...

A mixin of :class:`~relaykit.client.Call`, split out only to keep modules
short.  Keyword names and defaults follow the official ``signalwire.relay``
client, including its renames (``input_method`` -> ``input``,
``bind_params`` -> ``params``, ``ai_params`` -> ``params``, ``stream_obj`` ->
``stream``); ``**kwargs`` are sent as extra params.  Methods marked † in the
protocol reference (hold/unhold, transcribe, ai) are not in the server schema.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ._actions import (
    Action,
    AIAction,
    CompletionCallback,
    FaxAction,
    PayAction,
    StreamAction,
    TapAction,
    TranscribeAction,
)

if TYPE_CHECKING:
    from ._call import Call

__all__ = ["CallExtrasMixin", "put_params"]

_ActionT = TypeVar("_ActionT", bound=Action)


def put_params(target: dict[str, Any], /, **values: Any) -> None:
    """Copy the keyword arguments that are not ``None`` into *target*."""
    for key, value in values.items():
        if value is not None:
            target[key] = value


class CallExtrasMixin:
    """Fax, tap, stream, pay, transcribe, conference, room, AI, queue and misc commands."""

    __slots__ = ()

    if TYPE_CHECKING:
        # Provided by Call; declared for the type checker only.
        def _execute(
            self, method: str, extra_params: Mapping[str, Any] | None = None
        ) -> Awaitable[dict[str, Any]]: ...

        async def _start_action(
            self, action: _ActionT, method: str, params: dict[str, Any]
        ) -> _ActionT: ...

        def _control_id(self, control_id: str | None) -> str: ...

    def _as_call(self) -> Call:
        return cast("Call", self)

    # -- actions --------------------------------------------------------------

    async def send_fax(
        self,
        document: str,
        *,
        identity: str | None = None,
        header_info: str | None = None,
        control_id: str | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> FaxAction:
        """Send the fax *document* (URL); ends on ``fax.type`` finished/error."""
        cid = self._control_id(control_id)
        params: dict[str, Any] = {"control_id": cid, "document": document}
        put_params(params, identity=identity, header_info=header_info)
        params.update(kwargs)
        action = FaxAction(self._as_call(), cid, "send_fax", on_completed=on_completed)
        return await self._start_action(action, "send_fax", params)

    async def receive_fax(
        self,
        *,
        control_id: str | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> FaxAction:
        """Receive a fax; the finished event carries the document URL."""
        cid = self._control_id(control_id)
        params: dict[str, Any] = {"control_id": cid}
        params.update(kwargs)
        action = FaxAction(self._as_call(), cid, "receive_fax", on_completed=on_completed)
        return await self._start_action(action, "receive_fax", params)

    async def tap(
        self,
        tap: dict[str, Any],
        device: dict[str, Any],
        *,
        control_id: str | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> TapAction:
        """Copy call media to *device* (``rtp`` or ``ws``); *tap* selects audio and direction."""
        cid = self._control_id(control_id)
        params: dict[str, Any] = {"control_id": cid, "tap": tap, "device": device}
        params.update(kwargs)
        action = TapAction(self._as_call(), cid, on_completed=on_completed)
        return await self._start_action(action, "tap", params)

    async def stream(
        self,
        url: str,
        *,
        name: str | None = None,
        codec: str | None = None,
        track: str | None = None,
        status_url: str | None = None,
        status_url_method: str | None = None,
        authorization_bearer_token: str | None = None,
        custom_parameters: dict[str, Any] | None = None,
        control_id: str | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> StreamAction:
        """Stream call audio to the WebSocket *url*."""
        cid = self._control_id(control_id)
        params: dict[str, Any] = {"control_id": cid, "url": url}
        put_params(
            params,
            name=name,
            codec=codec,
            track=track,
            status_url=status_url,
            status_url_method=status_url_method,
            authorization_bearer_token=authorization_bearer_token,
            custom_parameters=custom_parameters,
        )
        params.update(kwargs)
        action = StreamAction(self._as_call(), cid, on_completed=on_completed)
        return await self._start_action(action, "stream", params)

    async def pay(
        self,
        payment_connector_url: str,
        *,
        control_id: str | None = None,
        input_method: str | None = None,
        status_url: str | None = None,
        payment_method: str | None = None,
        timeout: str | None = None,
        max_attempts: str | None = None,
        security_code: str | None = None,
        postal_code: str | None = None,
        min_postal_code_length: str | None = None,
        token_type: str | None = None,
        charge_amount: str | None = None,
        currency: str | None = None,
        language: str | None = None,
        voice: str | None = None,
        description: str | None = None,
        valid_card_types: str | None = None,
        parameters: list[dict[str, Any]] | None = None,
        prompts: list[dict[str, Any]] | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> PayAction:
        """Collect a payment via *payment_connector_url* (``input_method`` is sent as ``input``)."""
        cid = self._control_id(control_id)
        params: dict[str, Any] = {"control_id": cid, "payment_connector_url": payment_connector_url}
        put_params(
            params,
            input=input_method,
            status_url=status_url,
            payment_method=payment_method,
            timeout=timeout,
            max_attempts=max_attempts,
            security_code=security_code,
            postal_code=postal_code,
            min_postal_code_length=min_postal_code_length,
            token_type=token_type,
            charge_amount=charge_amount,
            currency=currency,
            language=language,
            voice=voice,
            description=description,
            valid_card_types=valid_card_types,
            parameters=parameters,
            prompts=prompts,
        )
        params.update(kwargs)
        action = PayAction(self._as_call(), cid, on_completed=on_completed)
        return await self._start_action(action, "pay", params)

    async def transcribe(
        self,
        *,
        control_id: str | None = None,
        status_url: str | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> TranscribeAction:
        """Transcribe the call (one per call; a second one gets 409)."""
        cid = self._control_id(control_id)
        params: dict[str, Any] = {"control_id": cid}
        put_params(params, status_url=status_url)
        params.update(kwargs)
        action = TranscribeAction(self._as_call(), cid, on_completed=on_completed)
        return await self._start_action(action, "transcribe", params)

    async def ai(
        self,
        *,
        control_id: str | None = None,
        agent: str | None = None,
        prompt: dict[str, Any] | None = None,
        post_prompt: dict[str, Any] | None = None,
        post_prompt_url: str | None = None,
        post_prompt_auth_user: str | None = None,
        post_prompt_auth_password: str | None = None,
        global_data: dict[str, Any] | None = None,
        pronounce: list[dict[str, Any]] | None = None,
        hints: list[str] | None = None,
        languages: list[dict[str, Any]] | None = None,
        SWAIG: dict[str, Any] | None = None,
        ai_params: dict[str, Any] | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> AIAction:
        """Start an AI agent on the call (``ai_params`` is sent as ``params``)."""
        cid = self._control_id(control_id)
        params: dict[str, Any] = {"control_id": cid}
        put_params(
            params,
            agent=agent,
            prompt=prompt,
            post_prompt=post_prompt,
            post_prompt_url=post_prompt_url,
            post_prompt_auth_user=post_prompt_auth_user,
            post_prompt_auth_password=post_prompt_auth_password,
            global_data=global_data,
            pronounce=pronounce,
            hints=hints,
            languages=languages,
            SWAIG=SWAIG,
            params=ai_params,
        )
        params.update(kwargs)
        action = AIAction(self._as_call(), cid, on_completed=on_completed)
        return await self._start_action(action, "ai", params)

    # -- plain commands -------------------------------------------------------

    async def refer(
        self, device: dict[str, Any], *, status_url: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """SIP REFER the call to *device* (``{"type": "sip", "params": {"to": ...}}``)."""
        params: dict[str, Any] = {"device": device}
        put_params(params, status_url=status_url)
        params.update(kwargs)
        return await self._execute("refer", params)

    async def join_conference(
        self,
        name: str,
        *,
        muted: bool | None = None,
        beep: str | None = None,
        start_on_enter: bool | None = None,
        end_on_exit: bool | None = None,
        wait_url: str | None = None,
        max_participants: int | None = None,
        record: str | None = None,
        region: str | None = None,
        trim: str | None = None,
        coach: str | None = None,
        status_callback: str | None = None,
        status_callback_event: str | None = None,
        status_callback_event_type: str | None = None,
        status_callback_method: str | None = None,
        recording_status_callback: str | None = None,
        recording_status_callback_event: str | None = None,
        recording_status_callback_event_type: str | None = None,
        recording_status_callback_method: str | None = None,
        stream_obj: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Join the conference *name* (``stream_obj`` is sent as ``stream``)."""
        params: dict[str, Any] = {"name": name}
        put_params(
            params,
            muted=muted,
            beep=beep,
            start_on_enter=start_on_enter,
            end_on_exit=end_on_exit,
            wait_url=wait_url,
            max_participants=max_participants,
            record=record,
            region=region,
            trim=trim,
            coach=coach,
            status_callback=status_callback,
            status_callback_event=status_callback_event,
            status_callback_event_type=status_callback_event_type,
            status_callback_method=status_callback_method,
            recording_status_callback=recording_status_callback,
            recording_status_callback_event=recording_status_callback_event,
            recording_status_callback_event_type=recording_status_callback_event_type,
            recording_status_callback_method=recording_status_callback_method,
            stream=stream_obj,
        )
        params.update(kwargs)
        return await self._execute("join_conference", params)

    async def leave_conference(self, conference_id: str, **kwargs: Any) -> dict[str, Any]:
        """Leave the conference *conference_id*."""
        params: dict[str, Any] = {"conference_id": conference_id}
        params.update(kwargs)
        return await self._execute("leave_conference", params)

    async def hold(self) -> dict[str, Any]:
        """Put the call on hold (``calling.hold``)."""
        return await self._execute("hold")

    async def unhold(self) -> dict[str, Any]:
        """Take the call off hold (``calling.unhold``)."""
        return await self._execute("unhold")

    async def denoise(self) -> dict[str, Any]:
        """Start noise reduction (``calling.denoise``)."""
        return await self._execute("denoise")

    async def denoise_stop(self) -> dict[str, Any]:
        """Stop noise reduction (``calling.denoise.stop``)."""
        return await self._execute("denoise.stop")

    async def echo(
        self, *, timeout: float | None = None, status_url: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Echo the caller's audio back (*timeout* 0 = until hangup)."""
        params: dict[str, Any] = {}
        put_params(params, timeout=timeout, status_url=status_url)
        params.update(kwargs)
        return await self._execute("echo", params)

    async def bind_digit(
        self,
        digits: str,
        bind_method: str,
        *,
        bind_params: dict[str, Any] | None = None,
        realm: str | None = None,
        max_triggers: int | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Run *bind_method* (e.g. ``calling.play``) when *digits* are pressed."""
        params: dict[str, Any] = {"digits": digits, "bind_method": bind_method}
        put_params(params, params=bind_params, realm=realm, max_triggers=max_triggers)
        params.update(kwargs)
        return await self._execute("bind_digit", params)

    async def clear_digit_bindings(
        self, *, realm: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Remove digit bindings (all, or those of *realm*)."""
        params: dict[str, Any] = {}
        put_params(params, realm=realm)
        params.update(kwargs)
        return await self._execute("clear_digit_bindings", params)

    async def live_transcribe(self, action: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Control live transcription (*action*: ``{"start": {...}}``, ``{"stop": {}}``, ...)."""
        params: dict[str, Any] = {"action": action}
        params.update(kwargs)
        return await self._execute("live_transcribe", params)

    async def live_translate(
        self, action: dict[str, Any], *, status_url: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Control live translation (*action*: start, stop, summarize, inject)."""
        params: dict[str, Any] = {"action": action}
        put_params(params, status_url=status_url)
        params.update(kwargs)
        return await self._execute("live_translate", params)

    async def join_room(
        self, name: str, *, status_url: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Join the video/audio room *name*."""
        params: dict[str, Any] = {"name": name}
        put_params(params, status_url=status_url)
        params.update(kwargs)
        return await self._execute("join_room", params)

    async def leave_room(self, **kwargs: Any) -> dict[str, Any]:
        """Leave the current room."""
        return await self._execute("leave_room", kwargs)

    async def amazon_bedrock(
        self,
        *,
        prompt: Any | None = None,
        SWAIG: dict[str, Any] | None = None,
        ai_params: dict[str, Any] | None = None,
        global_data: dict[str, Any] | None = None,
        post_prompt: dict[str, Any] | None = None,
        post_prompt_url: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Connect the call to an Amazon Bedrock agent (``ai_params`` is sent as ``params``)."""
        params: dict[str, Any] = {}
        put_params(
            params,
            prompt=prompt,
            SWAIG=SWAIG,
            params=ai_params,
            global_data=global_data,
            post_prompt=post_prompt,
            post_prompt_url=post_prompt_url,
        )
        params.update(kwargs)
        return await self._execute("amazon_bedrock", params)

    async def ai_message(
        self,
        *,
        message_text: str | None = None,
        role: str | None = None,
        reset: dict[str, Any] | None = None,
        global_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Send a message into the running AI session."""
        params: dict[str, Any] = {}
        put_params(
            params, message_text=message_text, role=role, reset=reset, global_data=global_data
        )
        params.update(kwargs)
        return await self._execute("ai_message", params)

    async def ai_hold(
        self, *, timeout: str | None = None, prompt: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Put the AI session on hold."""
        params: dict[str, Any] = {}
        put_params(params, timeout=timeout, prompt=prompt)
        params.update(kwargs)
        return await self._execute("ai_hold", params)

    async def ai_unhold(self, *, prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Resume the AI session."""
        params: dict[str, Any] = {}
        put_params(params, prompt=prompt)
        params.update(kwargs)
        return await self._execute("ai_unhold", params)

    async def user_event(self, *, event: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Send a custom event (extra keywords are merged into params)."""
        params: dict[str, Any] = {}
        put_params(params, event=event)
        params.update(kwargs)
        return await self._execute("user_event", params)

    async def queue_enter(
        self,
        queue_name: str,
        *,
        control_id: str | None = None,
        status_url: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Put the call into the queue *queue_name* (events: ``calling.call.queue``)."""
        params: dict[str, Any] = {
            "control_id": self._control_id(control_id),
            "queue_name": queue_name,
        }
        put_params(params, status_url=status_url)
        params.update(kwargs)
        return await self._execute("queue.enter", params)

    async def queue_leave(
        self,
        queue_name: str,
        *,
        control_id: str | None = None,
        queue_id: str | None = None,
        status_url: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Take the call out of the queue *queue_name*."""
        params: dict[str, Any] = {
            "control_id": self._control_id(control_id),
            "queue_name": queue_name,
        }
        put_params(params, queue_id=queue_id, status_url=status_url)
        params.update(kwargs)
        return await self._execute("queue.leave", params)
