"""Pure request builders: the ``params`` of every RELAY command, from its arguments.

One function per command (``play``, ``record``, ``join_conference``, ...), each
returning the ``params`` object that goes on the wire *without* ``node_id`` and
``call_id`` (the :class:`~relaykit.client.Call` adds them), and raising
``TypeError``/``ValueError`` for arguments of the wrong shape before anything
is sent.  No I/O, no client, no call: the same arguments always give the same
dict, which is what ``tests/model/test_commands.py`` checks for every method.

Conventions:

* an argument left at ``None`` is not sent (the server's default applies);
* ``extra`` (a method's ``**kwargs``) is merged last and sent as is;
* keyword names follow the official ``signalwire.relay`` client, including its
  renames (``input_method`` -> ``input``, ``bind_params``/``ai_params`` ->
  ``params``, ``stream_obj`` -> ``stream``);
* flat seed-doc media items (``{"type": "tts", "text": "Hi"}``) become wire
  items (``{"type": "tts", "params": {"text": "Hi"}}``, see :mod:`._media`).

Methods marked † in the protocol reference (hold/unhold, transcribe, ai) are
not in the server schema; they are built the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._media import to_wire_media

__all__ = [
    "action_command",
    "ai",
    "ai_hold",
    "ai_message",
    "ai_unhold",
    "amazon_bedrock",
    "audio_media",
    "bind_digit",
    "check_contexts",
    "check_request",
    "check_timeout",
    "clear_digit_bindings",
    "collect",
    "connect",
    "detect",
    "detect_params",
    "dial",
    "echo",
    "join_conference",
    "join_room",
    "leave_conference",
    "live_transcribe",
    "live_translate",
    "pay",
    "play",
    "play_and_collect",
    "put_params",
    "queue_enter",
    "queue_leave",
    "receive_fax",
    "record",
    "refer",
    "ringtone_media",
    "send_digits",
    "send_fax",
    "send_message",
    "silence_media",
    "simple",
    "stream",
    "string_list",
    "tap",
    "transfer",
    "tts_media",
]

Params = dict[str, Any]


def put_params(target: Params, /, **values: Any) -> Params:
    """Copy the keyword arguments that are not ``None`` into *target*; return it."""
    for key, value in values.items():
        if value is not None:
            target[key] = value
    return target


def _with(params: Params, extra: Mapping[str, Any] | None) -> Params:
    if extra:
        params.update(extra)
    return params


def _renamed(options: Mapping[str, Any], **renames: str) -> dict[str, Any]:
    """*options* with the official client's argument names mapped to wire names."""
    return {renames.get(key, key): value for key, value in options.items()}


def _text(name: str, value: object) -> str:
    """*value* if it is a non-empty string, else a ``TypeError``/``ValueError`` naming *name*."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return value


def _object(name: str, value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict, got {type(value).__name__}")
    return value


def string_list(name: str, value: object) -> list[str]:
    """*value* as a list of non-empty strings; a bare string is a ``TypeError`` naming *name*.

    Raises:
        TypeError: Not a list (or tuple) of strings (``media="https://..."`` would
            otherwise send one item per character).
        ValueError: An item is empty.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a list of strings, not a single string: use [{value!r}]")
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of strings, got {type(value).__name__}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise TypeError(f"{name}[{index}] must be a string, got {type(item).__name__}")
        if not item:
            raise ValueError(f"{name}[{index}] must not be empty")
    return list(value)


#: The params a device type must carry (protocol reference §4.1).
_DEVICE_REQUIRED: dict[str, tuple[str, ...]] = {
    "phone": ("to_number",),
    "sip": ("to",),
    "call": ("call_id",),
    "queue": ("queue_name",),
    "stream": ("url",),
}


