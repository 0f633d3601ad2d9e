"""``connect()``/``disconnect()`` under every timeout and cancel scope (issue 11 §3), on
Python 3.10 as on 3.11+.

A timeout that fires while connecting or disconnecting raises the scope's own
error (``asyncio.TimeoutError`` from ``asyncio.wait_for``: on 3.10 that is not
the builtin ``TimeoutError``; the builtin one from ``asyncio.timeout`` and
``anyio.fail_after``; ``trio.TooSlowError`` from ``trio.fail_after``), never an
exception group or a cancel-scope ``RuntimeError``; the client is then left
disconnected, with its ``RELAY_MAX_CONNECTIONS`` slot released, and connects
again.

Disconnecting from a half-open server (it reads nothing and answers nothing)
is the slow case: the polite close is bounded, and the caller's timeout cuts
it short.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
import trio

from relaykit.emulator import Emulator

from .conftest import Case, emulator, make_client

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(40)]

ASYNCIO = pytest.mark.cases("anyio-asyncio-memory", "anyio-asyncio-tcp")
TRIO = pytest.mark.cases("anyio-trio-memory", "relay_trio-memory", "relay_trio-tcp")

#: A timeout applied to an awaitable: raises the scope's error when it fires.
Bounded = Callable[[Awaitable[None], float], Awaitable[None]]


async def _wait_for(awaitable: Awaitable[None], seconds: float) -> None:
    await asyncio.wait_for(awaitable, seconds)


async def _asyncio_timeout(awaitable: Awaitable[None], seconds: float) -> None:
    async with asyncio.timeout(seconds):  # type: ignore[attr-defined,unused-ignore]
        await awaitable


async def _fail_after(awaitable: Awaitable[None], seconds: float) -> None:
    with anyio.fail_after(seconds):
        await awaitable


async def _trio_fail_after(awaitable: Awaitable[None], seconds: float) -> None:
    with trio.fail_after(seconds):
        await awaitable


ASYNCIO_SCOPES: list[Any] = [
    pytest.param(_wait_for, asyncio.TimeoutError, id="asyncio.wait_for"),
    pytest.param(_fail_after, TimeoutError, id="anyio.fail_after"),
    pytest.param(
        _asyncio_timeout,
        TimeoutError,
        id="asyncio.timeout",
        marks=pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is 3.11+"),
    ),
]


TRIO_SCOPES: list[Any] = [
    pytest.param(_trio_fail_after, trio.TooSlowError, id="trio.fail_after"),
    pytest.param(_fail_after, TimeoutError, id="anyio.fail_after"),
]


async def _times_out_then_recovers(
    adapter: Any,
    case: Case,
    emu: Emulator,
    bounded: Bounded,
    error: type[BaseException],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only one connected client per process: a leaked slot fails the next connect.
    monkeypatch.setenv("RELAY_MAX_CONNECTIONS", "1")
    client = make_client(adapter, emu, request_timeout=30.0)
    # Under the scope, and it does not fire: the client keeps working outside it.
    await bounded(client.connect(), 10)
    await client.receive(["inside"])
    await bounded(client.disconnect(), 10)
    assert not client.connected

    # connect() times out while signalwire.connect is unanswered.
    emu.delay_responses(1.0)
    with pytest.raises(error):
        await bounded(client.connect(), 0.2)
    assert not client.connected
    emu.delay_responses(0)

    # Another client may take the only slot: the failed attempt gave it back.
    other = make_client(adapter, emu)
    await bounded(other.connect(), 10)
    await other.disconnect()

    if case.memory:
        # disconnect() times out on a half-open server (no close reply ever comes).
        # An anyio/trio scope lets the shielded goodbye run out its bound (5 s of
        # the core's close timeout: virtual on trio, real on asyncio, hence
        # memory cases only), then raises; asyncio's own cancellation cuts it short.
        await bounded(client.connect(), 10)
        assert emu.go_half_open() == 1
        with pytest.raises(error):
            await bounded(client.disconnect(), 0.2)
        assert not client.connected

    # Clean again after every timeout: connect, work, disconnect.
    await bounded(client.connect(), 10)
    assert client.connected
    await client.receive(["again"])
    await client.disconnect()
    assert not client.connected


@ASYNCIO
@pytest.mark.parametrize(("bounded", "error"), ASYNCIO_SCOPES)
async def test_asyncio_timeouts_around_connect_and_disconnect(
    adapter: Any,
    adapter_spec: Case,
    monkeypatch: pytest.MonkeyPatch,
    bounded: Bounded,
    error: type[BaseException],
) -> None:
    async with emulator() as emu:
        await _times_out_then_recovers(adapter, adapter_spec, emu, bounded, error, monkeypatch)


@TRIO
@pytest.mark.parametrize(("bounded", "error"), TRIO_SCOPES)
async def test_trio_timeouts_around_connect_and_disconnect(
    adapter: Any,
    adapter_spec: Case,
    monkeypatch: pytest.MonkeyPatch,
    bounded: Bounded,
    error: type[BaseException],
) -> None:
    async with emulator() as emu:
        await _times_out_then_recovers(adapter, adapter_spec, emu, bounded, error, monkeypatch)
