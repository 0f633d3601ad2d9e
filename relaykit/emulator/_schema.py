"""Parameter schemas of the RELAY methods the emulator accepts (protocol reference §5, §7).

:func:`check` returns ``None`` for acceptable params or a :class:`SchemaError`
saying what is wrong.  Two layers, as on the real server (§2 rule 3):

* a param of the wrong JSON type is a JSON-RPC ``-32602`` error
  (``data.signalwire_error_code = "INVALID_PARAMS"``);
* a missing required param or a value the method cannot use (an empty media
  list, a non-E.164 number, an unknown detect type) is a RELAY result
  ``{"code": "400", "message": ...}``.

Extra keys are tolerated everywhere (the server schema is an open shape).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = [
    "ACTION_METHODS",
    "CALL_SCOPED",
    "METHODS",
    "SUBCOMMANDS",
    "SchemaError",
    "check",
    "media_duration",
]


@dataclass(frozen=True, slots=True)
class SchemaError:
    """Why params were refused: ``layer`` ``"rpc"`` (-32602) or ``"400"`` (result code)."""

    layer: Literal["rpc", "400"]
    message: str


# E.164: a plus, a non-zero country digit, 7 to 15 digits in all (§4.1).
_E164: Final = re.compile(r"^\+[1-9][0-9]{6,14}$")
# DTMF for send_digits: digits, # * A-D, and the pause characters w/W (and p, space).
_DTMF: Final = re.compile(r"^[0-9#*A-Dwp W]+$")

# The schema's type names -> the Python types json.loads produces for them.
# "num" accepts ints (JSON has one number type; 5 and 5.0 are both numbers),
# "int" does not accept floats (a loop count of 2.5 is a type error).
_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "num": (int, float),
    "int": (int,),
    "bool": (bool,),
    "obj": (dict,),
    "list": (list,),
}
# How each type is named in a -32602 message ("tag must be a string").
_TYPE_NAMES = {
    "str": "a string",
    "num": "a number",
    "int": "an integer",
    "bool": "a boolean",
    "obj": "an object",
    "list": "an array",
}

#: A row's extra check: the params in, a refusal or ``None`` out.  It runs
#: only after the row's types passed, so it may index required keys freely.
Validator = Callable[[Mapping[str, Any]], "SchemaError | None"]


def _bad(message: str) -> SchemaError:
    """A RELAY ``400`` refusal: the JSON types were right, the value is not usable."""
    return SchemaError("400", message)


def _media_item(item: Any, where: str) -> SchemaError | None:
    """Check one media item (§4.2): ``tts`` needs text, ``audio`` a URL, ``silence`` a
    non-negative duration, ``ringtone`` a name; anything else is a 400."""
    # A non-object item is a JSON type error (-32602); an object with an
    # unusable value is a 400 -- the two layers of §2 rule 3.
    if not isinstance(item, dict):
        return SchemaError("rpc", f"{where}: each media item must be an object")
    kind = item.get("type")
    # Tolerate the flat SEED form {"type": "tts", "text": ...}: the official
    # client forwards it unchanged (§4.2, §9.8); read keys from either place.
    params = item.get("params", item)
    if not isinstance(params, dict):
        return SchemaError("rpc", f"{where}: media params must be an object")
    if kind == "tts":
        if not isinstance(params.get("text"), str) or not params.get("text"):
            return _bad(f"{where}: tts media needs a non-empty params.text")
    elif kind == "audio":
        if not isinstance(params.get("url"), str) or not params.get("url"):
            return _bad(f"{where}: audio media needs params.url")
    elif kind == "silence":
        dur = params.get("duration")
        if not isinstance(dur, (int, float)) or isinstance(dur, bool) or dur < 0:
            return _bad(f"{where}: silence media needs a non-negative params.duration")
    elif kind == "ringtone":
        if not isinstance(params.get("name"), str):
            return _bad(f"{where}: ringtone media needs params.name")
    else:
        return _bad(f"{where}: unknown media type {kind!r} (tts, audio, silence, ringtone)")
    return None


def _media_list(value: Any, where: str) -> SchemaError | None:
    """Check a non-empty array of media items (``play``, ``ringback``; §4.2)."""
    if not isinstance(value, list):
        return SchemaError("rpc", f"{where} must be an array of media items")
    if not value:
        # An empty list has the right type but nothing to play: a value error.
        return _bad(f"{where} must not be empty")
    for item in value:
        err = _media_item(item, where)
        if err is not None:
            return err
    return None


def media_duration(item: Mapping[str, Any]) -> float:
    """Simulated seconds one media item plays (tts: 0.06 s per character, min 0.5).

    The emulator cannot fetch or synthesise audio, so lengths are modelled:
    tts at a speaking pace of about 16 characters a second, silence as
    given, a ringtone for its ``duration`` (3 s if none) and any audio URL
    as 2 s.  Plays, ringback and the collect timing all use this one model.
    """
    params = item.get("params", item)
    kind = item.get("type")
    if kind == "tts":
        return max(0.5, 0.06 * len(str(params.get("text", ""))))
    if kind == "silence":
        return float(params.get("duration", 1.0))
    if kind == "ringtone":
        dur = params.get("duration")
        return float(dur) if isinstance(dur, (int, float)) else 3.0
    return 2.0


def _collect_obj(obj: Mapping[str, Any], where: str) -> SchemaError | None:
    """Check a collect object (§4.3): digits and/or speech, with numeric timeouts.

    ``digits.max`` is required (the platform cannot end a digit collect without
    it); timeouts of the wrong JSON type are ``-32602``."""
    digits, speech = obj.get("digits"), obj.get("speech")
    if digits is None and speech is None:
        return _bad(f"{where} needs digits and/or speech")
    if digits is not None:
        if not isinstance(digits, dict):
            return SchemaError("rpc", f"{where}.digits must be an object")
        mx = digits.get("max")
        if not isinstance(mx, int) or isinstance(mx, bool) or mx < 1:
            return _bad(f"{where}.digits.max is required (a positive integer)")
        # Only the timeout is typed; terminators are any string of DTMF keys.
        for key in ("digit_timeout",):
            if key in digits and not _is_num(digits[key]):
                return SchemaError("rpc", f"{where}.digits.{key} must be a number")
        if "terminators" in digits and not isinstance(digits["terminators"], str):
            return SchemaError("rpc", f"{where}.digits.terminators must be a string")
    if speech is not None:
        if not isinstance(speech, dict):
            return SchemaError("rpc", f"{where}.speech must be an object")
        for key in ("end_silence_timeout", "speech_timeout"):
            if key in speech and not _is_num(speech[key]):
                return SchemaError("rpc", f"{where}.speech.{key} must be a number")
    if "initial_timeout" in obj and not _is_num(obj["initial_timeout"]):
        return SchemaError("rpc", f"{where}.initial_timeout must be a number")
    return None


def _is_num(v: Any) -> bool:
    """True for a JSON number (``bool`` is an ``int`` in Python, not in JSON)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _devices(value: Any, require_from: bool = True) -> SchemaError | None:
    """Check a device plan (§4.1): an array of groups, each an array of devices.

    ``calling.connect`` may omit a phone ``from_number`` (the bridged leg then
    shows the number the call came in on).  Only ``phone`` and ``sip`` are
    checked in depth -- they are the types server-shaped fixtures confirm;
    the other known types (webrtc, agora, and connect's call/queue/stream)
    are accepted as given; an unknown type is a 400.
    """
    if not isinstance(value, list) or not all(isinstance(g, list) for g in value):
        return SchemaError("rpc", "devices must be an array of arrays of devices")
    if not value or not all(value):
        # Nothing to ring: an empty plan or an empty group is a value error.
        return _bad("devices must hold at least one device in every group")
    for group in value:
        for dev in group:
            if not isinstance(dev, dict) or not isinstance(dev.get("params", {}), dict):
                return SchemaError("rpc", "each device must be an object with object params")
            kind, params = dev.get("type"), dev.get("params", {})
            if "timeout" in params and not _is_num(params["timeout"]):
                return SchemaError("rpc", "device params.timeout must be a number")
            if kind == "phone":
                for key in ("to_number", "from_number"):
                    if key == "from_number" and not require_from and key not in params:
                        continue
                    if not isinstance(params.get(key), str) or not _E164.match(params[key]):
                        return _bad(f"phone device params.{key} must be an E.164 number")
            elif kind == "sip":
                if not isinstance(params.get("to"), str) or not params["to"].startswith("sip:"):
                    return _bad("sip device params.to must be a sip: URI")
                if not isinstance(params.get("from"), str):
                    return _bad("sip device params.from is required")
            elif kind in ("webrtc", "agora", "call", "queue", "stream"):
                continue
            else:
                return _bad(f"unknown device type {kind!r}")
    return None


