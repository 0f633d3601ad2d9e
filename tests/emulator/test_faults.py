"""Faults on demand, the journal, and the benchmark flood hook."""

from __future__ import annotations

import anyio
import pytest

from relay_proto import rpc as _rpc
from relaykit.emulator import Caller, Emulator

from ._client import Closed, MiniClient

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(15)]


async def test_journal_records_both_directions(emu: Emulator, client: MiniClient) -> None:
    await emu.place_call(context="ivr")
    offer = await client.wait_event("calling.call.receive")
    ids = {"node_id": offer["node_id"], "call_id": offer["call_id"]}
    await client.result(
        "calling.play",
        {**ids, "control_id": "p", "play": [{"type": "tts", "params": {"text": "hi"}}]},
    )
    entries = await emu.wait_for_journal("calling.call.play", count=2, direction="out")
    assert [e.event_params["state"] for e in entries] == ["playing", "finished"]
    (request,) = emu.journal("calling.play", direction="in")
    assert request.kind == "request"
    assert request.data["control_id"] == "p"
    (response,) = [e for e in emu.journal("calling.play", direction="out") if e.kind == "response"]
    assert response.data["code"] == "200"
    assert response.id == request.id
    acks = emu.journal("signalwire.event", direction="in")
    assert acks
    assert all(e.kind == "response" for e in acks)


async def test_fail_next_and_delay_responses(emu: Emulator, client: MiniClient) -> None:
    emu.fail_next("signalwire.ping", code="503", message="busy")
    assert await client.result("signalwire.ping", {}) == {"code": "503", "message": "busy"}
    assert "timestamp" in await client.result("signalwire.ping", {})
    emu.fail_next("signalwire.ping", code=-32603, message="internal")
    resp = await client.request("signalwire.ping", {})
    assert isinstance(resp, _rpc.ResponseError)
    assert resp.code == -32603
    emu.delay_responses(0.2)
    start = anyio.current_time()
    await client.result("signalwire.ping", {})
    assert anyio.current_time() - start >= 0.2
    emu.delay_responses(0)


async def test_fail_next_connect_is_an_auth_error(emu: Emulator) -> None:
    emu.fail_next("signalwire.connect", message="Authentication failed")
    async with anyio.create_task_group() as tg:
        c = await MiniClient.open(emu.host)
        tg.start_soon(c.run)
        resp = await c.connect()
        assert isinstance(resp, _rpc.ResponseError)
        assert resp.code == -32000
        assert isinstance(await c.connect(), _rpc.Response)
        await c.aclose()
        tg.cancel_scope.cancel()


async def test_drop_connections(emu: Emulator, client: MiniClient) -> None:
    assert await emu.drop_connections() == 1
    await client.wait(lambda: client.close_code is not None)
    assert client.close_code == 1006  # no close frame: an abrupt drop


async def test_half_open_stops_answering_but_new_connections_work(
    emu: Emulator, client: MiniClient
) -> None:
    assert emu.go_half_open() == 1
    with pytest.raises(TimeoutError):
        await client.request("signalwire.ping", {}, timeout=0.2)
    async with anyio.create_task_group() as tg:
        fresh = await MiniClient.open(emu.host)
        tg.start_soon(fresh.run)
        resp = await fresh.connect(
            protocol=client.protocol, authorization_state=client.authorization_state
        )
        assert isinstance(resp, _rpc.Response)
        assert resp.result["session_restored"] is True
        await fresh.aclose()
        tg.cancel_scope.cancel()


@pytest.mark.parametrize("restart", [False, True])
async def test_server_disconnect(emu: Emulator, client: MiniClient, restart: bool) -> None:
    call = await emu.place_call(context="ivr", script=Caller(ring_timeout=1e6))
    await client.wait_event("calling.call.receive")
    assert await emu.server_disconnect(restart=restart) == 1
    req = next(r for r in client.server_requests if r.method == "signalwire.disconnect")
    assert req.params == {"restart": restart}
    assert client.close_code == 1012
    async with anyio.create_task_group() as tg:
        again = await MiniClient.open(emu.host)
        tg.start_soon(again.run)
        resp = await again.connect(
            protocol=client.protocol, authorization_state=client.authorization_state
        )
        if restart:  # the session is forgotten: its state is stale now (-32003)
            assert isinstance(resp, _rpc.ResponseError)
            assert resp.code == -32003
            resp = await again.connect()
        assert isinstance(resp, _rpc.Response)
        assert resp.result["session_restored"] is (not restart)
        if restart:  # the old session's calls are gone with it
            assert (await call.wait_ended()).hung_up_by == "emulator"
        else:
            assert call.record.state == "created"
        await again.aclose()
        tg.cancel_scope.cancel()


async def test_inject_raw_and_ping_clients(emu: Emulator, client: MiniClient) -> None:
    assert await emu.inject_raw("{garbage") == 1
    assert await emu.inject_raw(b"\x00binary") == 1
    await client.wait(lambda: b"\x00binary" in client.raw)
    assert "{garbage" in client.raw
    assert await emu.ping_clients() == 1
    client.auto_ack = False
    assert await emu.ping_clients(timeout=0.1) == 0


async def test_inject_oversized(emu: Emulator, client: MiniClient) -> None:
    assert await emu.inject_oversized() == 1
    await client.wait(
        lambda: any(isinstance(r, str) and len(r) > 10 * 1024 * 1024 for r in client.raw),
        timeout=10,
    )


async def test_flood_events_waits_for_acks(emu: Emulator, client: MiniClient) -> None:
    calls = [await emu.place_call(context="ivr", script=Caller()) for _ in range(3)]
    await client.wait(lambda: len(client.events_of("calling.call.receive")) == 3)
    result = await emu.flood_events(500, calls=[c.call_id for c in calls], window=50)
    assert (result.sent, result.acked) == (500, 500)
    floods = client.events_of("calling.call.play")
    assert len(floods) == 500
    assert {e["call_id"] for e in floods} == {c.call_id for c in calls}
    assert result.events_per_second > 0


async def test_flood_respects_window(emu: Emulator, client: MiniClient) -> None:
    await emu.place_call(context="ivr")
    await client.wait_event("calling.call.receive")
    client.auto_ack = False
    with pytest.raises(TimeoutError):
        await emu.flood_events(100, window=10, timeout=0.2)
    assert len(client.events_of("calling.call.play")) == 10


async def test_closed_client_sees_closed(emu: Emulator, client: MiniClient) -> None:
    await emu.drop_connections()
    with pytest.raises(Closed):
        await client.wait(lambda: False, timeout=2)
