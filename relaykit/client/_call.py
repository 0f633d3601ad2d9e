"""``Call``: one live RELAY call and the SDK's commands on it.

:class:`Call` is the call of ``on_call`` handlers and ``dial()``: what a call
is (identity, state, events, waits) and how a command is sent are defined by
:class:`~relaykit.client._call_base.CallBase`; this module adds the command
facade of the official client, one short delegation per method.  The params
come from the pure builders of :mod:`._commands` (``build.play(...)``), so the
wire shape of every method is tested without sockets
(``tests/model/test_commands.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import _commands as build
from ._actions import (
    AIAction,
    CollectAction,
    CompletionCallback,
    DetectAction,
    FaxAction,
    PayAction,
    PlayAction,
    RecordAction,
    StandaloneCollectAction,
    StreamAction,
    TapAction,
    TranscribeAction,
)
from ._call_base import CallBase, EventHandler

__all__ = ["Call", "EventHandler"]


class Call(CallBase):
    """A live RELAY call (inbound from ``on_call``, outbound from ``dial()``).

    Attributes:
        call_id: The call's id.
        node_id: The RELAY node handling the call.
        project_id: The project id, when the server sent one.
        context: The context the call arrived on (inbound calls; ``""`` for dials).
        tag: The correlation tag (dial tag for outbound calls).
        direction: ``"inbound"`` or ``"outbound"``.
        device: The device object (``{"type": "phone", "params": {...}}``).
        state: The current call state (``created`` .. ``ended``).
        end_reason: Why the call ended (``hangup``, ``busy``, ...), once it ended.
        segment_id: The segment id, when the server sent one.
    """

    __slots__ = ()

    # ------------------------------------------------------------------
    # Lifecycle and bridging
    # ------------------------------------------------------------------

    async def answer(self, **kwargs: Any) -> dict[str, Any]:
        """Answer an inbound call (``calling.answer``; extra keywords such as
        ``max_duration`` are sent as params)."""
        return await self._execute("answer", build.simple(kwargs))

    async def hangup(self, reason: str = "hangup") -> dict[str, Any]:
        """End the call (``calling.end``) with *reason* (``hangup``, ``busy``, ...)."""
        return await self._execute("end", {"reason": reason})

    async def pass_(self) -> dict[str, Any]:
        """Decline control of an inbound call; the server offers it to another consumer."""
        return await self._execute("pass")

    async def connect(
        self,
        devices: list[list[dict[str, Any]]],
        *,
        ringback: list[dict[str, Any]] | dict[str, Any] | None = None,
        tag: str | None = None,
        max_duration: int | None = None,
        max_price_per_minute: float | None = None,
        status_url: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Bridge the call to *devices* (``calling.connect``; serial list of parallel lists).

        The outcome arrives as ``calling.call.connect`` events
        (``EVENT_CALL_CONNECT``: connecting, connected, failed, disconnected).
        *ringback*: a media list or a single media item, flat or wire form.
        """
        params = build.connect(
            devices,
            ringback=ringback,
            tag=tag,
            max_duration=max_duration,
            max_price_per_minute=max_price_per_minute,
            status_url=status_url,
            extra=kwargs,
        )
        return await self._execute("connect", params)

    async def disconnect(self) -> dict[str, Any]:
        """Unbridge a connected call (``calling.disconnect``); both legs stay up."""
        return await self._execute("disconnect")

    async def transfer(self, dest: str, **kwargs: Any) -> dict[str, Any]:
        """Hand control to *dest* (a RELAY/SWML URL, inline SWML, or ``context:<name>``)."""
        return await self._execute("transfer", build.transfer(dest, kwargs))

    async def send_digits(self, digits: str, *, control_id: str | None = None) -> dict[str, Any]:
        """Send DTMF *digits* (``0-9 # * A-D``, ``w`` = 0.5 s pause, ``W`` = 1 s)."""
        params = build.send_digits(self._new_control_id(control_id), digits)
        return await self._execute("send_digits", params)

    async def refer(
        self, device: dict[str, Any], *, status_url: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """SIP REFER the call to *device* (``{"type": "sip", "params": {"to": ...}}``)."""
        return await self._execute("refer", build.refer(device, status_url, kwargs))

    # ------------------------------------------------------------------
    # Playback (each returns its action at once; ``action.wait()`` waits)
    # ------------------------------------------------------------------

    async def play(
        self,
        media: list[dict[str, Any]],
        *,
        volume: float | None = None,
        direction: str | None = None,
        loop: int | None = None,
        control_id: str | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> PlayAction:
        """Play media (``calling.play``).

        Args:
            media: Media items, flat (``{"type": "tts", "text": "Hi"}``, as in the
                seed docs) or wire form (``{"type": "tts", "params": {...}}``).
            volume: Volume in dB (-40 .. 40).
            direction: ``listen``, ``speak`` or ``both``.
            loop: Repeat count (0 = until stopped).
            control_id: Use this control id instead of a fresh one.
            on_completed: Called with the terminal event (sync or async).
            **kwargs: Extra params sent as is.

        Returns:
            A :class:`PlayAction` (already done if the call is gone).
        """
        cid = self._new_control_id(control_id)
        params = build.play(cid, media, volume=volume, direction=direction, loop=loop, extra=kwargs)
        return await self._start(PlayAction(self, cid, on_completed=on_completed), "play", params)

    async def play_tts(
        self,
        text: str,
        *,
        language: str | None = None,
        gender: str | None = None,
        voice: str | None = None,
        volume: float | None = None,
        on_completed: CompletionCallback | None = None,
    ) -> PlayAction:
        """Speak *text* (a ``tts`` media item)."""
        media = [build.tts_media(text, language, gender, voice)]
        return await self.play(media, volume=volume, on_completed=on_completed)

    async def play_audio(
        self,
        url: str,
        *,
        volume: float | None = None,
        on_completed: CompletionCallback | None = None,
    ) -> PlayAction:
        """Play the audio file at *url*."""
        return await self.play([build.audio_media(url)], volume=volume, on_completed=on_completed)

    async def play_silence(
        self, duration: float, *, on_completed: CompletionCallback | None = None
    ) -> PlayAction:
        """Play *duration* seconds of silence."""
        return await self.play([build.silence_media(duration)], on_completed=on_completed)

    async def play_ringtone(
        self,
        name: str,
        *,
        duration: float | None = None,
        volume: float | None = None,
        on_completed: CompletionCallback | None = None,
    ) -> PlayAction:
        """Play the ringtone of country *name* (``us``, ``uk``, ...)."""
        media = [build.ringtone_media(name, duration)]
        return await self.play(media, volume=volume, on_completed=on_completed)

    # ------------------------------------------------------------------
    # Recording, input and detection
    # ------------------------------------------------------------------

    async def record(
        self,
        audio: dict[str, Any] | None = None,
        *,
        control_id: str | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> RecordAction:
        """Record the call (``calling.record`` with ``{"audio": audio}``).

        Args:
            audio: ``format``, ``direction``, ``stereo``, ``beep``,
                ``initial_timeout``, ``end_silence_timeout``, ``terminators``, ...
            control_id: Use this control id instead of a fresh one.
            on_completed: Called with the terminal event.
            **kwargs: Extra params (e.g. ``status_url``).
        """
        cid = self._new_control_id(control_id)
        action = RecordAction(self, cid, on_completed=on_completed)
        return await self._start(action, "record", build.record(cid, audio, kwargs))

    async def play_and_collect(
        self,
        media: list[dict[str, Any]],
        collect: dict[str, Any],
        *,
        volume: float | None = None,
        control_id: str | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> CollectAction:
        """Play a prompt and collect digits/speech (``calling.play_and_collect``).

        The action ends on the final collect result, not when the prompt ends;
        read it with ``result.digits`` / ``result.speech`` / ``result.type`` or,
        as in the seed docs, ``result.params["result"]["digits"]``.
        """
        cid = self._new_control_id(control_id)
        params = build.play_and_collect(cid, media, collect, volume=volume, extra=kwargs)
        action = CollectAction(self, cid, on_completed=on_completed)
        return await self._start(action, "play_and_collect", params)

    async def prompt_tts(
        self,
        text: str,
        collect: dict[str, Any],
        *,
        language: str | None = None,
        gender: str | None = None,
        voice: str | None = None,
        volume: float | None = None,
        on_completed: CompletionCallback | None = None,
    ) -> CollectAction:
        """Speak *text* and collect input (``play_and_collect`` with one ``tts`` item)."""
        media = [build.tts_media(text, language, gender, voice)]
        return await self.play_and_collect(media, collect, volume=volume, on_completed=on_completed)

    async def prompt_audio(
        self,
        url: str,
        collect: dict[str, Any],
        *,
        volume: float | None = None,
        on_completed: CompletionCallback | None = None,
    ) -> CollectAction:
        """Play the audio at *url* and collect input."""
        media = [build.audio_media(url)]
        return await self.play_and_collect(media, collect, volume=volume, on_completed=on_completed)

    async def collect(
        self,
        *,
        digits: dict[str, Any] | None = None,
        speech: dict[str, Any] | None = None,
        initial_timeout: float | None = None,
        partial_results: bool | None = None,
        continuous: bool | None = None,
        send_start_of_input: bool | None = None,
        start_input_timers: bool | None = None,
        control_id: str | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> StandaloneCollectAction:
        """Collect digits and/or speech without a prompt (``calling.collect``).

        Ends only on a final result: partial results, ``start_of_input`` and
        continuous-mode updates do not end it.
        """
        options = _named(locals())
        cid = self._new_control_id(control_id)
        action = StandaloneCollectAction(self, cid, on_completed=on_completed)
        return await self._start(action, "collect", build.collect(cid, options, kwargs))

    async def detect(
        self,
        detect: dict[str, Any],
        *,
        timeout: float | None = None,
        control_id: str | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> DetectAction:
        """Start detection (``calling.detect``): machine, fax or digit.

        Args:
            detect: ``{"type": "machine"|"fax"|"digit", "params": {...}}``.
            timeout: Overall detection timeout in seconds (server default 30).
        """
        cid = self._new_control_id(control_id)
        action = DetectAction(self, cid, on_completed=on_completed)
        return await self._start(action, "detect", build.detect(cid, detect, timeout, kwargs))

    async def detect_answering_machine(
        self,
        *,
        initial_timeout: float | None = None,
        end_silence_timeout: float | None = None,
        machine_voice_threshold: float | None = None,
        machine_words_threshold: int | None = None,
        detect_interruptions: bool | None = None,
        detect_message_end: bool | None = None,
        timeout: float | None = None,
        on_completed: CompletionCallback | None = None,
    ) -> DetectAction:
        """Answering-machine detection; the result is ``MACHINE``, ``HUMAN`` or ``UNKNOWN``."""
        options = _named(locals(), "timeout")
        detect = {"type": "machine", "params": build.detect_params(**options)}
        return await self.detect(detect, timeout=timeout, on_completed=on_completed)

    async def detect_fax(
        self,
        *,
        tone: str | None = None,
        timeout: float | None = None,
        on_completed: CompletionCallback | None = None,
    ) -> DetectAction:
        """Fax tone detection (``CED`` or ``CNG``)."""
        detect = {"type": "fax", "params": build.detect_params(tone=tone)}
        return await self.detect(detect, timeout=timeout, on_completed=on_completed)

    async def detect_digit(
        self,
        *,
        digits: str | None = None,
        timeout: float | None = None,
        on_completed: CompletionCallback | None = None,
    ) -> DetectAction:
        """DTMF detection (*digits*: the digits to listen for)."""
        detect = {"type": "digit", "params": build.detect_params(digits=digits)}
        return await self.detect(detect, timeout=timeout, on_completed=on_completed)

    # ------------------------------------------------------------------
    # Fax, tap, stream, pay, transcription, AI (actions)
    # ------------------------------------------------------------------

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
        cid = self._new_control_id(control_id)
        params = build.send_fax(cid, document, identity, header_info, kwargs)
        action = FaxAction(self, cid, "send_fax", on_completed=on_completed)
        return await self._start(action, "send_fax", params)

    async def receive_fax(
        self,
        *,
        control_id: str | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> FaxAction:
        """Receive a fax; the finished event carries the document URL."""
        cid = self._new_control_id(control_id)
        action = FaxAction(self, cid, "receive_fax", on_completed=on_completed)
        return await self._start(action, "receive_fax", build.receive_fax(cid, kwargs))

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
        cid = self._new_control_id(control_id)
        action = TapAction(self, cid, on_completed=on_completed)
        return await self._start(action, "tap", build.tap(cid, tap, device, kwargs))

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
        options = _named(locals())
        cid = self._new_control_id(control_id)
        action = StreamAction(self, cid, on_completed=on_completed)
        return await self._start(action, "stream", build.stream(cid, options, kwargs))

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
        options = _named(locals())
        cid = self._new_control_id(control_id)
        action = PayAction(self, cid, on_completed=on_completed)
        return await self._start(action, "pay", build.pay(cid, options, kwargs))

    async def transcribe(
        self,
        *,
        control_id: str | None = None,
        status_url: str | None = None,
        on_completed: CompletionCallback | None = None,
        **kwargs: Any,
    ) -> TranscribeAction:
        """Transcribe the call (one per call; a second one gets 409)."""
        cid = self._new_control_id(control_id)
        action = TranscribeAction(self, cid, on_completed=on_completed)
        return await self._start(action, "transcribe", build.transcribe(cid, status_url, kwargs))

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
        options = _named(locals())
        cid = self._new_control_id(control_id)
        action = AIAction(self, cid, on_completed=on_completed)
        return await self._start(action, "ai", build.ai(cid, options, kwargs))

    # ------------------------------------------------------------------
    # Conferences, rooms, digits, live transcription, AI, queues (plain commands)
    # ------------------------------------------------------------------

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
        params = build.join_conference(_named(locals()), kwargs)
        return await self._execute("join_conference", params)

    async def leave_conference(self, conference_id: str, **kwargs: Any) -> dict[str, Any]:
        """Leave the conference *conference_id*."""
        params = build.leave_conference(conference_id, kwargs)
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
        return await self._execute("echo", build.echo(timeout, status_url, kwargs))

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
        params = build.bind_digit(
            digits,
            bind_method,
            bind_params=bind_params,
            realm=realm,
            max_triggers=max_triggers,
            extra=kwargs,
        )
        return await self._execute("bind_digit", params)

    async def clear_digit_bindings(
        self, *, realm: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Remove digit bindings (all, or those of *realm*)."""
        return await self._execute(
            "clear_digit_bindings", build.clear_digit_bindings(realm, kwargs)
        )

    async def live_transcribe(self, action: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Control live transcription (*action*: ``{"start": {...}}``, ``{"stop": {}}``, ...)."""
        return await self._execute("live_transcribe", build.live_transcribe(action, kwargs))

    async def live_translate(
        self, action: dict[str, Any], *, status_url: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Control live translation (*action*: start, stop, summarize, inject)."""
        params = build.live_translate(action, status_url, kwargs)
        return await self._execute("live_translate", params)

    async def join_room(
        self, name: str, *, status_url: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Join the video/audio room *name*."""
        return await self._execute("join_room", build.join_room(name, status_url, kwargs))

    async def leave_room(self, **kwargs: Any) -> dict[str, Any]:
        """Leave the current room."""
        return await self._execute("leave_room", build.simple(kwargs))

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
        params = build.amazon_bedrock(_named(locals()), kwargs)
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
        return await self._execute("ai_message", build.ai_message(_named(locals()), kwargs))

    async def ai_hold(
        self, *, timeout: str | None = None, prompt: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Put the AI session on hold."""
        return await self._execute("ai_hold", build.ai_hold(timeout, prompt, kwargs))

    async def ai_unhold(self, *, prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Resume the AI session."""
        return await self._execute("ai_unhold", build.ai_unhold(prompt, kwargs))

    async def user_event(self, *, event: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Send a custom event (extra keywords are merged into params)."""
        return await self._execute("user_event", build.user_event(event, kwargs))

    async def queue_enter(
        self,
        queue_name: str,
        *,
        control_id: str | None = None,
        status_url: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Put the call into the queue *queue_name* (events: ``calling.call.queue``)."""
        cid = self._new_control_id(control_id)
        params = build.queue_enter(cid, queue_name, status_url, kwargs)
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
        cid = self._new_control_id(control_id)
        params = build.queue_leave(cid, queue_name, queue_id, status_url, kwargs)
        return await self._execute("queue.leave", params)


#: Arguments of a command method that are not wire options.
_NOT_OPTIONS = frozenset({"self", "control_id", "on_completed", "kwargs"})


def _named(scope: Mapping[str, Any], *leave_out: str) -> dict[str, Any]:
    """A method's named arguments (``_named(locals())`` as its first statement), in
    signature order, without ``self``/``control_id``/``on_completed``/``kwargs`` and
    *leave_out*: the options its builder turns into params."""
    return {
        key: value
        for key, value in scope.items()
        if key not in _NOT_OPTIONS and key not in leave_out
    }
