"""Connection behaviour: reconnect/resume, offline queue, pings, server disconnect,
half-open detection, auth bound, limits, isolation, drain."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from relaykit.emulator import Caller, Emulator

from ._helpers import requests, run_inbound
from .conftest import PROJECT, TOKEN, caller, emulator, make_client, transport_for

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(40)]

LONG = [{"type": "silence", "params": {"duration": 3600}}]
#: Short reconnect backoff for tests where the delay itself is not under test
#: (the offline-queue tests keep the 1 s default: they act while disconnected).
FAST_RECONNECT = {"reconnect_min_delay": 0.02, "reconnect_max_delay": 0.1}


def connects(emu: Emulator) -> list[dict[str, Any]]:
    return requests(emu, "signalwire.connect")


async def wait_until(predicate: Any, limit: float = 5.0) -> None:
    """Poll a client-side condition that has no event of its own.

    Every 5 ms of the runtime's clock: on the virtual clock each poll is a
    deterministic step in time, on a real clock a short sleep.
    """
    with anyio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110
            await anyio.sleep(0.005)


async def _answered_call(adapter: Any, emu: Emulator, client: Any) -> tuple[Any, Any]:
    """Place a call, let the client answer it, return (client Call, emulator call)."""
    got: list[Any] = []
    ready = anyio.Event()

    @client.on_call
    async def on_call(call: Any) -> None:
        await call.answer()
        got.append(call)
        ready.set()
        await call.wait_for_ended()

    ecall = await emu.place_call(context="office", script=caller())
    with anyio.fail_after(5):
        await ready.wait()
    return got[0], ecall


@pytest.mark.loopback
async def test_reconnect_resumes_and_actions_keep_working(adapter: Any) -> None:
    async with emulator() as emu:
        # The queued request's timeout runs while it waits for the ~1 s reconnect.
        client = make_client(adapter, emu, request_timeout=10.0)
        async with client:
            call, ecall = await _answered_call(adapter, emu, client)
            play = await call.play(LONG)
            protocol = client.relay_protocol
            assert await emu.drop_connections() == 1
            await wait_until(lambda: not client.connected)
            # While offline, this request waits in the core's queue and goes out after re-auth.
            record = await call.record(audio={"format": "wav", "initial_timeout": 0})
            assert len(connects(emu)) == 2
            resume = connects(emu)[-1]
            assert resume["protocol"] == protocol
            assert client.relay_protocol == protocol
            await play.stop()
            assert (await play.wait(timeout=5)).state == "finished"
            await record.stop()
            assert (await record.wait(timeout=5)).state == "finished"
            await call.hangup()
            await ecall.wait_ended(timeout=5)


@pytest.mark.loopback
async def test_requests_queued_while_disconnected_go_out_in_order(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu, request_timeout=10.0)
        async with client:
            await emu.drop_connections()
            await wait_until(lambda: not client.connected)
            queued: list[str] = []

            async def subscribe(name: str) -> None:
                queued.append(name)  # same scheduling step as the core queueing it
                await client.receive([name])

            async with anyio.create_task_group() as tg:
                for name in ("alpha", "beta", "gamma", "delta"):
                    tg.start_soon(subscribe, name)
            sent = [r["contexts"][0] for r in requests(emu, "signalwire.receive")]
            assert sent == queued
            assert len(connects(emu)) == 2
            assert set(queued) <= set(client.contexts)


@pytest.mark.loopback
async def test_server_ping_is_answered(adapter: Any) -> None:
    async with emulator() as emu, make_client(adapter, emu):
        assert await emu.ping_clients(timeout=5) == 1


async def test_client_pings_and_survives(adapter: Any) -> None:
    async with emulator() as emu, make_client(adapter, emu, ping_interval=0.05):
        await emu.wait_for_journal("signalwire.ping", count=3, direction="in", timeout=5)


@pytest.mark.loopback
@pytest.mark.parametrize("restart", [False, True], ids=["resume", "restart"])
async def test_server_disconnect(adapter: Any, restart: bool) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu, **FAST_RECONNECT)
        async with client:
            first = client.relay_protocol
            assert await emu.server_disconnect(restart=restart) == 1
            await emu.wait_for_journal("signalwire.connect", count=2, direction="in", timeout=5)
            second = connects(emu)[-1]
            if restart:
                assert "protocol" not in second
            else:
                assert second["protocol"] == first
            # The session works again: a raw request round-trips.
            await wait_until(lambda: client.connected)
            await client.receive(["more"])
            assert "more" in client.contexts


@pytest.mark.loopback
async def test_half_open_connection_is_detected(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu, ping_interval=0.1, request_timeout=0.3, **FAST_RECONNECT)
        async with client:
            assert emu.go_half_open() == 1
            await emu.wait_for_journal("signalwire.connect", count=2, direction="in", timeout=10)


@pytest.mark.loopback
async def test_auth_rejection_is_bounded(adapter: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with emulator() as emu:
        client = make_client(adapter, emu, token="wrong-secret-token", **FAST_RECONNECT)
        with anyio.fail_after(15), pytest.raises(adapter.AuthenticationFailed):
            await client.connect()
        assert len(connects(emu)) == 3
        assert not client.connected
    assert "wrong-secret-token" not in caplog.text  # credentials are never logged


@pytest.mark.parametrize(
    ("delays", "message"),
    [
        ({"reconnect_min_delay": 0}, "reconnect_min_delay must be a positive"),
        ({"reconnect_max_delay": float("inf")}, "reconnect_max_delay must be a positive"),
        ({"reconnect_min_delay": 5, "reconnect_max_delay": 1}, "must not exceed"),
    ],
)
async def test_reconnect_delays_are_validated(
    adapter: Any, delays: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        adapter.RelayClient(project=PROJECT, token=TOKEN, url="ws://127.0.0.1:9", **delays)


@pytest.mark.loopback
async def test_missing_server_fails_connect(adapter: Any) -> None:
    async with emulator() as emu:
        url, transport = emu.url, transport_for(emu)
    # Its port is free again (loopback), or its memory transport refuses (in memory).
    client = adapter.RelayClient(
        project=PROJECT, token=TOKEN, url=url, connect_timeout=1.0, transport=transport
    )
    with pytest.raises(ConnectionRefusedError):
        await client.connect()


async def test_max_active_calls(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu, max_active_calls=1)
        handled: list[str] = []
        release = anyio.Event()

        @client.on_call
        async def on_call(call: Any) -> None:
            handled.append(call.call_id)
            await call.answer()
            await release.wait()
            await call.hangup()

        async with client:
            first = await emu.place_call(context="office", script=caller())
            await first.wait_state("answered", timeout=5)
            second = await emu.place_call(context="office", script=caller())
            (offer,) = [
                e
                for e in await emu.wait_for_journal("calling.call.receive", count=2, timeout=5)
                if e.event_params.get("call_id") == second.call_id
            ]

            def acked() -> bool:
                return any(
                    e.kind == "response" and e.id == offer.id
                    for e in emu.journal("signalwire.event", "in")
                )

            await wait_until(acked)
            # The ACK goes out after the read's events were dispatched: the offer
            # was ACKed and ignored (no Call, no handler, no answer).
            assert second.call_id not in client._dispatcher.calls
            assert handled == [first.call_id]
            assert not second.record.answered
            release.set()
            await first.wait_ended(timeout=5)


async def test_handler_exception_is_isolated(
    adapter: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="relaykit")
    async with emulator() as emu:
        client = make_client(adapter, emu)
        outcomes: list[str] = []

        @client.on_call
        async def on_call(call: Any) -> None:
            await call.answer()
            if not outcomes:
                outcomes.append("boom")
                raise RuntimeError("handler bug")
            outcomes.append("ok")
            await call.hangup()

        async with client:
            bad = await emu.place_call(context="office", script=caller())
            await bad.wait_state("answered", timeout=5)
            good = await emu.place_call(context="office", script=caller())
            record = await good.wait_ended(timeout=5)
            assert record.end_reason == "hangup"
            assert client.connected
        assert outcomes == ["boom", "ok"]
        assert bad.call_id in caplog.text
        assert "handler bug" in caplog.text


async def test_drain_lets_running_calls_finish(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu)
        finished = anyio.Event()

        @client.on_call
        async def on_call(call: Any) -> None:
            await call.answer()
            play = await call.play([{"type": "silence", "params": {"duration": 8}}])
            await play.wait()
            await call.hangup()
            finished.set()

        async with client:
            ecall = await emu.place_call(context="office", script=caller())
            await ecall.wait_state("answered", timeout=5)
            # Drained within 10 s while the handler still had 8 simulated seconds to play.
            assert await client.drain(timeout=10) is True
            assert finished.is_set()
            assert requests(emu, "signalwire.unreceive")[-1]["contexts"] == ["office"]
        # disconnect() after drain closed the WebSocket politely.
        assert ecall.record.end_reason == "hangup"


async def test_drain_timeout_reports_running_handlers(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu)

        @client.on_call
        async def on_call(call: Any) -> None:
            await call.answer()
            await call.wait_for_ended()

        async with client:
            ecall = await emu.place_call(context="office", script=caller())
            await ecall.wait_state("answered", timeout=5)
            assert await client.drain(timeout=0.05) is False


async def test_max_connections_per_process(adapter: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    async with emulator() as emu:
        first = make_client(adapter, emu)
        second = make_client(adapter, emu)
        async with first:
            with pytest.raises(RuntimeError, match="RELAY_MAX_CONNECTIONS"):
                await second.connect()
            monkeypatch.setenv("RELAY_MAX_CONNECTIONS", "2")
            async with second:
                assert second.connected


async def test_execute_receive_unreceive(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu)
        async with client:
            await client.receive(["sales", "support"])
            assert requests(emu, "signalwire.receive")[-1] == {"contexts": ["sales", "support"]}
            await client.unreceive(["sales"])
            assert requests(emu, "signalwire.unreceive")[-1] == {"contexts": ["sales"]}
            assert client.contexts == ["office", "support"]
            with pytest.raises(adapter.RelayError) as info:
                await client.execute("calling.answer", {"node_id": "n", "call_id": "nope"})
            assert info.value.code in (404, 410)
            await emu.place_call(context="support")  # receive() took effect


@pytest.mark.loopback
async def test_dial_answered(adapter: Any) -> None:
    async with emulator() as emu:
        emu.configure_number("+15559876543", "answer", answer_after=1.0)
        client = make_client(adapter, emu)
        async with client:
            device = {
                "type": "phone",
                "params": {"to_number": "+15559876543", "from_number": "+15551234567"},
            }
            call = await client.dial([[device]], tag="my-tag", max_duration=5, dial_timeout=10)
            assert isinstance(call, adapter.Call)
            assert call.state == "answered"
            assert call.direction == "outbound"
            assert call.tag == "my-tag"
            sent = requests(emu, "calling.dial")[-1]
            assert sent["tag"] == "my-tag"
            assert sent["devices"] == [[device]]
            assert sent["max_duration"] == 5
            action = await call.play([{"type": "tts", "text": "Automated message"}])
            await action.wait(timeout=5)
            await call.hangup()
            await call.wait_for_ended(timeout=5)


@pytest.mark.parametrize("behavior", ["busy", "decline"])
async def test_dial_failure_raises(adapter: Any, behavior: str) -> None:
    async with emulator() as emu:
        emu.configure_number("+15550001234", behavior, answer_after=1.0)
        async with make_client(adapter, emu) as client:
            device = {
                "type": "phone",
                "params": {"to_number": "+15550001234", "from_number": "+15551230000"},
            }
            with pytest.raises(adapter.RelayError, match="failed"):
                await client.dial([[device]], dial_timeout=10)


async def test_dial_timeout(adapter: Any) -> None:
    async with emulator() as emu:
        emu.configure_number("+15550009999", "answer", answer_after=1e7)
        async with make_client(adapter, emu) as client:
            device = {
                "type": "phone",
                "params": {
                    "to_number": "+15550009999",
                    "from_number": "+15551230000",
                    "timeout": 1e7,
                },
            }
            with pytest.raises(TimeoutError):
                await client.dial([[device]], dial_timeout=0.2)
            with pytest.raises(adapter.RelayError):
                await client.dial([[device]], dial_timeout=0.05)


async def test_connect_again_after_disconnect(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu)
        for _ in range(2):
            async with client:
                await client.receive(["again"])
        assert len(connects(emu)) == 2
        assert "protocol" not in connects(emu)[-1]  # a new session, not a resume


async def test_requests_fail_cleanly_when_not_connected(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu)
        with pytest.raises(adapter.RelayError):
            await client.execute("signalwire.receive", {"contexts": ["x"]})
        async with client:
            pass
        await client.disconnect()  # twice is harmless
        with pytest.raises(adapter.RelayError):
            await client.execute("signalwire.receive", {"contexts": ["x"]})


@pytest.mark.cases("anyio-asyncio-tcp", "anyio-trio-tcp")  # an anyio transport, on sockets
async def test_httpx_transport(adapter: Any) -> None:
    from relay_anyio import HttpxWsTransport

    async with emulator() as emu:

        async def handler(call: Any) -> Any:
            await call.answer()
            collect = await call.prompt_tts("Press a key", {"digits": {"max": 1}})
            return (await collect.wait(timeout=5)).digits

        _, digits = await run_inbound(
            adapter, emu, handler, script=caller().press("5"), transport=HttpxWsTransport()
        )
        assert digits == "5"


@pytest.mark.loopback
async def test_cancelled_caller_still_says_goodbye(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu)
        with anyio.CancelScope() as scope:
            async with client:
                assert emu.server.subscribers("office")
                scope.cancel()
                await anyio.sleep_forever()
        # disconnect() ran the close handshake despite the cancellation: the server
        # already forgot the session when the block exited.
        assert not emu.server.subscribers("office")
        assert not client.connected
        async with client:  # and the client is reusable
            assert client.connected


@pytest.mark.cases("anyio-asyncio-tcp", "anyio-trio-tcp")  # an anyio transport, on sockets
@pytest.mark.parametrize("fault", ["drop", "server_disconnect"])
async def test_httpx_transport_reconnects(adapter: Any, fault: str) -> None:
    from relay_anyio import HttpxWsTransport

    async with emulator() as emu:
        client = make_client(adapter, emu, request_timeout=10.0, transport=HttpxWsTransport())
        async with client:
            call, ecall = await _answered_call(adapter, emu, client)
            play = await call.play(LONG)
            if fault == "drop":
                await emu.drop_connections()
            else:
                await emu.server_disconnect(restart=False)
            await wait_until(lambda: not client.connected)
            await play.stop()  # queued, then sent on the resumed session
            assert (await play.wait(timeout=5)).state == "finished"
            assert connects(emu)[-1]["protocol"] == client.relay_protocol
            await call.hangup()
            await ecall.wait_ended(timeout=5)


async def test_an_unanswered_call_rings_out(adapter: Any) -> None:
    """A minute of ringing: virtual on trio (no wall time), 60 ms on asyncio's clock."""
    async with emulator() as emu:
        client = make_client(adapter, emu)
        offered: list[Any] = []

        @client.on_call
        async def on_call(call: Any) -> None:
            offered.append(call)
            await call.wait_for_ended()  # never answers

        async with client:
            ecall = await emu.place_call(context="office", script=Caller(ring_timeout=60.0))
            record = await ecall.wait_ended(timeout=120)
            (call,) = offered
            await call.wait_for_ended(timeout=5)
        assert not record.answered
        assert record.end_reason == "cancel"
        assert call.state == "ended"