def _v_play(p: Mapping[str, Any]) -> SchemaError | None:
    """``calling.play`` (§5.3): a media list and an optional numeric volume."""
    if "volume" in p and not _is_num(p["volume"]):
        return SchemaError("rpc", "volume must be a number")
    return _media_list(p.get("play"), "play")


def _v_collect(p: Mapping[str, Any]) -> SchemaError | None:
    """``calling.collect`` (§5.3): the collect object is the params themselves."""
    return _collect_obj(p, "collect")


def _v_play_and_collect(p: Mapping[str, Any]) -> SchemaError | None:
    """``calling.play_and_collect`` (§5.3): a media list plus a ``collect`` object."""
    err = _media_list(p.get("play"), "play")
    if err is not None:
        return err
    collect = p.get("collect")
    if not isinstance(collect, dict):
        return (
            SchemaError("rpc", "collect must be an object")
            if collect is not None
            else _bad("collect is required")
        )
    return _collect_obj(collect, "collect")


def _v_record(p: Mapping[str, Any]) -> SchemaError | None:
    """``calling.record`` (§4.4): ``record.audio`` with numeric timeouts, mp3 or wav."""
    rec = p.get("record")
    if not isinstance(rec, dict):
        return _bad('record is required (e.g. {"audio": {}})')
    audio = rec.get("audio", {})
    if not isinstance(audio, dict):
        return SchemaError("rpc", "record.audio must be an object")
    for key in ("initial_timeout", "end_silence_timeout"):
        if key in audio and not _is_num(audio[key]):
            return SchemaError("rpc", f"record.audio.{key} must be a number")
    if "format" in audio and audio["format"] not in ("mp3", "wav"):
        return _bad("record.audio.format must be mp3 or wav")
    return None