def _devices(value: object) -> list[Any]:
    """A serial list of parallel device lists (``[[A], [B, C]]``) of ``{type, params}`` dicts.

    Raises:
        TypeError: Not a list of lists of dicts, a ``type`` that is not a string,
            ``params`` that is not a dict, a required param that is not a string.
        ValueError: An empty plan or group, a missing ``type``/``params`` or
            required param (``phone`` needs ``to_number``, ``sip`` needs ``to``).
    """
    shape = "devices must be a list of lists of device dicts, e.g. [[{'type': 'phone', ...}]]"
    if not isinstance(value, list):
        raise TypeError(f"{shape}; got {type(value).__name__}")
    if not value:
        raise ValueError("devices must not be empty")
    for i, group in enumerate(value):
        if not isinstance(group, list):
            raise TypeError(f"{shape}; devices[{i}] is a {type(group).__name__}")
        if not group:
            raise ValueError(f"devices[{i}] must not be empty (a group of parallel devices)")
        for j, device in enumerate(group):
            where = f"devices[{i}][{j}]"
            if not isinstance(device, Mapping):
                raise TypeError(f"{where} must be a dict, got {type(device).__name__}")
            kind = device.get("type")
            if kind is None:
                raise ValueError(f"{where} has no 'type' (e.g. 'phone' or 'sip')")
            _text(f"{where}['type']", kind)
            params = device.get("params")
            if params is None:
                raise ValueError(f"{where} has no 'params' dict (e.g. {{'to_number': ...}})")
            if not isinstance(params, Mapping):
                raise TypeError(f"{where}['params'] must be a dict, got {type(params).__name__}")
            for key in _DEVICE_REQUIRED.get(kind, ()):
                if key not in params:
                    raise ValueError(f"{where}: a {kind} device needs params[{key!r}]")
                _text(f"{where}['params'][{key!r}]", params[key])
    return value


def _collect_object(name: str, value: object) -> Mapping[str, Any]:
    """A collect object (§4.3): ``digits`` and/or ``speech`` dicts; ``digits.max`` a positive int.

    Raises:
        TypeError: Not a dict, or ``digits``/``speech`` not dicts.
        ValueError: Neither ``digits`` nor ``speech``, or a bad ``digits.max``.
    """
    collect = _object(name, value)
    digits = collect.get("digits")
    speech = collect.get("speech")
    if digits is None and speech is None:
        raise ValueError(f"{name} needs 'digits' and/or 'speech', e.g. {{'digits': {{'max': 4}}}}")
    if speech is not None:
        _object(f"{name}['speech']", speech)
    if digits is not None:
        _object(f"{name}['digits']", digits)
        # ``max`` may be left out: the 2.x SDK sends ``"digits": {}`` (wire corpus
        # frames 166, 169) and the server applies its default.  Given, it must be sane.
        most = digits.get("max")
        if "max" in digits and (isinstance(most, bool) or not isinstance(most, int) or most < 1):
            raise ValueError(f"{name}['digits']['max'] must be a positive integer, got {most!r}")
    return collect


# ---------------------------------------------------------------------------
# Raw requests and client-level commands
# ---------------------------------------------------------------------------


def check_request(method: object, params: object) -> None:
    """Validate the arguments of ``client.execute(method, params)``.

    Raises:
        TypeError: *method* is not a string, or *params* not a dict.
        ValueError: *method* is empty or is ``signalwire.connect`` (sent by the core).
    """
    _text("method", method)
    if method == "signalwire.connect":
        raise ValueError("signalwire.connect is sent by the client itself (connect())")
    _object(f"params of {method}", params)


def check_contexts(contexts: object) -> list[str]:
    """Validate the *contexts* of ``receive``/``unreceive`` and return them as a list.

    Raises:
        TypeError: Not a list (or tuple) of strings; a bare string is refused.
        ValueError: A context is empty.
    """
    if isinstance(contexts, (str, bytes)) or not isinstance(contexts, (list, tuple)):
        raise TypeError(f"contexts must be a list of strings, got {type(contexts).__name__}")
    return [_text("each context", context) for context in contexts]


def dial(tag: str, devices: list[list[dict[str, Any]]], max_duration: int | None) -> Params:
    """``calling.dial``."""
    params: Params = {"tag": tag, "devices": _devices(devices)}
    if max_duration:
        params["max_duration"] = max_duration
    return params


