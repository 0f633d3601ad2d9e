"""The emulator's HTTP control endpoint (``Emulator(control_port=...)``).

A tiny JSON-over-HTTP/1.1 server (one request per connection) so that tools in
other languages or processes can drive the emulator: ``GET /health``,
``POST /calls``, ``GET /calls/<id>[?wait=s]``, ``POST /messages``, ``GET /journal``.

When no client receives the context of a ``POST /calls`` or ``POST /messages`` in
time, the answer is ``404 {"error", "context", "subscribed"}``: ``subscribed`` lists
the contexts connected clients do receive, so a typo shows.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.abc

from ._script import Caller

if TYPE_CHECKING:
    from ._runner import Emulator

__all__ = ["serve_control"]


async def serve_control(emu: Emulator, stream: anyio.abc.ByteStream) -> None:
    """Answer one HTTP request on the control endpoint (see :class:`Emulator`)."""
    async with stream:
        try:
            with anyio.fail_after(60):
                status, body = await _control_request(emu, stream)
        except TimeoutError:
            status, body = 408, {"error": "request timeout"}
        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
            return
        payload = json.dumps(body).encode()
        reason = {
            200: "OK",
            201: "Created",
            400: "Bad Request",
            404: "Not Found",
            408: "Request Timeout",
            504: "Gateway Timeout",
        }.get(status, "Error")
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
        )
        try:
            await stream.send(head.encode() + payload)
        except (anyio.BrokenResourceError, OSError):
            return


async def _control_request(emu: Emulator, stream: anyio.abc.ByteStream) -> tuple[int, Any]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += await stream.receive(65536)
        if len(buf) > 1 << 20:
            return 400, {"error": "request too large"}
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _ = lines[0].split(" ", 2)
    except ValueError:
        return 400, {"error": "malformed request line"}
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip() or 0)
    while len(body) < length:
        body += await stream.receive(65536)
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return 400, {"error": "body is not JSON"}
    url = urlsplit(target)
    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
    return await _route(emu, method, url.path.rstrip("/"), query, data)


async def _route(
    emu: Emulator, method: str, path: str, query: dict[str, str], data: Any
) -> tuple[int, Any]:
    if not isinstance(data, dict):
        return 400, {"error": "body must be a JSON object"}
    if method == "GET" and path in ("", "/health"):
        return 200, {"ok": True, "url": emu.url}
    if method == "POST" and path == "/calls":
        context = str(data.get("context", ""))
        try:
            script = Caller.from_json(data.get("script", {}))
            wait = float(data.get("wait_subscriber", 5.0))
            call = await emu.place_call(
                context,
                script,
                from_number=str(data.get("from_number", "+15550000001")),
                to_number=str(data.get("to_number", "+15550000002")),
                wait_subscriber=wait,
            )
        except (ValueError, TypeError) as exc:
            return 400, {"error": str(exc)}
        except TimeoutError:
            return 404, _no_subscriber(emu, context, wait)
        return 201, {"call_id": call.call_id}
    if method == "GET" and path.startswith("/calls/"):
        call_id = path[len("/calls/") :]
        if call_id not in emu.server.records:
            return 404, {"error": f"unknown call {call_id}"}
        handle = emu.call(call_id)
        wait = float(query.get("wait", 0) or 0)
        if wait > 0:
            try:
                await handle.wait_ended(wait)
            except TimeoutError as exc:
                return 504, {"error": str(exc), "record": handle.record.to_json()}
        return 200, handle.record.to_json()
    if method == "POST" and path == "/messages":
        context = str(data.get("context", ""))
        try:
            wait = float(data.get("wait_subscriber", 5.0))
            message_id = await emu.send_inbound_message(
                context=context,
                from_number=str(data.get("from_number", "")),
                to_number=str(data.get("to_number", "")),
                body=str(data.get("body", "")),
                media=data.get("media"),
                wait_subscriber=wait,
            )
        except (ValueError, TypeError) as exc:
            return 400, {"error": str(exc)}
        except TimeoutError:
            return 404, _no_subscriber(emu, context, wait)
        return 201, {"message_id": message_id}
    if method == "GET" and path == "/journal":
        entries = emu.journal(query.get("method"), query.get("direction"))
        return 200, [
            {
                "seq": e.seq,
                "conn_id": e.conn_id,
                "direction": e.direction,
                "kind": e.kind,
                "method": e.method,
                "event_type": e.event_type,
                "id": e.id,
            }
            for e in entries
        ]
    return 404, {"error": f"no route for {method} {path}"}


def _no_subscriber(emu: Emulator, context: str, waited: float) -> dict[str, Any]:
    """The 404 answer when no client receives *context*: what it is, and what is."""
    subscribed = emu.subscribed_contexts()
    return {
        "error": f"no client subscribed to context {context!r} within {waited:g} s",
        "context": context,
        "subscribed": subscribed,
    }
