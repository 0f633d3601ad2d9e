"""Lifecycle promises (issue 11 §1, §3): nothing left ringing, nothing left unowned,
``connect()``/``disconnect()`` under any timeout or cancel scope.

Every test runs on asyncio and trio (the ``adapter`` fixture's cases); the ones
about one loop's own API (``asyncio.wait_for``, ``trio.fail_after``) pick their
cases by backend.
"""

from __future__ import annotations

import asyncio
import math
import sys
from typing import Any

import anyio
import pytest

from relaykit.emulator import EmulatedCall, Emulator

from ._helpers import requests
from .conftest import Case, caller, emulator, make_client

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(40)]

RINGS_FOREVER = "+15550001111"
FROM = "+15551230000"


def device(number: str = RINGS_FOREVER) -> dict[str, Any]:
    return {"type": "phone", "params": {"to_number": number, "from_number": FROM, "timeout": 1e7}}


def ring_forever(emu: Emulator) -> None:
    emu.configure_number(RINGS_FOREVER, "answer", answer_after=1e7)


def legs(emu: Emulator) -> list[EmulatedCall]:
    return [c for c in emu.calls if c.record.direction == "outbound"]


async def wait_for_leg(emu: Emulator, state: str = "ringing") -> EmulatedCall:
    with anyio.fail_after(10):
        while not legs(emu):  # noqa: ASYNC110
            await anyio.sleep(0.005)
    leg = legs(emu)[0]
    await leg.wait_state(state, timeout=10)
    return leg


async def assert_hung_up_by_app(leg: EmulatedCall) -> None:
    record = await leg.wait_ended(timeout=10)
    assert record.hung_up_by == "app"
    assert not record.answered


def client_acked_state(emu: Emulator, call_id: str, state: str) -> bool:
    """Whether the client ACKed the ``calling.call.state`` *state* event of *call_id*.

    The ACK proves the client read everything the server wrote before that
    event, the answer to the ``calling.dial`` that started the call included.
    """
    sent = {
        e.id
        for e in emu.journal("signalwire.event", "out")
        if e.event_type == "calling.call.state"
        and e.data.get("params", {}).get("call_id") == call_id
        and e.data.get("params", {}).get("call_state") == state
    }
    return any(e.kind == "response" and e.id in sent for e in emu.journal(direction="in"))


async def wait_until(predicate: Any, limit: float = 10.0) -> None:
    with anyio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110
            await anyio.sleep(0.005)


# ---------------------------------------------------------------------------
# §1: outbound calls are owned until they end
# ---------------------------------------------------------------------------


async def test_cancelled_dial_hangs_up_the_ringing_leg(adapter: Any) -> None:
    async with emulator() as emu:
        ring_forever(emu)
        async with make_client(adapter, emu) as client:
            with anyio.CancelScope() as scope:

                async def cancel_when_ringing() -> None:
                    await wait_for_leg(emu)
                    scope.cancel()

                async with anyio.create_task_group() as group:
                    group.start_soon(cancel_when_ringing)
                    await client.dial([[device()]], dial_timeout=1e6)
            assert scope.cancelled_caught
            await assert_hung_up_by_app(legs(emu)[0])


@pytest.mark.cases("anyio-asyncio-memory")
async def test_asyncio_task_cancel_hangs_up_the_ringing_leg(adapter: Any) -> None:
    async with emulator() as emu:
        ring_forever(emu)
        async with make_client(adapter, emu) as client:
            task = asyncio.ensure_future(client.dial([[device()]], dial_timeout=1e6))
            await wait_for_leg(emu)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await assert_hung_up_by_app(legs(emu)[0])


async def test_dial_timeout_hangs_up_every_parallel_leg(adapter: Any) -> None:
    async with emulator() as emu:
        ring_forever(emu)
        emu.configure_number("+15550002222", "answer", answer_after=1e7)
        async with make_client(adapter, emu) as client:
            with pytest.raises(TimeoutError):
                await client.dial([[device(), device("+15550002222")]], dial_timeout=0.5)
            both = legs(emu)
            assert len(both) == 2
            for leg in both:
                await assert_hung_up_by_app(leg)