def send_message(
    *,
    context: str,
    to_number: str,
    from_number: str,
    body: str | None,
    media: list[str] | None,
    tags: list[str] | None,
    region: str | None,
) -> Params:
    """``messaging.send``.

    Raises:
        ValueError: Neither *body* nor *media* given, an empty number or list item.
        TypeError: A field of the wrong type (a single string for *media* or *tags*).
    """
    params: Params = {
        "context": _text("context", context),
        "to_number": _text("to_number", to_number),
        "from_number": _text("from_number", from_number),
    }
    if body is not None and not isinstance(body, str):
        raise TypeError(f"body must be a string, got {type(body).__name__}")
    media_list = string_list("media", media) if media is not None else []
    tag_list = string_list("tags", tags) if tags is not None else []
    if region is not None:
        _text("region", region)
    if not body and not media_list:
        raise ValueError("send_message() needs a body or media (or both)")
    if body:
        params["body"] = body
    if media_list:
        params["media"] = media_list
    if tag_list:
        params["tags"] = tag_list
    if region:
        params["region"] = region
    return params


# ---------------------------------------------------------------------------
# Plain call commands (no action)
# ---------------------------------------------------------------------------


def simple(extra: Mapping[str, Any] | None = None) -> Params:
    """A command whose params are only its extra keywords (answer, hold, leave_room, ...)."""
    return dict(extra) if extra else {}


def connect(
    devices: list[list[dict[str, Any]]],
    *,
    ringback: list[dict[str, Any]] | dict[str, Any] | None,
    tag: str | None,
    max_duration: int | None,
    max_price_per_minute: float | None,
    status_url: str | None,
    extra: Mapping[str, Any],
) -> Params:
    """``calling.connect`` (*ringback*: a media list or one media item, flat or wire form).

    One item is sent as a one-item list: the reference (§5.2) and the current
    SDKs (Go, Python) send ``ringback`` as a media array; only the 2019 Node SDK
    sent a bare object (corpus), which we accept as input but do not send.
    """
    params: Params = {"devices": _devices(devices)}
    if isinstance(ringback, Mapping):
        ringback = [dict(ringback)]
    put_params(
        params,
        ringback=None if ringback is None else to_wire_media(ringback),
        tag=tag,
        max_duration=max_duration,
        max_price_per_minute=max_price_per_minute,
        status_url=status_url,
    )
    return _with(params, extra)


def transfer(dest: str, extra: Mapping[str, Any]) -> Params:
    """``calling.transfer``."""
    return _with({"dest": _text("dest", dest)}, extra)


def send_digits(control_id: str, digits: str) -> Params:
    """``calling.send_digits``."""
    return {"control_id": control_id, "digits": _text("digits", digits)}


def refer(device: dict[str, Any], status_url: str | None, extra: Mapping[str, Any]) -> Params:
    """``calling.refer``."""
    params: Params = {"device": _object("device", device)}
    return _with(put_params(params, status_url=status_url), extra)


def join_conference(options: Mapping[str, Any], extra: Mapping[str, Any]) -> Params:
    """``calling.join_conference``; *options* are the method's named arguments, *name*
    first (``stream_obj`` is sent as ``stream``)."""
    _text("name", options.get("name"))
    return _with(put_params({}, **_renamed(options, stream_obj="stream")), extra)


def leave_conference(conference_id: str, extra: Mapping[str, Any]) -> Params:
    """``calling.leave_conference``."""
    return _with({"conference_id": _text("conference_id", conference_id)}, extra)


def echo(timeout: float | None, status_url: str | None, extra: Mapping[str, Any]) -> Params:
    """``calling.echo`` (*timeout* 0 = until hangup)."""
    return _with(put_params({}, timeout=timeout, status_url=status_url), extra)


def bind_digit(
    digits: str,
    bind_method: str,
    *,
    bind_params: dict[str, Any] | None,
    realm: str | None,
    max_triggers: int | None,
    extra: Mapping[str, Any],
) -> Params:
    """``calling.bind_digit`` (``bind_params`` is sent as ``params``)."""
    params: Params = {
        "digits": _text("digits", digits),
        "bind_method": _text("bind_method", bind_method),
    }
    put_params(params, params=bind_params, realm=realm, max_triggers=max_triggers)
    return _with(params, extra)


def clear_digit_bindings(realm: str | None, extra: Mapping[str, Any]) -> Params:
    """``calling.clear_digit_bindings``."""
    return _with(put_params({}, realm=realm), extra)


