"""A command issued right before ``disconnect()`` is never silently lost (issue 11 §5).

House rule: a request is either sent (the server runs it, whatever becomes of
its answer) or it fails with ``ConnectionLostError(sent=False)``; a hang-up
nobody awaits that cannot be sent is logged.  In memory on asyncio and trio,
where the order of bytes is the order of the tasks that wrote them.

The loss these pin down: ``calling.end`` and the WebSocket close frame went
out in one write; the emulator read both at once and dropped the request, while
the client said ``sent=True`` (it did reach the server).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from relaykit.emulator import EmulatedCall, Emulator

from ._helpers import requests
from .conftest import caller, emulator, make_client

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(40)]


async def _answered_call(adapter: Any, emu: Emulator, **kw: Any) -> tuple[Any, Any, EmulatedCall]:
    """A connected client holding one answered inbound call (its handler waits forever)."""
    client = make_client(adapter, emu, **kw)
    held: list[Any] = []
    answered = anyio.Event()

    @client.on_call
    async def on_call(call: Any) -> None:
        await call.answer()
        held.append(call)
        answered.set()
        await anyio.sleep(math.inf)

    await client.connect()
    ecall = await emu.place_call(context="office", script=caller())
    with anyio.fail_after(10):
        await answered.wait()
    return client, held[0], ecall


async def _assert_outcome_is_honest(
    adapter: Any, emu: Emulator, ecall: EmulatedCall, outcome: BaseException | None
) -> None:
    """Answered, or sent (the server ran it), or never sent (the server never saw it)."""
    sent = outcome is None or getattr(outcome, "sent", None) is True
    if outcome is not None:
        assert isinstance(outcome, adapter.ConnectionLostError), repr(outcome)
        assert outcome.sent in (True, False), f"unknown outcome: {outcome!r}"
    if sent:
        assert requests(emu, "calling.end"), "reported as sent, but the server never got it"
        record = await ecall.wait_ended(timeout=10)
        assert record.hung_up_by == "app"
    else:
        assert not requests(emu, "calling.end"), "reported as never sent, but it was"
        assert ecall.record.state == "answered"


@pytest.mark.parametrize("yields", [0, 1, 2, 3, 5, 8])
async def test_hangup_right_before_disconnect_is_sent_or_fails_unsent(
    adapter: Any, yields: int
) -> None:
    """``call.hangup()`` started, then ``disconnect()`` after *yields* scheduler passes:
    every interleaving ends with the call hung up at the server, or a
    ``ConnectionLostError(sent=False)`` and the call untouched."""
    async with emulator() as emu:
        client, call, ecall = await _answered_call(adapter, emu)
        outcome: list[BaseException | None] = []

        async def hang_up() -> None:
            try:
                await call.hangup()
            except Exception as exc:
                outcome.append(exc)
            else:
                outcome.append(None)

        async with anyio.create_task_group() as group:
            group.start_soon(hang_up)
            for _ in range(yields):
                await anyio.lowlevel.checkpoint()
            await client.disconnect()
        assert len(outcome) == 1
        await _assert_outcome_is_honest(adapter, emu, ecall, outcome[0])


async def test_hangup_issued_in_the_same_step_as_disconnect_reaches_the_server(
    adapter: Any,
) -> None:
    """disconnect() as soon as calling.end is in the core (written or not): it goes
    out ahead of the close frame, and the server runs it."""
    async with emulator() as emu:
        client, call, ecall = await _answered_call(adapter, emu)
        outcome: list[BaseException | None] = []
        async with anyio.create_task_group() as group:
            before = _pending(client)
            group.start_soon(_hang_up, call, outcome)
            # Only until calling.end is in the core: it may or may not be written yet.
            await _until_handed_to_core(client, before)
            await client.disconnect()
        (error,) = outcome
        assert isinstance(error, adapter.ConnectionLostError)
        assert error.sent is True  # on the wire, answer lost with the close
        await _assert_outcome_is_honest(adapter, emu, ecall, error)


async def _hang_up(call: Any, outcome: list[BaseException | None]) -> None:
    """``call.hangup()``, its error (or ``None``) appended to *outcome*."""
    try:
        await call.hangup()
    except Exception as exc:
        outcome.append(exc)
    else:
        outcome.append(None)


def _pending(client: Any) -> int:
    health = client.health()
    return int(health.in_flight_requests + health.queued_requests)


async def _until_handed_to_core(client: Any, before: int) -> None:
    """Let the scheduler run until one more request is in the core (sent or queued)."""
    with anyio.fail_after(10):
        while _pending(client) <= before:
            await anyio.lowlevel.checkpoint()


async def test_request_after_disconnect_started_never_leaves(adapter: Any) -> None:
    async with emulator() as emu:
        client, call, ecall = await _answered_call(adapter, emu)
        await client.disconnect()
        with pytest.raises(adapter.ConnectionLostError) as raised:
            await call.hangup()
        assert raised.value.sent is False
        assert "safe to retry" in str(raised.value)
        await _assert_outcome_is_honest(adapter, emu, ecall, raised.value)


async def test_queued_while_offline_then_disconnect_fails_unsent(adapter: Any) -> None:
    """The connection is down (backoff): a hang-up waits in the offline queue; the
    program disconnects: ConnectionLostError(sent=False), nothing reaches the server."""
    async with emulator() as emu:
        client, call, ecall = await _answered_call(
            adapter, emu, reconnect_min_delay=1000.0, reconnect_max_delay=1000.0
        )
        assert await emu.drop_connections() == 1
        with anyio.fail_after(10):
            while client.connected:  # noqa: ASYNC110
                await anyio.sleep(0.005)
        outcome: list[BaseException | None] = []
        async with anyio.create_task_group() as group:
            before = _pending(client)
            group.start_soon(_hang_up, call, outcome)
            await _until_handed_to_core(client, before)
            assert client.health().queued_requests == 1  # waiting for the next socket
            await client.disconnect()
        (error,) = outcome
        assert isinstance(error, adapter.ConnectionLostError)
        assert error.sent is False
        await _assert_outcome_is_honest(adapter, emu, ecall, error)


async def test_unawaited_hangup_that_cannot_be_sent_is_logged(
    adapter: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A hang-up nobody awaits (a handler that raised) queued while offline, then
    disconnect(): not silent, a WARNING says it never left."""
    caplog.set_level(logging.WARNING, logger="relaykit.client")
    async with emulator() as emu:
        client = make_client(adapter, emu, reconnect_min_delay=1000.0, reconnect_max_delay=1000.0)
        offline = anyio.Event()

        @client.on_call
        async def on_call(call: Any) -> None:
            await call.answer()
            await offline.wait()
            raise RuntimeError("bug in the application")

        await client.connect()
        ecall = await emu.place_call(context="office", script=caller())
        await ecall.wait_state("answered", timeout=10)
        assert await emu.drop_connections() == 1
        with anyio.fail_after(10):
            while client.connected:  # noqa: ASYNC110
                await anyio.sleep(0.005)
        offline.set()
        with anyio.fail_after(10):
            while client.health().queued_requests == 0:  # noqa: ASYNC110
                await anyio.sleep(0.005)
        await client.disconnect()
        assert not requests(emu, "calling.end")
    failed = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert any(
        f"hanging up call {ecall.call_id} failed" in m and "never left" in m for m in failed
    ), failed