def _v_detect(p: Mapping[str, Any]) -> SchemaError | None:
    """``calling.detect`` (§4.5): ``detect.type`` machine, fax or digit; numeric timeout."""
    det = p.get("detect")
    if not isinstance(det, dict):
        return _bad('detect is required ({"type": "machine"|"fax"|"digit", "params": {}})')
    if det.get("type") not in ("machine", "fax", "digit"):
        return _bad("detect.type must be machine, fax or digit")
    if not isinstance(det.get("params", {}), dict):
        return SchemaError("rpc", "detect.params must be an object")
    if "timeout" in p and not _is_num(p["timeout"]):
        return SchemaError("rpc", "timeout must be a number")
    return None


def _v_digits(p: Mapping[str, Any]) -> SchemaError | None:
    """``calling.send_digits``: DTMF digits plus the ``w``/``W`` pauses."""
    d = p.get("digits")
    if not isinstance(d, str) or not _DTMF.match(d):
        return _bad("digits must be a string of 0-9 # * A-D w W")
    return None


def _v_dial(p: Mapping[str, Any]) -> SchemaError | None:
    """``calling.dial`` (§4.1, §5.2): a non-empty ``tag`` and a device plan."""
    if not isinstance(p.get("tag"), str) or not p["tag"]:
        return _bad("tag is required")
    return _devices(p.get("devices"))


def _v_connect(p: Mapping[str, Any]) -> SchemaError | None:
    """``calling.connect`` (§5.2): a device plan (caller id optional) and ringback media."""
    err = _devices(p.get("devices"), require_from=False)
    if err is None and "ringback" in p:
        err = _media_list(p["ringback"], "ringback")
    return err


def _v_tap(p: Mapping[str, Any]) -> SchemaError | None:
    """``calling.tap`` (§4.6): ``tap`` and an ``rtp`` or ``ws`` ``device``."""
    tap, dev = p.get("tap"), p.get("device")
    if not isinstance(tap, dict) or not isinstance(dev, dict):
        return _bad("tap and device are required objects")
    if dev.get("type") not in ("rtp", "ws"):
        return _bad("tap device.type must be rtp or ws")
    return None


