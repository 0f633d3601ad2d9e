"""``Call``'s media commands: play, record, collect, play-and-collect, detect.

A mixin of :class:`~relaykit.client.Call` (on top of :class:`CallExtrasMixin`),
split out only to keep modules short.  Every method starts an action
(:meth:`Call._start_action`) and returns it at once; ``action.wait()`` waits
for its end.  Flat seed-doc media items are converted to the wire form by
:func:`~relaykit.client._media.to_wire_media`.
"""

from __future__ import annotations

from typing import Any

from ._actions import (
    CollectAction,
    CompletionCallback,
    DetectAction,
    PlayAction,
    RecordAction,
    StandaloneCollectAction,
)
from ._call_extras import CallExtrasMixin
from ._call_extras import put_params as _put
from ._media import to_wire_media

__all__ = ["CallMediaMixin"]


class CallMediaMixin(CallExtrasMixin):
    """Playback, recording, input collection and detection."""

    __slots__ = ()

    # ------------------------------------------------------------------
    # Playback
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
        cid = self._control_id(control_id)
        params: dict[str, Any] = {"control_id": cid, "play": to_wire_media(media)}
        _put(params, volume=volume, direction=direction, loop=loop)
        params.update(kwargs)
        action = PlayAction(self._as_call(), cid, on_completed=on_completed)
        return await self._start_action(action, "play", params)

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
        tts: dict[str, Any] = {"text": text}
        _put(tts, language=language, gender=gender, voice=voice)
        return await self.play(
            [{"type": "tts", "params": tts}], volume=volume, on_completed=on_completed
        )

    async def play_audio(
        self,
        url: str,
        *,
        volume: float | None = None,
        on_completed: CompletionCallback | None = None,
    ) -> PlayAction:
        """Play the audio file at *url*."""
        return await self.play(
            [{"type": "audio", "params": {"url": url}}], volume=volume, on_completed=on_completed
        )

    async def play_silence(
        self, duration: float, *, on_completed: CompletionCallback | None = None
    ) -> PlayAction:
        """Play *duration* seconds of silence."""
        return await self.play(
            [{"type": "silence", "params": {"duration": duration}}], on_completed=on_completed
        )

    async def play_ringtone(
        self,
        name: str,
        *,
        duration: float | None = None,
        volume: float | None = None,
        on_completed: CompletionCallback | None = None,
    ) -> PlayAction:
        """Play the ringtone of country *name* (``us``, ``uk``, ...)."""
        ringtone: dict[str, Any] = {"name": name}
        _put(ringtone, duration=duration)
        return await self.play(
            [{"type": "ringtone", "params": ringtone}], volume=volume, on_completed=on_completed
        )

    # ------------------------------------------------------------------
    # Recording and input
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
        cid = self._control_id(control_id)
        params: dict[str, Any] = {"control_id": cid, "record": {"audio": audio or {}}}
        params.update(kwargs)
        action = RecordAction(self._as_call(), cid, on_completed=on_completed)
        return await self._start_action(action, "record", params)

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
        cid = self._control_id(control_id)
        params: dict[str, Any] = {
            "control_id": cid,
            "play": to_wire_media(media),
            "collect": collect,
        }
        _put(params, volume=volume)
        params.update(kwargs)
        action = CollectAction(self._as_call(), cid, on_completed=on_completed)
        return await self._start_action(action, "play_and_collect", params)

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
        tts: dict[str, Any] = {"text": text}
        _put(tts, language=language, gender=gender, voice=voice)
        return await self.play_and_collect(
            [{"type": "tts", "params": tts}], collect, volume=volume, on_completed=on_completed
        )

    async def prompt_audio(
        self,
        url: str,
        collect: dict[str, Any],
        *,
        volume: float | None = None,
        on_completed: CompletionCallback | None = None,
    ) -> CollectAction:
        """Play the audio at *url* and collect input."""
        return await self.play_and_collect(
            [{"type": "audio", "params": {"url": url}}],
            collect,
            volume=volume,
            on_completed=on_completed,
        )

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
        cid = self._control_id(control_id)
        params: dict[str, Any] = {"control_id": cid}
        _put(
            params,
            digits=digits,
            speech=speech,
            initial_timeout=initial_timeout,
            partial_results=partial_results,
            continuous=continuous,
            send_start_of_input=send_start_of_input,
            start_input_timers=start_input_timers,
        )
        params.update(kwargs)
        action = StandaloneCollectAction(self._as_call(), cid, on_completed=on_completed)
        return await self._start_action(action, "collect", params)

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
        cid = self._control_id(control_id)
        params: dict[str, Any] = {"control_id": cid, "detect": detect}
        _put(params, timeout=timeout)
        params.update(kwargs)
        action = DetectAction(self._as_call(), cid, on_completed=on_completed)
        return await self._start_action(action, "detect", params)

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
        params: dict[str, Any] = {}
        _put(
            params,
            initial_timeout=initial_timeout,
            end_silence_timeout=end_silence_timeout,
            machine_voice_threshold=machine_voice_threshold,
            machine_words_threshold=machine_words_threshold,
            detect_interruptions=detect_interruptions,
            detect_message_end=detect_message_end,
        )
        return await self.detect(
            {"type": "machine", "params": params}, timeout=timeout, on_completed=on_completed
        )

    async def detect_fax(
        self,
        *,
        tone: str | None = None,
        timeout: float | None = None,
        on_completed: CompletionCallback | None = None,
    ) -> DetectAction:
        """Fax tone detection (``CED`` or ``CNG``)."""
        params: dict[str, Any] = {}
        _put(params, tone=tone)
        return await self.detect(
            {"type": "fax", "params": params}, timeout=timeout, on_completed=on_completed
        )

    async def detect_digit(
        self,
        *,
        digits: str | None = None,
        timeout: float | None = None,
        on_completed: CompletionCallback | None = None,
    ) -> DetectAction:
        """DTMF detection (*digits*: the digits to listen for)."""
        params: dict[str, Any] = {}
        _put(params, digits=digits)
        return await self.detect(
            {"type": "digit", "params": params}, timeout=timeout, on_completed=on_completed
        )
