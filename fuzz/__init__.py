"""Fuzz targets for the sans-IO core (``python -m fuzz --minutes N``).

Each target feeds hostile input to :class:`relay_proto.RelayConnection` and
checks the one contract that matters for robustness: *nothing escapes*
``receive_data``/``receive_text``/``handle_timer`` (compare h11's
``fuzz/afl-server.py``, where only ``RemoteProtocolError`` may escape; our
core converts even that into events).  Every event that comes out must also
be safe to read: all lazy properties of RELAY events are evaluated.
"""

from .targets import TARGETS, run_target

__all__ = ["TARGETS", "run_target"]