def _v_send(p: Mapping[str, Any]) -> SchemaError | None:
    """``messaging.send`` (§7.1): E.164 numbers, a body or media, media as URL strings."""
    for key in ("to_number", "from_number"):
        v = p.get(key)
        if not isinstance(v, str) or not _E164.match(v):
            return _bad(f"{key} must be an E.164 number (e.g. +15551234567)")
    body, media = p.get("body"), p.get("media")
    # §7.1: at least one of the two; an empty string is no body (SMS needs text).
    if not body and not media:
        return _bad("body or media is required")
    if media is not None and (
        not isinstance(media, list) or not all(isinstance(m, str) for m in media)
    ):
        return SchemaError("rpc", "media must be an array of URL strings")
    return None


def _v_live(p: Mapping[str, Any]) -> SchemaError | None:
    """``calling.live_transcribe`` / ``live_translate``: ``action`` holds exactly one verb."""
    action = p.get("action")
    if not isinstance(action, dict) or len(action) != 1:
        return _bad("action must be an object with exactly one key (start/stop/summarize/...)")
    return None


def _v_refer(p: Mapping[str, Any]) -> SchemaError | None:
    """``calling.refer``: the target is a ``sip`` device."""
    dev = p.get("device")
    if not isinstance(dev, dict) or dev.get("type") != "sip":
        return _bad("device must be a sip device")
    if not isinstance(dev.get("params", {}), dict):
        return SchemaError("rpc", "device.params must be an object")
    return None


def _v_begin(p: Mapping[str, Any]) -> SchemaError | None:
    """``calling.begin`` (2019 Python SDK; corpus): one device, checked like a dial plan."""
    dev = p.get("device")
    if not isinstance(dev, dict):
        return _bad("device is required")
    # One device is a plan of one group of one: the same rules as calling.dial.
    return _devices([[dev]])


# method -> (required {name: type}, optional {name: type}, extra validator).
# Required and optional params are type-checked by ``check`` (wrong type:
# -32602); the validator then judges the values (unusable: 400).  Call-scoped
# methods also require node_id and call_id (added in ``check``).  The table
# follows relay-protocol.md §5 and §7.1; keys not listed are tolerated.
#
# Where each row comes from is noted above it: the section of
# /work/shared/relay-protocol.md, and the wire-corpus frame kinds
# (/work/shared/wire-corpus/frames.jsonl, ``kind`` field) that show the method
# or its events on the wire.  Rows without a corpus kind rest on the
# reference alone (its sources: the server-derived schema and the GUIDE).
# "Required" follows the reference's "req" column; a parameter the reference
# marks † (sent by clients, absent from the server schema) is optional here.
_Spec = tuple[dict[str, str], dict[str, str], "Validator | None"]

