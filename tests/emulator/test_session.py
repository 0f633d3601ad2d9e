"""Session layer of the emulator: auth, resume, contexts, routing, bad input."""

from __future__ import annotations

import logging

import anyio
import pytest

from relay_proto import rpc as _rpc
from relaykit.emulator import Caller, Emulator
from relaykit.emulator._sessions import AUTH_FAILED_MESSAGE, STALE_STATE_MESSAGE

from ._client import MiniClient

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(10)]


async def _open(emu: Emulator, tg: anyio.abc.TaskGroup) -> MiniClient:
    c = await MiniClient.open(emu.host)
    tg.start_soon(c.run)
    return c


async def test_connect_returns_protocol_identity_and_authorization_state(emu: Emulator) -> None:
    async with anyio.create_task_group() as tg:
        c = await _open(emu, tg)
        resp = await c.connect()
        assert isinstance(resp, _rpc.Response)
        assert resp.result["protocol"].startswith("signalwire_")
        assert resp.result["identity"] == "p@relay-emulator"
        assert resp.result["session_restored"] is False
        await c.wait_event("signalwire.authorization.state")
        assert c.authorization_state
        assert ":" in c.authorization_state
        # the server pings right after connect, and the client's pong is journaled
        await emu.wait_for_journal("signalwire.ping", direction="in")
        await c.aclose()
        tg.cancel_scope.cancel()


@pytest.mark.parametrize(
    "auth",
    [
        {"project": "p", "token": "wrong"},
        {"project": "", "token": ""},
        {"jwt_token": "not-configured"},
        "not-an-object",
    ],
)
async def test_wrong_credentials_get_auth_error(emu: Emulator, auth: object) -> None:
    async with anyio.create_task_group() as tg:
        c = await _open(emu, tg)
        resp = await c.request("signalwire.connect", {"authentication": auth})
        assert isinstance(resp, _rpc.ResponseError)
        # Exactly the platform's frame: -32002, its message, and no data.
        assert (resp.code, resp.message) == (-32002, AUTH_FAILED_MESSAGE)
        assert resp.data is None
        await c.aclose()
        tg.cancel_scope.cancel()


async def test_jwt_accepted_when_configured() -> None:
    async with (
        Emulator(jwt_tokens=("jwt-1",), time_scale=0.001) as emu,
        anyio.create_task_group() as tg,
    ):
        c = await _open(emu, tg)
        resp = await c.request("signalwire.connect", {"authentication": {"jwt_token": "jwt-1"}})
        assert isinstance(resp, _rpc.Response)
        await c.aclose()
        tg.cancel_scope.cancel()


async def test_requests_before_connect_are_refused(emu: Emulator) -> None:
    async with anyio.create_task_group() as tg:
        c = await _open(emu, tg)
        resp = await c.request("calling.answer", {"node_id": "n", "call_id": "c"})
        assert isinstance(resp, _rpc.ResponseError)
        assert resp.code == -32000
        await c.aclose()
        tg.cancel_scope.cancel()


async def test_resume_restores_session_and_calls_keep_routing(emu: Emulator) -> None:
    async with anyio.create_task_group() as tg:
        c1 = await _open(emu, tg)
        await c1.connect(contexts=["ivr"])
        await c1.wait_event("signalwire.authorization.state")
        call = await emu.place_call(context="ivr", script=Caller())
        offer = await c1.wait_event("calling.call.receive")
        ids = {"node_id": offer["node_id"], "call_id": offer["call_id"]}
        await emu.drop_connections()
        c2 = await _open(emu, tg)
        resp = await c2.connect(protocol=c1.protocol, authorization_state=c1.authorization_state)
        assert isinstance(resp, _rpc.Response)
        assert resp.result["session_restored"] is True
        assert resp.result["protocol"] == c1.protocol
        assert await c2.result("calling.answer", ids) == {"code": "200", "message": "Answered"}
        await c2.wait_event("calling.call.state", call_state="answered")
        # inbound calls on the resumed contexts go to the new socket
        await emu.place_call(context="ivr")
        await c2.wait(lambda: len(c2.events_of("calling.call.receive")) == 1)
        assert (await call.wait_state("answered")).answered
        await c2.aclose()
        tg.cancel_scope.cancel()


async def test_unknown_protocol_without_state_gets_fresh_session(emu: Emulator) -> None:
    async with anyio.create_task_group() as tg:
        c = await _open(emu, tg)
        resp = await c.connect(protocol="signalwire_nope_nope")
        assert isinstance(resp, _rpc.Response)
        assert resp.result["session_restored"] is False
        assert resp.result["protocol"] != "signalwire_nope_nope"
        await c.aclose()
        tg.cancel_scope.cancel()


async def test_stale_or_corrupt_authorization_state_gets_32003(emu: Emulator) -> None:
    async with anyio.create_task_group() as tg:
        first = await _open(emu, tg)
        await first.connect()
        await first.wait_event("signalwire.authorization.state")
        await emu.drop_connections()
        c = await _open(emu, tg)
        # an unknown (expired) protocol with a state, a corrupt state for a known one
        for protocol, state in (("signalwire_nope_nope", "x:y"), (first.protocol, "garbage")):
            resp = await c.connect(protocol=protocol, authorization_state=state)
            assert isinstance(resp, _rpc.ResponseError)
            assert (resp.code, resp.message, resp.data) == (-32003, STALE_STATE_MESSAGE, None)
        # what the client does next: forget protocol and state, connect fresh
        resp = await c.connect()
        assert isinstance(resp, _rpc.Response)
        assert resp.result["session_restored"] is False
        assert resp.result["protocol"] != first.protocol
        await c.aclose()
        tg.cancel_scope.cancel()