def live_transcribe(action: dict[str, Any], extra: Mapping[str, Any]) -> Params:
    """``calling.live_transcribe`` (*action*: ``{"start": {...}}``, ``{"stop": {}}``, ...)."""
    return _with({"action": _object("action", action)}, extra)


def live_translate(
    action: dict[str, Any], status_url: str | None, extra: Mapping[str, Any]
) -> Params:
    """``calling.live_translate``."""
    params: Params = {"action": _object("action", action)}
    return _with(put_params(params, status_url=status_url), extra)


def join_room(name: str, status_url: str | None, extra: Mapping[str, Any]) -> Params:
    """``calling.join_room``."""
    params: Params = {"name": _text("name", name)}
    return _with(put_params(params, status_url=status_url), extra)


def amazon_bedrock(options: Mapping[str, Any], extra: Mapping[str, Any]) -> Params:
    """``calling.amazon_bedrock`` (``ai_params`` is sent as ``params``)."""
    return _with(put_params({}, **_renamed(options, ai_params="params")), extra)


def ai_message(options: Mapping[str, Any], extra: Mapping[str, Any]) -> Params:
    """``calling.ai_message`` (*options*: message_text, role, reset, global_data)."""
    return _with(put_params({}, **options), extra)


def ai_hold(timeout: str | None, prompt: str | None, extra: Mapping[str, Any]) -> Params:
    """``calling.ai_hold``."""
    return _with(put_params({}, timeout=timeout, prompt=prompt), extra)


def ai_unhold(prompt: str | None, extra: Mapping[str, Any]) -> Params:
    """``calling.ai_unhold``."""
    return _with(put_params({}, prompt=prompt), extra)


def user_event(event: str | None, extra: Mapping[str, Any]) -> Params:
    """``calling.user_event`` (extra keywords are merged into params)."""
    return _with(put_params({}, event=event), extra)


def queue_enter(
    control_id: str, queue_name: str, status_url: str | None, extra: Mapping[str, Any]
) -> Params:
    """``calling.queue.enter``."""
    params: Params = {"control_id": control_id, "queue_name": _text("queue_name", queue_name)}
    return _with(put_params(params, status_url=status_url), extra)


def queue_leave(
    control_id: str,
    queue_name: str,
    queue_id: str | None,
    status_url: str | None,
    extra: Mapping[str, Any],
) -> Params:
    """``calling.queue.leave``."""
    params: Params = {"control_id": control_id, "queue_name": _text("queue_name", queue_name)}
    return _with(put_params(params, queue_id=queue_id, status_url=status_url), extra)


# ---------------------------------------------------------------------------
# Media items
# ---------------------------------------------------------------------------


def tts_media(text: str, language: str | None, gender: str | None, voice: str | None) -> Params:
    """One wire ``tts`` media item."""
    tts: Params = {"text": _text("text", text)}
    return {"type": "tts", "params": put_params(tts, language=language, gender=gender, voice=voice)}


def audio_media(url: str) -> Params:
    """One wire ``audio`` media item."""
    return {"type": "audio", "params": {"url": _text("url", url)}}


def silence_media(duration: float) -> Params:
    """One wire ``silence`` media item."""
    return {"type": "silence", "params": {"duration": _seconds("duration", duration)}}


def check_timeout(name: str, value: object) -> float | None:
    """A ``timeout=`` argument: ``None`` or a non-negative number of seconds.

    Raises:
        TypeError: Not a number (``timeout="5"``).
        ValueError: Negative or NaN.
    """
    return None if value is None else float(_seconds(name, value))