METHODS: dict[str, _Spec] = {
    # §5.1 + §4.1; corpus request:calling.dial. No call_id: the call does not
    # exist yet, the tag names the dial in calling.call.dial.
    "calling.dial": ({"tag": "str", "devices": "list"}, {"region": "str"}, _v_dial),
    # §5.1 (deprecated; PY2 dialed with it); corpus request:calling.begin.
    "calling.begin": ({"device": "obj"}, {"tag": "str"}, _v_begin),
    # §5.1; corpus request:calling.answer (node_id and call_id only).
    "calling.answer": ({}, {}, None),
    # §5.1; corpus request:calling.end. The reason values are checked in _lifecycle.
    "calling.end": ({}, {"reason": "str"}, None),
    # §5.1: no params beyond the ids.
    "calling.pass": ({}, {}, None),
    # §5.2 + §4.1; corpus request:calling.connect (ringback is a media list).
    "calling.connect": ({"devices": "list"}, {"ringback": "list", "tag": "str"}, _v_connect),
    # §5.2; corpus request:calling.disconnect.
    "calling.disconnect": ({}, {}, None),
    # §5.2: dest is a URL, inline SWML or "context:<name>" -- any string.
    "calling.transfer": ({"dest": "str"}, {}, None),
    # §5.2: a sip device; corpus event:calling.call.refer for what follows.
    "calling.refer": ({"device": "obj"}, {}, _v_refer),
    # §5.3 + §4.2; corpus request:calling.play. ``loop`` is † in §5.3 (sent by
    # the official client, absent from the server schema): accepted, typed.
    "calling.play": ({"control_id": "str", "play": "list"}, {"loop": "int"}, _v_play),
    # §5.3 + §4.4; corpus request:calling.record and result:calling.record.
    "calling.record": ({"control_id": "str", "record": "obj"}, {}, _v_record),
    # §5.3 + §4.3 (the collect object is the top level; its flags are bools);
    # corpus request:calling.collect.
    "calling.collect": (
        {"control_id": "str"},
        {
            "partial_results": "bool",
            "send_start_of_input": "bool",
            "start_input_timers": "bool",
            "continuous": "bool",
        },
        _v_collect,
    ),
    # §5.3; corpus request:calling.play_and_collect (7 frames: the corpus's most frequent request).
    "calling.play_and_collect": (
        {"control_id": "str", "play": "list", "collect": "obj"},
        {},
        _v_play_and_collect,
    ),
    # §5.3 + §4.5; corpus request:calling.detect (machine, fax and digit forms).
    "calling.detect": ({"control_id": "str", "detect": "obj"}, {}, _v_detect),
    # §5.3; corpus request:calling.send_digits.
    "calling.send_digits": ({"control_id": "str", "digits": "str"}, {}, _v_digits),
    # §5.3; corpus request:calling.send_fax (document is a URL string).
    "calling.send_fax": (
        {"control_id": "str", "document": "str"},
        {"identity": "str", "header_info": "str"},
        None,
    ),
    # §5.3; corpus request:calling.receive_fax.
    "calling.receive_fax": ({"control_id": "str"}, {}, None),
    # §5.3 + §4.6; corpus request:calling.tap and result:calling.tap.
    "calling.tap": ({"control_id": "str", "tap": "obj", "device": "obj"}, {}, _v_tap),
    # §5.3: url (wss) required; custom_parameters is an object.
    "calling.stream": (
        {"control_id": "str", "url": "str"},
        {"name": "str", "track": "str", "custom_parameters": "obj"},
        None,
    ),
    # §5.3 † (not in the server schema; one per call, 409).
    "calling.transcribe": ({"control_id": "str"}, {}, None),
    # §5.3: payment_connector_url required; the many other pay params are
    # strings in the schema and tolerated unchecked.
    "calling.pay": ({"control_id": "str", "payment_connector_url": "str"}, {}, None),
    # §5.3 † (not in the server schema): its agent/prompt params pass unchecked.
    "calling.ai": ({"control_id": "str"}, {}, None),
    # §5.4: name required; of its many options only muted is used here.
    "calling.join_conference": ({"name": "str"}, {"muted": "bool"}, None),
    # §5.4: the conference_id from the join result.
    "calling.leave_conference": ({"conference_id": "str"}, {}, None),
    # §5.4 † (GUIDE: "NOT IMPLEMENTED"; corpus event:calling.call.hold exists).
    "calling.hold": ({}, {}, None),
    "calling.unhold": ({}, {}, None),
    # §5.4; corpus event:calling.call.denoise for what follows.
    "calling.denoise": ({}, {}, None),
    "calling.denoise.stop": ({}, {}, None),
    # §5.4: timeout in seconds, 0 = until hangup; corpus event:calling.call.echo.
    "calling.echo": ({}, {"timeout": "num"}, None),
    # §5.4: digits and bind_method required; max_triggers 0 = unlimited.
    "calling.bind_digit": (
        {"digits": "str", "bind_method": "str"},
        {"params": "obj", "realm": "str", "max_triggers": "int"},
        None,
    ),
    # §5.4.
    "calling.clear_digit_bindings": ({}, {"realm": "str"}, None),
    # §5.4: action is an object with exactly one verb key (checked in _v_live).
    "calling.live_transcribe": ({"action": "obj"}, {}, _v_live),
    "calling.live_translate": ({"action": "obj"}, {}, _v_live),
    # §5.4: name required (the internal hagrid_* keys are tolerated).
    "calling.join_room": ({"name": "str"}, {}, None),
    "calling.leave_room": ({}, {}, None),
    # §5.4: every param optional and unchecked.
    "calling.amazon_bedrock": ({}, {}, None),
    # §5.4: needs a running calling.ai (checked in _lifecycle, not here).
    "calling.ai_message": ({}, {"message_text": "str", "role": "str"}, None),
    "calling.ai_hold": ({}, {}, None),
    "calling.ai_unhold": ({}, {}, None),
    # §5.4: event is any JSON, so nothing is typed.
    "calling.user_event": ({}, {}, None),
    # §5.4: control_id and queue_name required; corpus event:calling.call.queue.
    "calling.queue.enter": ({"control_id": "str", "queue_name": "str"}, {}, None),
    "calling.queue.leave": ({"control_id": "str", "queue_name": "str"}, {"queue_id": "str"}, None),
    # §7.1; corpus request:messaging.send and result:messaging.send. Not call-
    # scoped: no node_id/call_id. media is checked in _v_send (URL strings).
    "messaging.send": (
        {"context": "str", "to_number": "str", "from_number": "str"},
        {"body": "str", "tags": "list", "region": "str"},
        _v_send,
    ),
}

