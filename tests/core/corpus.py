"""The public wire corpus (``data/wire-corpus``) and how to replay its frames.

The frames are public SignalWire material nobody here wrote (SDK fixtures,
SignalWire's docs, JS SDK code; see the README next to them).  Each line has a
``frame`` in one of a few envelopes; :func:`event_envelope` turns an event
frame into today's flat ``signalwire.event`` params, and :func:`setup_for`
prepares a connection so that the router knows the call, dial, action or
message the frame is about.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .helpers import Ids, Pair, event_frame, result_frame

DATA = Path(__file__).parent / "data" / "wire-corpus"
FRAMES: list[dict[str, Any]] = [
    json.loads(line)
    for line in (DATA / "frames.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]

# The ids the replay invents where a frame names none (a stream body without a
# call_id, a dequeue with control_id null).
REPLAY_CALL = "corpus-call"
REPLAY_CONTROL = "corpus-ctl"

#: Which request starts the action whose events have this type (written here,
#: not read from the core's table, so that a wrong row cannot hide itself).
START_METHOD: dict[str, str] = {
    "calling.call.play": "calling.play",
    "calling.call.record": "calling.record",
    "calling.call.collect": "calling.collect",
    "calling.call.detect": "calling.detect",
    "calling.call.fax": "calling.send_fax",
    "calling.call.tap": "calling.tap",
    "calling.call.stream": "calling.stream",
    "calling.call.send_digits": "calling.send_digits",
    "calling.call.pay": "calling.pay",
    "calling.call.queue": "calling.queue.enter",
    "calling.call.transcribe": "calling.transcribe",
}


def frame(index: int) -> dict[str, Any]:
    """The corpus line *index* (0-based, as in ``frames.jsonl``)."""
    return FRAMES[index]


def event_envelope(line: dict[str, Any]) -> dict[str, Any] | None:
    """The flat ``signalwire.event`` params of an event line, or None if it has none.

    ``signalwire.event.params`` frames are that already; a Blade-era
    ``blade.broadcast`` carries the same envelope in ``params.params``; a
    whole ``signalwire.event`` request carries it in ``params``.
    """
    envelope = line["envelope"]
    raw = line["frame"]
    if envelope == "signalwire.event.params":
        return dict(raw)
    if envelope == "blade.broadcast":
        return dict(raw["params"]["params"])
    if envelope == "signalwire.event":
        return dict(raw["params"])
    return None


def ready() -> tuple[Pair, Ids]:
    """An authenticated connection with no events recorded yet."""
    pair = Pair()
    pair.authenticate()
    pair.flush()
    pair.events.clear()
    return pair, Ids()


def answer(pair: Pair, request_id: str, result: dict[str, Any] | None = None) -> None:
    """Answer *request_id* with a 200 result (plus *result*)."""
    pair.flush()
    pair.send(result_frame(request_id, {"code": "200", "message": "ok", **(result or {})}))


def setup_for(pair: Pair, ids: Ids, envelope: dict[str, Any]) -> str | None:
    """Make the router know what the event in *envelope* is about.

    Registers its call (by a ``calling.call.receive``), starts its dial, its
    action (by the frame's ``control_id``, or :data:`REPLAY_CONTROL` when the
    frame has none) or its outbound message.

    Returns:
        The control id of the action started, or None.
    """
    event_type = envelope["event_type"]
    params = envelope.get("params") or {}
    call_id = params.get("call_id") if isinstance(params.get("call_id"), str) else None
    if event_type == "calling.call.dial":
        rid = pair.conn.send_request(
            "calling.dial", {"tag": params.get("tag"), "devices": []}, pair.now
        )
        answer(pair, rid)
        return None
    if event_type == "messaging.state" and isinstance(params.get("message_id"), str):
        rid = pair.conn.send_request("messaging.send", {"body": "hi"}, pair.now)
        answer(pair, rid, {"message_id": params["message_id"]})
        return None
    if not event_type.startswith("calling.call.") or event_type == "calling.call.receive":
        return None
    call = call_id or REPLAY_CALL
    receive = {"call_id": call, "node_id": "corpus-node", "call_state": "created"}
    pair.send(event_frame(ids(), "calling.call.receive", receive))
    method = START_METHOD.get(event_type)
    if method is None:
        return None
    control_id = params.get("control_id")
    if not isinstance(control_id, str):
        control_id = REPLAY_CONTROL
    start: dict[str, Any] = {"call_id": call, "node_id": "corpus-node", "control_id": control_id}
    if isinstance(params.get("name"), str):
        start["queue_name"] = params["name"]
    answer(pair, pair.conn.send_request(method, start, pair.now))
    return control_id