async def test_leg_seen_after_giving_up_is_hung_up(adapter: Any) -> None:
    """Cancelled while calling.dial is in flight: the legs the server starts later end."""
    async with emulator() as emu:
        ring_forever(emu)
        async with make_client(adapter, emu, request_timeout=30.0) as client:
            emu.delay_responses(0.5)
            with anyio.move_on_after(0.1):
                await client.dial([[device()]], dial_timeout=1e6)
            assert requests(emu, "calling.dial")
            assert not legs(emu)  # the server has not started the dial yet
            emu.delay_responses(0)
            leg = await wait_for_leg(emu, "created")
            await assert_hung_up_by_app(leg)


async def test_disconnect_while_dialing_ends_the_attempt(adapter: Any) -> None:
    async with emulator() as emu:
        ring_forever(emu)
        client = make_client(adapter, emu)
        outcome: list[BaseException] = []
        async with client:

            async def dial() -> None:
                try:
                    await client.dial([[device()]], dial_timeout=1e6)
                except Exception as exc:
                    outcome.append(exc)

            async with anyio.create_task_group() as group:
                group.start_soon(dial)
                leg = await wait_for_leg(emu)
                # Once the client knows the leg: one it never heard of it cannot end.
                await wait_until(lambda: client_acked_state(emu, leg.call_id, "ringing"))
                await client.disconnect()
        assert len(outcome) == 1
        assert isinstance(outcome[0], adapter.ConnectionLostError)
        await assert_hung_up_by_app(leg)


@pytest.mark.loopback
@pytest.mark.parametrize("answer", ["received", "lost"])
async def test_a_dial_ringing_across_a_resumed_session_is_still_owned(
    adapter: Any, answer: str
) -> None:
    """The connection drops while the callee rings: the session resumes and dial()
    keeps waiting (failing at once would make a retrying program ring them twice);
    when the program then gives up, the leg is ended at the server.

    ``lost``: calling.dial ran at the server but its answer died with the socket
    (the request's outcome is unknown to the client): it is still awaited too.
    """
    async with emulator() as emu:
        ring_forever(emu)
        client = make_client(
            adapter, emu, request_timeout=30.0, reconnect_min_delay=0.05, reconnect_max_delay=0.1
        )
        async with client:
            if answer == "lost":
                emu.lose_answer_to_next("calling.dial")
            outcome: list[BaseException] = []

            async def dial() -> None:
                try:
                    await client.dial([[device()]], dial_timeout=1e6)
                except Exception as exc:
                    outcome.append(exc)

            async with anyio.create_task_group() as group:
                group.start_soon(dial)
                leg = await wait_for_leg(emu)
                # Drop only once the client knows the leg: one whose events died
                # with the socket it could never end.
                await wait_until(lambda: client_acked_state(emu, leg.call_id, "ringing"))
                assert await emu.drop_connections() == 1
                await wait_until(lambda: len(requests(emu, "signalwire.connect")) == 2)
                await wait_until(lambda: client.connected)
                assert outcome == []  # still awaited on the resumed session
                assert leg.record.state == "ringing"  # nobody ended it on the drop
                group.cancel_scope.cancel()  # the program gives up
            await assert_hung_up_by_app(leg)


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, "5", True])
async def test_dial_timeout_must_be_positive(adapter: Any, bad: Any) -> None:
    async with emulator() as emu, make_client(adapter, emu) as client:
        with pytest.raises(ValueError, match="dial_timeout"):
            await client.dial([[device()]], dial_timeout=bad)
        assert not requests(emu, "calling.dial")


async def test_handler_that_raised_has_its_call_hung_up(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu)

        @client.on_call
        async def on_call(call: Any) -> None:
            await call.answer()
            raise RuntimeError("bug in the application")

        async with client:
            ecall = await emu.place_call(context="office", script=caller())
            record = await ecall.wait_ended(timeout=10)
        assert record.answered
        assert record.hung_up_by == "app"


async def test_cancelled_action_start_is_stopped_once_acknowledged(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu, request_timeout=30.0)
        done = anyio.Event()

        @client.on_call
        async def on_call(call: Any) -> None:
            await call.answer()
            emu.delay_responses(0.5)
            with anyio.move_on_after(0.1):
                await call.play([{"type": "silence", "params": {"duration": 3600}}])
            emu.delay_responses(0)
            done.set()
            await call.wait_for_ended()

        async with client:
            ecall = await emu.place_call(context="office", script=caller())
            with anyio.fail_after(10):
                await done.wait()
            await emu.wait_for_journal("calling.play.stop", direction="in", timeout=10)
            stop = requests(emu, "calling.play.stop")[-1]
            assert stop["control_id"] == requests(emu, "calling.play")[-1]["control_id"]
            assert stop["call_id"] == ecall.call_id