# Sub-commands of actions (§5.3's last column): all take the action's
# control_id, plus the listed params; they are answered by
# ActionSim.subcommand.  Corpus: request:calling.play.{pause,resume,stop,volume}
# and request:calling.play_and_collect.{stop,volume}; the rest rest on §5.3.
# ``.volume`` requires ``volume`` (§5.3 "+volume req"); record.pause's
# optional ``behavior`` (skip/silence) is tolerated unchecked.
SUBCOMMANDS: dict[str, dict[str, str]] = {
    "calling.play.stop": {},
    "calling.play.pause": {},
    "calling.play.resume": {},
    "calling.play.volume": {"volume": "num"},
    "calling.record.stop": {},
    "calling.record.pause": {},
    "calling.record.resume": {},
    "calling.collect.stop": {},
    "calling.collect.start_input_timers": {},
    "calling.play_and_collect.stop": {},
    "calling.play_and_collect.volume": {"volume": "num"},
    "calling.detect.stop": {},
    "calling.send_fax.stop": {},
    "calling.receive_fax.stop": {},
    "calling.tap.stop": {},
    "calling.stream.stop": {},
    "calling.transcribe.stop": {},
    "calling.pay.stop": {},
    "calling.ai.stop": {},
}
# Each sub-command becomes a METHODS row, so check() and the world's routing
# need no special case for them.
for _name, _req in SUBCOMMANDS.items():
    METHODS[_name] = ({"control_id": "str", **_req}, {}, None)

#: Methods that name an existing call (§5: "every call-scoped method carries
#: node_id and call_id"): every ``calling.*`` but the two that create one.
CALL_SCOPED: Final = frozenset(m for m in METHODS if m.startswith("calling.")) - {
    "calling.dial",
    "calling.begin",
}
#: Methods that start an action: they carry a ``control_id`` (§5.3) and are
#: not themselves a sub-command of a running one.
ACTION_METHODS: Final = frozenset(
    m for m, s in METHODS.items() if "control_id" in s[0] and m not in SUBCOMMANDS
)


def check(method: str, params: Mapping[str, Any]) -> SchemaError | None:
    """Check *params* of a known *method* (see module docstring for the two layers).

    The first problem found is reported: missing required params in table
    order, then wrong types, then the row's validator.  A ``null`` optional
    param counts as absent (a client may send an unset option as null).

    Args:
        method: A key of :data:`METHODS` (a ``KeyError`` otherwise: callers
            answer unknown methods with -32601 before checking).
        params: The request's params object.

    Returns:
        ``None`` if acceptable, else the :class:`SchemaError`, its message
        prefixed with *method*.
    """
    required, optional, validator = METHODS[method]
    if method in CALL_SCOPED:
        required = {"node_id": "str", "call_id": "str", **required}
    for name, kind in required.items():
        if name not in params:
            return _bad(f"{method}: missing required param {name!r}")
        if not _type_ok(params[name], kind):
            return SchemaError("rpc", f"{method}: {name} must be {_TYPE_NAMES[kind]}")
    for name, kind in optional.items():
        if name in params and params[name] is not None and not _type_ok(params[name], kind):
            return SchemaError("rpc", f"{method}: {name} must be {_TYPE_NAMES[kind]}")
    if validator is not None:
        err = validator(params)
        if err is not None:
            return SchemaError(err.layer, f"{method}: {err.message}")
    return None


def _type_ok(value: Any, kind: str) -> bool:
    """True if *value* has the JSON type named *kind* (see ``_TYPES``).

    ``True`` is an ``int`` to Python but never a number to JSON, so a bool
    only passes where a bool is asked for.
    """
    if isinstance(value, bool) and kind != "bool":
        return False
    return isinstance(value, _TYPES[kind])
