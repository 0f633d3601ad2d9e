"""JSON-RPC 2.0 codec: one JSON object per WebSocket text frame.

This layer knows nothing about sessions or calls.  It turns text into one of
four message shapes and back, and it is shared by the client core and the
emulator's server side.

* :func:`decode` never raises for bad input from the peer: it returns an
  :class:`Invalid` describing what was wrong (the caller logs and skips it).
* The ``encode_*`` functions build compact JSON with the fast codec when one is
  installed (``orjson``, the ``relaykit[fast]`` extra) and the standard library
  otherwise.  Both produce the same JSON text for the same input.

Wire rules (protocol reference §2): ``params`` is always an object; a response
carries exactly one of ``result`` or ``error``; JSON-RPC error codes are
integers while RELAY result codes are 3-digit strings inside ``result``
(or negative ones: the corpus has ``"-32001"``).  A response whose ``error`` is
not an object still fails its request (see :func:`decode`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, final

__all__ = [
    "JSON_LOADS",
    "Invalid",
    "Message",
    "Request",
    "Response",
    "ResponseError",
    "decode",
    "dumps",
    "encode_error",
    "encode_request",
    "encode_result",
    "is_success_code",
    "result_code",
]

try:  # pragma: no cover - depends on the environment
    import orjson as _orjson

    def dumps(obj: Any) -> str:
        """Serialise *obj* to compact JSON text."""
        return _orjson.dumps(obj).decode()

    JSON_LOADS: Callable[[str | bytes], Any] = _orjson.loads
    _JSON_ERRORS: tuple[type[Exception], ...] = (_orjson.JSONDecodeError, TypeError)
except ImportError:  # pragma: no cover - depends on the environment
    _encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

    def dumps(obj: Any) -> str:
        """Serialise *obj* to compact JSON text."""
        return _encoder.encode(obj)

    JSON_LOADS = json.loads
    _JSON_ERRORS = (ValueError, TypeError, RecursionError)

# orjson rejects integers beyond 64 bits and deep nesting that the stdlib takes;
# RecursionError covers the stdlib on pathological nesting.
_JSON_ERRORS = (*_JSON_ERRORS, RecursionError, UnicodeDecodeError)


@final
@dataclass(frozen=True, slots=True)
class Request:
    """A request (``id`` present) or notification (``id`` is ``None``) from the peer."""

    id: str | int | None
    method: str
    params: dict[str, Any]


@final
@dataclass(frozen=True, slots=True)
class Response:
    """A success response; ``result`` is always a dict (others wrapped as ``{"raw": v}``)."""

    id: str | int
    result: dict[str, Any]


@final
@dataclass(frozen=True, slots=True)
class ResponseError:
    """A JSON-RPC error response."""

    id: str | int | None
    code: int
    message: str
    data: Any = None


@final
@dataclass(frozen=True, slots=True)
class Invalid:
    """Input that is not a usable JSON-RPC message.  ``reason`` says why."""

    reason: str
    excerpt: str


Message = Request | Response | ResponseError | Invalid

_EXCERPT: Final = 120
# How much of a non-object error value becomes the failed request's message.
_ODD_MESSAGE: Final = 200


def _excerpt(text: str | bytes) -> str:
    if isinstance(text, bytes):
        text = text[: _EXCERPT * 4].decode("utf-8", "replace")
    return text[:_EXCERPT]


def decode(text: str | bytes) -> Message:
    """Decode one frame's text into a message.

    Args:
        text: The frame payload (``str``; ``bytes`` is accepted and decoded as UTF-8).

    Returns:
        A :class:`Request`, :class:`Response`, :class:`ResponseError`, or an
        :class:`Invalid` explaining what was wrong.  A response with an id
        whose ``error`` is a string, number or ``null`` (with no ``result``)
        is a :class:`ResponseError` (code ``-1`` unless the error is a
        number), so that its request fails at once.  Never raises.
    """
    try:
        obj = JSON_LOADS(text)
    except _JSON_ERRORS:
        return Invalid("malformed JSON", _excerpt(text))
    if not isinstance(obj, dict):
        # JSON-RPC batches (arrays) and bare values are not used by RELAY.
        return Invalid("not a JSON object", _excerpt(text))
    msg_id = obj.get("id")
    if msg_id is not None and (not isinstance(msg_id, (str, int)) or isinstance(msg_id, bool)):
        return Invalid("id is neither a string nor an integer", _excerpt(text))
    method = obj.get("method")
    if method is not None:
        if not isinstance(method, str) or not method:
            return Invalid("method is not a non-empty string", _excerpt(text))
        params = obj.get("params", {})
        if not isinstance(params, dict):
            return Invalid(f"params of {method} is not an object", _excerpt(text))
        return Request(msg_id, method, params)
    err = obj.get("error")
    if err is not None or ("error" in obj and "result" not in obj):
        if not isinstance(err, dict):
            # Not JSON-RPC, but it names a request that failed: fail it now
            # rather than let it run into its timeout (as the official client).
            return _odd_error(msg_id, err, text)
        code = err.get("code")
        if isinstance(code, str):
            try:
                code = int(code)
            except ValueError:
                code = -1
        if not isinstance(code, int) or isinstance(code, bool):
            code = -1
        message = err.get("message")
        return ResponseError(
            msg_id, code, message if isinstance(message, str) else "", err.get("data")
        )
    if "result" in obj:
        if msg_id is None:
            return Invalid("response without id", _excerpt(text))
        result = obj["result"]
        if not isinstance(result, dict):
            result = {"raw": result}
        return Response(msg_id, result)
    return Invalid("neither a request nor a response", _excerpt(text))


def _odd_error(msg_id: str | int | None, err: Any, text: str | bytes) -> Message:
    """A response whose ``error`` is a string, number, ``null`` or list, not an object.

    With an id it is still that request's failure: a :class:`ResponseError`
    whose ``code`` is the number (or ``-1``) and whose ``message`` says what
    came, with the raw value in ``data``.  Without an id nothing can be failed.
    """
    if msg_id is None:
        return Invalid("error is not an object", _excerpt(text))
    if isinstance(err, int) and not isinstance(err, bool):
        return ResponseError(msg_id, err, f"error {err}", err)
    if isinstance(err, str) and err:
        return ResponseError(msg_id, -1, err[:_ODD_MESSAGE], err)
    shown = dumps(err)[:_ODD_MESSAGE]
    return ResponseError(msg_id, -1, f"malformed error response: error is {shown}", err)


def encode_request(request_id: str | int | None, method: str, params: Mapping[str, Any]) -> str:
    """Encode a request (or, with ``request_id=None``, a notification)."""
    if request_id is None:
        return dumps({"jsonrpc": "2.0", "method": method, "params": params})
    return dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


def encode_result(request_id: str | int, result: Mapping[str, Any]) -> str:
    """Encode a success response.  The id is echoed exactly as received."""
    return dumps({"jsonrpc": "2.0", "id": request_id, "result": result})


def encode_error(request_id: str | int | None, code: int, message: str, data: Any = None) -> str:
    """Encode a JSON-RPC error response."""
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return dumps({"jsonrpc": "2.0", "id": request_id, "error": error})


def result_code(result: Mapping[str, Any]) -> int | None:
    """The RELAY result ``code`` as an int; ``None`` if absent; ``-1`` if not numeric."""
    code = result.get("code")
    if code is None:
        return None
    if isinstance(code, bool):
        return -1
    if isinstance(code, int):
        return code
    try:
        return int(str(code))
    except ValueError:
        return -1


def is_success_code(code: int | None) -> bool:
    """Any 2xx code is success; a result with no ``code`` is success too."""
    return code is None or 200 <= code <= 299
