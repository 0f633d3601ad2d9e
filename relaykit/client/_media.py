"""Seed-doc media items -> wire media items.

The seed documentation writes media flat (``{"type": "tts", "text": "Hello"}``);
the wire nests everything but ``type`` under ``params`` (protocol reference
§4.2, §9 item 8).  :func:`to_wire_media` accepts both: an item that already has
a ``params`` object passes through untouched (no copy), a flat item gets its
non-``type`` keys moved under ``params``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["to_wire_media", "to_wire_media_item"]


#: Each media type's required param and the type it must have (protocol reference §4.2).
_REQUIRED: dict[str, tuple[str, tuple[type, ...]]] = {
    "tts": ("text", (str,)),
    "audio": ("url", (str,)),
    "silence": ("duration", (int, float)),
    "ringtone": ("name", (str,)),
}


def to_wire_media_item(item: Mapping[str, Any], where: str = "media item") -> Mapping[str, Any]:
    """Return *item* in wire form (``{"type": t, "params": {...}}``), checked.

    Args:
        item: A media item, flat or nested.
        where: How errors name the item (``media[0]``).

    Returns:
        *item* itself when it is already nested (or has nothing to move), else a
        new dict.

    Raises:
        TypeError: *item* is not a mapping, its ``params`` not a dict, or a
            required param of the wrong type.
        ValueError: No ``type``, an unknown ``type``, or a missing/empty
            required param (``tts`` needs ``text``, ``audio`` a ``url``, ...).
    """
    if not isinstance(item, Mapping):
        raise TypeError(f"{where} must be a dict, got {type(item).__name__}")
    kind = item.get("type")
    if not isinstance(kind, str) or kind not in _REQUIRED:
        raise ValueError(f"{where} needs a 'type' of {', '.join(sorted(_REQUIRED))}, got {kind!r}")
    if "params" in item:
        params = item["params"]
        if not isinstance(params, Mapping):
            raise TypeError(f"{where}['params'] must be a dict, got {type(params).__name__}")
        wire = item
    else:
        params = {k: v for k, v in item.items() if k != "type"}
        wire = {"type": kind, "params": params}
    key, types = _REQUIRED[kind]
    value = params.get(key)
    if value is None:
        raise ValueError(f"{where}: a {kind} item needs {key!r}")
    if isinstance(value, bool) or not isinstance(value, types):
        raise TypeError(f"{where}: {key!r} of a {kind} item must be a {types[0].__name__}")
    if isinstance(value, str) and not value:
        raise ValueError(f"{where}: {key!r} of a {kind} item must not be empty")
    if isinstance(value, (int, float)) and not 0 <= value < float("inf"):
        raise ValueError(f"{where}: {key!r} of a {kind} item must be a non-negative number")
    return wire


def to_wire_media(
    media: Iterable[Mapping[str, Any]], name: str = "media"
) -> list[Mapping[str, Any]]:
    """Convert a media list (play, play_and_collect, connect ``ringback``) to wire form.

    Raises:
        TypeError: *media* is ``None``, a single dict or a string instead of a list of items.
        ValueError: The list is empty, or an item is malformed (see :func:`to_wire_media_item`).
    """
    if not isinstance(media, (list, tuple)):
        raise TypeError(
            f"{name} must be a list of media items, e.g. [{{'type': 'tts', 'text': 'Hi'}}]; "
            f"got {type(media).__name__}"
        )
    if not media:
        raise ValueError(f"{name} must not be empty")
    return [to_wire_media_item(item, f"{name}[{i}]") for i, item in enumerate(media)]
