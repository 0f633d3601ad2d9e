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


def to_wire_media_item(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return *item* in wire form (``{"type": t, "params": {...}}``).

    Args:
        item: A media item, flat or nested.

    Returns:
        *item* itself when it is already nested (or has nothing to move), else a
        new dict.

    Raises:
        TypeError: *item* is not a mapping.
    """
    if not isinstance(item, Mapping):
        raise TypeError(f"media items must be dicts, got {type(item).__name__}")
    if "params" in item:
        if isinstance(item["params"], Mapping):
            return item
        raise TypeError("a media item's 'params' must be a dict")
    extra = {k: v for k, v in item.items() if k != "type"}
    if "type" not in item:
        return {"params": extra}
    return {"type": item["type"], "params": extra}


def to_wire_media(media: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Convert a media list (play, play_and_collect, connect ``ringback``) to wire form.

    Raises:
        TypeError: *media* is a single dict or a string instead of a list of items.
    """
    if isinstance(media, (Mapping, str, bytes)):
        raise TypeError("media must be a list of media items, e.g. [{'type': 'tts', ...}]")
    return [to_wire_media_item(item) for item in media]