def _seconds(name: str, value: object) -> float:
    """*value* if it is a non-negative number (not a bool), else a ``TypeError``/``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not 0 <= value < float("inf"):
        raise ValueError(f"{name} must be a non-negative number of seconds, got {value!r}")
    return value


def ringtone_media(name: str, duration: float | None) -> Params:
    """One wire ``ringtone`` media item (*name*: a country, ``us``, ``uk``, ...)."""
    return {
        "type": "ringtone",
        "params": put_params({"name": _text("name", name)}, duration=duration),
    }


# ---------------------------------------------------------------------------
# Commands that start an action (their first param is the control id)
# ---------------------------------------------------------------------------


def play(
    control_id: str,
    media: list[dict[str, Any]],
    *,
    volume: float | None = None,
    direction: str | None = None,
    loop: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Params:
    """``calling.play``."""
    params: Params = {"control_id": control_id, "play": to_wire_media(media)}
    return _with(put_params(params, volume=volume, direction=direction, loop=loop), extra)


def record(
    control_id: str, audio: dict[str, Any] | None, extra: Mapping[str, Any] | None = None
) -> Params:
    """``calling.record`` with ``{"audio": audio}``."""
    wire_audio = {} if audio is None else _object("audio", audio)
    return _with({"control_id": control_id, "record": {"audio": wire_audio}}, extra)


def play_and_collect(
    control_id: str,
    media: list[dict[str, Any]],
    collect: dict[str, Any],
    *,
    volume: float | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Params:
    """``calling.play_and_collect``."""
    params: Params = {
        "control_id": control_id,
        "play": to_wire_media(media),
        "collect": _collect_object("collect", collect),
    }
    return _with(put_params(params, volume=volume), extra)


def collect(control_id: str, options: Mapping[str, Any], extra: Mapping[str, Any]) -> Params:
    """``calling.collect`` (*options*: digits, speech, initial_timeout, partial_results, ...).

    Raises:
        TypeError, ValueError: Neither *digits* nor *speech*, or either malformed.
    """
    params = _with(put_params({"control_id": control_id}, **options), extra)
    _collect_object("collect()", params)
    return params


def detect_params(**options: Any) -> Params:
    """The ``params`` of a ``detect`` object: the options that are not ``None``."""
    return put_params({}, **options)


def detect(
    control_id: str,
    detect: dict[str, Any],
    timeout: float | None,
    extra: Mapping[str, Any] | None = None,
) -> Params:
    """``calling.detect`` (*detect*: ``{"type": "machine"|"fax"|"digit", "params": {...}}``)."""
    params: Params = {"control_id": control_id, "detect": _object("detect", detect)}
    return _with(put_params(params, timeout=timeout), extra)


def send_fax(
    control_id: str,
    document: str,
    identity: str | None,
    header_info: str | None,
    extra: Mapping[str, Any],
) -> Params:
    """``calling.send_fax``."""
    params: Params = {"control_id": control_id, "document": _text("document", document)}
    return _with(put_params(params, identity=identity, header_info=header_info), extra)


def receive_fax(control_id: str, extra: Mapping[str, Any]) -> Params:
    """``calling.receive_fax``."""
    return _with({"control_id": control_id}, extra)


def tap(
    control_id: str, tap: dict[str, Any], device: dict[str, Any], extra: Mapping[str, Any]
) -> Params:
    """``calling.tap`` (*device*: ``rtp`` or ``ws``)."""
    params: Params = {
        "control_id": control_id,
        "tap": _object("tap", tap),
        "device": _object("device", device),
    }
    return _with(params, extra)


def stream(control_id: str, options: Mapping[str, Any], extra: Mapping[str, Any]) -> Params:
    """``calling.stream`` (*options*: url first, then name, codec, track, status_url, ...)."""
    _text("url", options.get("url"))
    return _with(put_params({"control_id": control_id}, **options), extra)


def pay(control_id: str, options: Mapping[str, Any], extra: Mapping[str, Any]) -> Params:
    """``calling.pay`` (*options*: payment_connector_url first; ``input_method`` is sent as
    ``input``)."""
    _text("payment_connector_url", options.get("payment_connector_url"))
    params = put_params({"control_id": control_id}, **_renamed(options, input_method="input"))
    return _with(params, extra)


def transcribe(control_id: str, status_url: str | None, extra: Mapping[str, Any]) -> Params:
    """``calling.transcribe``."""
    return _with(put_params({"control_id": control_id}, status_url=status_url), extra)


def ai(control_id: str, options: Mapping[str, Any], extra: Mapping[str, Any]) -> Params:
    """``calling.ai`` (``ai_params`` is sent as ``params``)."""
    return _with(
        put_params({"control_id": control_id}, **_renamed(options, ai_params="params")), extra
    )


def action_command(control_id: str, extra: Mapping[str, Any] | None = None) -> Params:
    """``calling.<kind>.stop`` / ``pause`` / ``resume`` / ``volume`` / ... on one action."""
    return _with({"control_id": control_id}, extra)
