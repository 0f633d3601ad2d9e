"""Call methods put the right frame on the wire (asserted on the emulator's journal).

A subset of ``tests/_call_methods.py``'s table over sockets; the wire shape of
every method is checked without sockets in ``tests/model/test_commands.py``.
Also: errors are mapped by type at the client's boundary (misuse is
``TypeError``/``ValueError``, a closed connection is ``ConnectionLostError``).
"""

from __future__ import annotations

from typing import Any

import pytest

from .._call_methods import CONTROL_ID_METHODS, DEVICE, Case, case
from ._helpers import requests, run_inbound
from .conftest import caller, emulator, make_client

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


def _then_connected(row: Case) -> Case:
    """*row*'s bridge, then wait until connected so that disconnect() has something to undo."""
    method, invoke, expected, action = row

    async def connect(call: Any) -> Any:
        result = await invoke(call)
        await call.wait_for(
            "calling.call.connect", lambda e: e.connect_state == "connected", timeout=5
        )
        return result

    return method, connect, expected, action


_CONFERENCES: dict[str, str] = {}


def _remembering_the_conference(row: Case) -> Case:
    """*row*'s join, keeping the conference id the emulator gave for the leave that follows."""
    method, invoke, expected, action = row

    async def join(call: Any) -> Any:
        result = await invoke(call)
        _CONFERENCES[call.call_id] = result.get("conference_id", "standup")
        return result

    return method, join, expected, action


# A subset of tests/_call_methods.py's table over sockets (every kind of path: plain
# command, action, media conversion, a bridge, a conference round trip); the full
# table runs without sockets in tests/model/test_commands.py.
CASES: list[Case] = [
    case("calling.answer"),
    case("calling.play"),
    case("calling.record"),
    case("calling.collect"),
    case("calling.play_and_collect", 1),  # prompt_tts
    case("calling.detect", 1),  # detect_answering_machine
    case("calling.send_digits"),
    _remembering_the_conference(case("calling.join_conference")),
    (
        "calling.leave_conference",
        lambda c: c.leave_conference(_CONFERENCES[c.call_id]),
        {},
        None,
    ),
    case("calling.tap"),
    case("calling.pay"),
    _then_connected(case("calling.connect")),
    case("calling.disconnect"),
    case("calling.end", 1),  # hangup("busy")
]


async def test_every_call_method_frame(adapter: Any) -> None:
    async with emulator() as emu:
        seen: list[tuple[str, Any]] = []

        async def handler(call: Any) -> None:
            for method, invoke, _expected, _cls in CASES:
                before = len(requests(emu, method))
                result = await invoke(call)
                after = requests(emu, method)
                assert len(after) == before + 1, method
                seen.append((method, result))

        ecall, _ = await run_inbound(adapter, emu, handler, script=caller().press("1"))
        assert ecall.record.answered

    counters: dict[str, int] = {}
    for (method, _invoke, expected, cls_name), (_m, result) in zip(CASES, seen, strict=True):
        index = counters.get(method, 0)
        counters[method] = index + 1
        params = requests(emu, method)[index]
        assert params["call_id"] == ecall.call_id, method
        assert params["node_id"], method
        for key, value in expected.items():
            assert params[key] == value, (method, key, params)
        if method in CONTROL_ID_METHODS:
            assert isinstance(params.get("control_id"), str), method
            assert params["control_id"], method
        if cls_name is None:
            assert isinstance(result, dict), (method, result)
        else:
            assert type(result) is getattr(adapter, cls_name), (method, result)
            assert result.control_id == params["control_id"]
            assert result.call.call_id == ecall.call_id


async def test_pass_and_transfer(adapter: Any) -> None:
    async with emulator() as emu:

        async def pass_it(call: Any) -> Any:
            return await call.pass_()

        _, result = await run_inbound(adapter, emu, pass_it)
        assert isinstance(result, dict)
        assert requests(emu, "calling.pass")

        async def transfer(call: Any) -> Any:
            await call.answer()
            return await call.transfer("https://example.com/swml.json", extra="x")

        _, result = await run_inbound(adapter, emu, transfer)
        params = requests(emu, "calling.transfer")[-1]
        assert params["dest"] == "https://example.com/swml.json"
        assert params["extra"] == "x"


async def test_call_properties(adapter: Any) -> None:
    async with emulator() as emu:

        async def inspect_call(call: Any) -> Any:
            device = call.device  # decoded on first use, then the same object
            assert call.device is device
            snapshot = (call.context, call.direction, dict(device), call.state, call.call_id)
            await call.answer()
            answered = await call.wait_for_answered(timeout=5)
            await call.hangup()
            ended = await call.wait_for_ended(timeout=5)
            return snapshot, answered, ended, call.state, call.end_reason

        ecall, value = await run_inbound(adapter, emu, inspect_call, context="sales")
    (context, direction, device, state, call_id), answered, ended, final, reason = value
    assert context == "sales"  # the context it arrived on, not the protocol string
    assert direction == "inbound"
    assert device["type"] == "phone"
    assert device["params"]["from_number"] == ecall.record.from_number
    assert state == "created"
    assert call_id == ecall.call_id
    assert answered.call_state in ("answered", "ending", "ended")
    assert ended.params["call_state"] == "ended"
    assert final == "ended"
    assert reason == "hangup"


async def test_wait_for_sees_an_event_that_came_with_the_command_result(adapter: Any) -> None:
    # The emulator writes calling.connect's result and the "connecting" event
    # together: the handler can only ask for the event once the result is
    # back, after both were dispatched, and must still get it -- once.
    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            await call.connect([[DEVICE]])
            connecting = await call.wait_for(
                "calling.call.connect", lambda e: e.connect_state == "connecting", timeout=2
            )
            connected = await call.wait_for(
                "calling.call.connect", lambda e: e.connect_state == "connected", timeout=5
            )
            with pytest.raises(TimeoutError):  # "connecting" is returned only once
                await call.wait_for(
                    "calling.call.connect", lambda e: e.connect_state == "connecting", timeout=0.05
                )
            return connecting, connected

        _, (connecting, connected) = await run_inbound(adapter, emu, handler)
    assert connecting.connect_state == "connecting"
    assert connected.connect_state == "connected"


async def test_execute_misuse_is_type_or_value_error_and_closed_is_connection_lost(
    adapter: Any,
) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu)
        async with client:
            params = {"call_id": "c", "node_id": "n"}
            with pytest.raises(TypeError, match="JSON"):
                await client.execute("calling.answer", {**params, "x": object()})
            with pytest.raises(TypeError, match="method must be a string"):
                await client.execute(5, params)
            with pytest.raises(ValueError, match="must not be empty"):
                await client.execute("", params)
            with pytest.raises(ValueError, match=r"signalwire\.connect"):
                await client.execute("signalwire.connect", {})
            with pytest.raises(TypeError, match="must be a dict"):
                await client.execute("calling.answer", [params])
            with pytest.raises(TypeError, match="contexts must be a list"):
                await client.receive("sales")
            with pytest.raises(ValueError, match="must not be empty"):
                await client.receive(["sales", ""])
            # Misuse left the connection alone: a good request still works.
            assert await client.execute("signalwire.ping", {}) is not None
        with pytest.raises(adapter.ConnectionLostError):
            await client.execute("signalwire.ping", {})
        with pytest.raises(adapter.ConnectionLostError):
            await client.receive(["sales"])
