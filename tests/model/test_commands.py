"""The wire shape of every Call method, without sockets.

A real :class:`Call` of a real (unconnected) client runs each method; its
dispatcher's ``send`` is a recorder that answers every request at once with a
200 result, through the dispatcher's own ``dispatch``.  The table
(``tests/_call_methods.py``, whose subset ``tests/integration/test_call_methods.py``
runs against the emulator over sockets) says, per method: the wire method, the
*exact* params (besides ``node_id``/``call_id`` and a fresh ``control_id``), and
the returned action class (or ``None`` for a plain command).
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from relay_proto import ResponseReceived
from relaykit.client import _commands as build
from relaykit.client._dispatch import Dispatcher

from .._call_methods import CASES, CONTROL_ID_METHODS, DEVICE, TAP, TAP_DEVICE, TTS, Invoke

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

ADAPTERS = [("relay_anyio", "asyncio"), ("relay_trio", "trio")]


@pytest.fixture(params=ADAPTERS, ids=[a for a, _ in ADAPTERS])
def adapter_spec(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def anyio_backend(adapter_spec: tuple[str, str]) -> str:
    return adapter_spec[1]


class Wire:
    """The dispatcher's ``send``: records each request and answers it with a 200 at once."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter
        self.client = adapter.RelayClient(project="p", token="t", url="ws://127.0.0.1:9")
        self.dispatcher = Dispatcher(
            self.client, self.client._runtime, self.send, abandon_dial=lambda tag: False
        )
        self.client._dispatcher = self.dispatcher
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self._last = ("", "")

    def send(self, method: str, params: dict[str, Any], timeout: float | None) -> tuple[str, Any]:
        request_id = f"r-{len(self.sent)}"
        self.sent.append((method, dict(params)))
        self._last = (request_id, method)
        return request_id, self

    def kick(self) -> None:  # the Driver's kick(): the answer is dispatched at once
        request_id, method = self._last
        result = {"code": "200", "message": "OK"}
        self.dispatcher.dispatch(
            ResponseReceived(request_id=request_id, method=method, result=result)
        )

    def new_call(self) -> Any:
        params = {"call_id": "c-1", "node_id": "n-1", "call_state": "answered"}
        return self.dispatcher.new_call(params, "c-1")


@pytest.fixture
def wire(adapter_spec: tuple[str, str]) -> Wire:
    return Wire(importlib.import_module(adapter_spec[0]))


@pytest.mark.parametrize(
    ("method", "invoke", "expected", "cls_name"),
    CASES,
    ids=[f"{i}-{case[0]}" for i, case in enumerate(CASES)],
)
async def test_call_method_wire_shape(
    wire: Wire, method: str, invoke: Invoke, expected: dict[str, Any], cls_name: str | None
) -> None:
    call = wire.new_call()
    result = await invoke(call)
    assert len(wire.sent) == 1
    sent_method, params = wire.sent[0]
    assert sent_method == method
    assert (params.pop("node_id"), params.pop("call_id")) == ("n-1", "c-1")
    if method in CONTROL_ID_METHODS:
        control_id = params.pop("control_id")
        assert isinstance(control_id, str)
        assert control_id
    assert params == expected
    if cls_name is None:
        assert result == {"code": "200", "message": "OK"}
    else:
        assert type(result) is getattr(wire.adapter, cls_name)
        assert result.control_id == control_id
        assert result.call is call
        assert not result.completed  # the core completes it, not the 200
        assert wire.dispatcher.actions == {control_id: result}


ACTION_COMMANDS: list[tuple[Invoke, Invoke, str, dict[str, Any]]] = [
    (lambda c: c.play([TTS]), lambda a: a.stop(), "calling.play.stop", {}),
    (lambda c: c.play([TTS]), lambda a: a.pause(), "calling.play.pause", {}),
    (lambda c: c.play([TTS]), lambda a: a.resume(), "calling.play.resume", {}),
    (lambda c: c.play([TTS]), lambda a: a.volume(3.0), "calling.play.volume", {"volume": 3.0}),
    (
        lambda c: c.record(),
        lambda a: a.pause("skip"),
        "calling.record.pause",
        {"behavior": "skip"},
    ),
    (
        lambda c: c.prompt_tts("x", {"digits": {"max": 1}}),
        lambda a: a.volume(-2.0),
        "calling.play_and_collect.volume",
        {"volume": -2.0},
    ),
    (
        lambda c: c.collect(digits={"max": 1}),
        lambda a: a.start_input_timers(),
        "calling.collect.start_input_timers",
        {},
    ),
    (lambda c: c.receive_fax(), lambda a: a.stop(), "calling.receive_fax.stop", {}),
    (lambda c: c.tap(TAP, TAP_DEVICE), lambda a: a.stop(), "calling.tap.stop", {}),
    (lambda c: c.detect_fax(), lambda a: a.stop(), "calling.detect.stop", {}),
]