async def test_valid_state_resumes_even_with_bad_credentials(emu: Emulator) -> None:
    async with anyio.create_task_group() as tg:
        first = await _open(emu, tg)
        await first.connect()
        await first.wait_event("signalwire.authorization.state")
        await emu.drop_connections()
        c = await _open(emu, tg)
        resp = await c.connect(
            token="wrong", protocol=first.protocol, authorization_state=first.authorization_state
        )
        assert isinstance(resp, _rpc.Response)
        assert resp.result["session_restored"] is True
        await c.aclose()
        tg.cancel_scope.cancel()


async def test_receive_unreceive_and_round_robin(emu: Emulator) -> None:
    async with anyio.create_task_group() as tg:
        a, b, other = await _open(emu, tg), await _open(emu, tg), await _open(emu, tg)
        await a.connect()
        await b.connect()
        await other.connect(contexts=["elsewhere"])
        assert await a.result("signalwire.receive", {"contexts": ["sales"]}) == {
            "code": "200",
            "message": "Receiving events",
        }
        await b.result("signalwire.receive", {"contexts": ["sales"]})
        for _ in range(4):
            await emu.place_call(context="sales")
        await a.wait(lambda: len(a.events_of("calling.call.receive")) == 2)
        await b.wait(lambda: len(b.events_of("calling.call.receive")) == 2)
        assert other.events_of("calling.call.receive") == []
        assert await b.result("signalwire.unreceive", {"contexts": ["sales"]}) == {
            "code": "200",
            "message": "Unreceiving events",
        }
        await emu.place_call(context="sales")
        await a.wait(lambda: len(a.events_of("calling.call.receive")) == 3)
        assert len(b.events_of("calling.call.receive")) == 2
        bad = await a.request("signalwire.receive", {"contexts": "sales"})
        assert isinstance(bad, _rpc.ResponseError)
        assert bad.code == -32602
        for c in (a, b, other):
            await c.aclose()
        tg.cancel_scope.cancel()


async def test_place_call_without_subscriber_times_out(emu: Emulator) -> None:
    with pytest.raises(TimeoutError, match="subscribed"):
        await emu.place_call(context="nobody", wait_subscriber=0.05)


async def test_unknown_method_wrong_types_and_missing_params(client: MiniClient) -> None:
    resp = await client.request("calling.fly", {})
    assert isinstance(resp, _rpc.ResponseError)
    assert resp.code == -32601
    resp = await client.request(
        "calling.play", {"node_id": "n", "call_id": "c", "control_id": "x", "play": "loud"}
    )
    assert isinstance(resp, _rpc.ResponseError)
    assert resp.code == -32602
    assert "play must be an array" in resp.message
    assert resp.data == {"signalwire_error_code": "INVALID_PARAMS"}
    resp = await client.request("calling.play", {"node_id": "n", "call_id": "c"})
    assert isinstance(resp, _rpc.Response)
    assert resp.result["code"] == "400"
    assert "control_id" in resp.result["message"]
    resp = await client.request("calling.answer", {"node_id": "n", "call_id": "nope"})
    assert isinstance(resp, _rpc.Response)
    assert resp.result["code"] == "404"


async def test_malformed_and_binary_frames(emu: Emulator, client: MiniClient) -> None:
    async with anyio.create_task_group() as tg:
        bystander = await _open(emu, tg)
        await bystander.connect()
        await client.send_text("{not json")
        await client.send_text("[1, 2]")
        await client.wait(lambda: sum(1 for r in client.raw if '"error"' in str(r)) >= 2)
        errors = [_rpc.decode(r) for r in client.raw if isinstance(r, str) and '"error"' in r]
        assert [e.code for e in errors if isinstance(e, _rpc.ResponseError)] == [-32700, -32600]
        # still usable
        assert "timestamp" in await client.result("signalwire.ping", {})
        await client.send_bytes(b"\x00\x01")
        await client.wait(lambda: client.close_code is not None)
        assert client.close_code == 1003
        # other clients are unaffected
        assert "timestamp" in await bystander.result("signalwire.ping", {})
        await bystander.aclose()
        tg.cancel_scope.cancel()


async def test_too_many_invalid_frames_close_that_connection(client: MiniClient) -> None:
    for _ in range(60):
        await client.send_text("nope")
    await client.wait(lambda: client.close_code is not None)
    assert (client.close_code, client.close_reason) == (1008, "too many invalid messages")


async def test_oversized_inbound_message_closes_connection(client: MiniClient) -> None:
    await client.send_text("x" * (10 * 1024 * 1024 + 10))
    await client.wait(lambda: client.close_code is not None, timeout=8)
    assert client.close_code == 1009


async def test_credentials_and_authorization_state_never_logged(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with anyio.create_task_group() as tg:
        c = await _open(emu, tg)
        await c.connect(token="t")
        await c.wait_event("signalwire.authorization.state")
        bad = await _open(emu, tg)
        await bad.connect(token="secret-wrong-token")
        await emu.drop_connections()
        again = await _open(emu, tg)
        await again.connect(protocol=c.protocol, authorization_state=c.authorization_state)
        await again.aclose()
        tg.cancel_scope.cancel()
    assert c.authorization_state
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "secret-wrong-token" not in text
    assert c.authorization_state not in text
    assert "rejected (-32002)" in text  # the rejection itself is logged