# ---------------------------------------------------------------------------
# §3: structured concurrency holds
# ---------------------------------------------------------------------------


async def test_connect_and_disconnect_under_fail_after(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu)
        with anyio.fail_after(10):
            await client.connect()
        assert client.connected
        await client.receive(["more"])  # the client keeps working outside the scope
        with anyio.fail_after(10):
            await client.disconnect()
        assert not client.connected


async def test_connect_timeout_leaves_client_clean(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu, request_timeout=30.0)
        emu.delay_responses(1.0)  # signalwire.connect answered after 1 s
        with anyio.move_on_after(0.2) as scope:
            await client.connect()
        assert scope.cancelled_caught
        assert not client.connected
        emu.delay_responses(0)
        with anyio.fail_after(10):
            async with client:
                assert client.connected
                await client.receive(["again"])


@pytest.mark.cases("anyio-asyncio-memory", "anyio-asyncio-tcp")
async def test_asyncio_wait_for_and_timeout(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu)
        await asyncio.wait_for(client.connect(), 10)
        await client.receive(["x"])
        await asyncio.wait_for(client.disconnect(), 10)
        emu.delay_responses(1.0)
        # asyncio.wait_for raises asyncio.TimeoutError: the builtin TimeoutError
        # from 3.11 on, a class of its own on 3.10 (which `except TimeoutError`
        # does not catch there).
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.connect(), 0.2)
        assert not client.connected
        emu.delay_responses(0)
        if sys.version_info >= (3, 11):
            async with asyncio.timeout(10):
                await client.connect()
            async with asyncio.timeout(10):
                await client.disconnect()
        await asyncio.wait_for(client.connect(), 10)  # clean again after every timeout
        await client.disconnect()


@pytest.mark.cases("anyio-trio-memory", "relay_trio-memory", "relay_trio-tcp")
async def test_trio_fail_after_and_move_on_after(adapter: Any) -> None:
    import trio

    async with emulator() as emu:
        client = make_client(adapter, emu, request_timeout=30.0)
        with trio.fail_after(10):
            await client.connect()
        await client.receive(["x"])
        with trio.fail_after(10):
            await client.disconnect()
        emu.delay_responses(1.0)
        with trio.move_on_after(0.2) as scope:
            await client.connect()
        assert scope.cancelled_caught
        assert not client.connected
        emu.delay_responses(0)
        with trio.move_on_after(10):
            await client.connect()
        assert client.connected
        await client.disconnect()


async def test_disconnect_from_a_handler_keeps_the_application_running(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu)
        returned = anyio.Event()

        @client.on_call
        async def on_call(call: Any) -> None:
            await call.answer()
            await client.disconnect()
            returned.set()

        await client.connect()
        await emu.place_call(context="office", script=caller())
        with anyio.fail_after(10):
            await returned.wait()
        await wait_until(lambda: not client.connected)
        await anyio.sleep(0.01)  # this task is still alive and schedulable
        await client.disconnect()  # harmless: already stopped
        async with client:  # and the client can connect again
            assert client.connected


async def test_use_from_another_event_loop_fails_at_once(adapter: Any) -> None:
    async with emulator() as emu, make_client(adapter, emu) as client:

        def elsewhere() -> BaseException | None:
            async def use() -> None:
                await client.receive(["elsewhere"])

            try:
                asyncio.run(use())
            except BaseException as exc:
                return exc
            return None

        error = await anyio.to_thread.run_sync(elsewhere)
        assert isinstance(error, RuntimeError)
        assert "another event loop or thread" in str(error)
        await client.receive(["here"])  # still fine on its own loop


async def test_failed_connect_releases_its_connection_slot(
    adapter: Any, adapter_spec: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAY_MAX_CONNECTIONS", "1")
    async with emulator() as emu:
        bad = make_client(adapter, emu, token="wrong", reconnect_min_delay=0.01)
        with pytest.raises(adapter.AuthenticationFailed):
            await bad.connect()
        async with make_client(adapter, emu) as good:
            assert good.connected