@pytest.mark.parametrize(("start", "command", "method", "expected"), ACTION_COMMANDS)
async def test_action_command_wire_shape(
    wire: Wire, start: Invoke, command: Invoke, method: str, expected: dict[str, Any]
) -> None:
    action = await start(wire.new_call())
    await command(action)
    sent_method, params = wire.sent[-1]
    assert sent_method == method
    assert params == {
        "node_id": "n-1",
        "call_id": "c-1",
        "control_id": action.control_id,
        **expected,
    }


BAD_ARGUMENTS: list[tuple[Invoke, type[Exception]]] = [
    (lambda c: c.play({"type": "tts", "text": "x"}), TypeError),  # one item, not a list
    (lambda c: c.play(["tts"]), TypeError),
    (lambda c: c.connect([DEVICE]), TypeError),  # not a list of lists
    (lambda c: c.connect([]), ValueError),
    (lambda c: c.transfer(5), TypeError),
    (lambda c: c.transfer(""), ValueError),
    (lambda c: c.tap("audio", TAP_DEVICE), TypeError),
    (lambda c: c.record(audio="mp3"), TypeError),
    (lambda c: c.play_and_collect([TTS], None), TypeError),
    (lambda c: c.send_digits(12), TypeError),
    (lambda c: c.join_conference(None), TypeError),
    (lambda c: c.pay(""), ValueError),
    (lambda c: c.stream(None), TypeError),
]


@pytest.mark.parametrize(("invoke", "error"), BAD_ARGUMENTS)
async def test_bad_arguments_raise_before_anything_is_sent(
    wire: Wire, invoke: Invoke, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await invoke(wire.new_call())
    assert wire.sent == []
    assert wire.dispatcher.actions == {}


async def test_an_action_on_an_ended_call_completes_without_sending(wire: Wire) -> None:
    from relay_proto import CallStateChanged

    call = wire.new_call()
    ended = {"call_id": "c-1", "node_id": "n-1", "call_state": "ended", "end_reason": "hangup"}
    wire.dispatcher.dispatch(CallStateChanged(event_type="calling.call.state", params=ended))
    action = await call.play([TTS])
    assert (action.completed, action.reason, wire.sent) == (True, "call_ended", [])
    assert wire.dispatcher.actions == {}


def test_builders_are_pure() -> None:
    media = [{"type": "tts", "text": "Hi"}]
    first = build.play("cid", media, volume=1.0, extra={"x": 1})
    second = build.play("cid", media, volume=1.0, extra={"x": 1})
    assert (
        first
        == second
        == {
            "control_id": "cid",
            "play": [{"type": "tts", "params": {"text": "Hi"}}],
            "volume": 1.0,
            "x": 1,
        }
    )
    assert first is not second
    assert media == [{"type": "tts", "text": "Hi"}]  # the caller's list is not touched
    options = {"name": "n", "muted": None, "stream_obj": {"a": 1}}
    assert build.join_conference(options, {}) == {"name": "n", "stream": {"a": 1}}
    assert options == {"name": "n", "muted": None, "stream_obj": {"a": 1}}


def test_request_and_context_checks() -> None:
    build.check_request("calling.answer", {"call_id": "c"})
    for method, params, error in [
        (5, {}, TypeError),
        ("", {}, ValueError),
        ("signalwire.connect", {}, ValueError),
        ("calling.answer", [], TypeError),
    ]:
        with pytest.raises(error):
            build.check_request(method, params)
    assert build.check_contexts(["a", "b"]) == ["a", "b"]
    with pytest.raises(TypeError):
        build.check_contexts("office")
    with pytest.raises(ValueError, match="must not be empty"):
        build.check_contexts(["ok", ""])
    with pytest.raises(ValueError, match="needs a body or media"):
        build.send_message(
            context="c",
            to_number="+1",
            from_number="+2",
            body=None,
            media=None,
            tags=None,
            region=None,
        )
