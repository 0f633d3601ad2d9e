"""Connection state you can watch: ``@client.on_connection_state`` and ``client.health()``."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from relaykit.observability import (
    AuthenticationAbandoned,
    AuthenticationRefused,
    Connected,
    Connecting,
    ConnectionChange,
    Disconnected,
    Reconnecting,
    SessionResumed,
)

from .conftest import Kit, wait_for, wait_until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


async def test_changes_and_health_over_a_reconnect(kit: Kit) -> None:
    async with kit.emulator() as emu:
        client = kit.client(emu)
        changes: list[ConnectionChange] = []
        client.on_connection_state(changes.append)
        assert client.health().state == "disconnected"
        assert not client.health().ready
        async with client:
            health = client.health()
            assert health.ready
            assert health.state == "connected"
            assert health.last_frame_received is not None
            assert health.seconds_since_last_frame is not None
            assert health.reconnects == 0
            assert (health.active_calls, health.in_flight_requests, health.queued_requests) == (
                0,
                0,
                0,
            )
            connecting, connected = changes
            assert isinstance(connecting, Connecting)
            assert connecting.attempt == 1
            assert isinstance(connected, Connected)
            assert connected.protocol == client.relay_protocol
            assert not connected.session_restored
            assert health.since == connected.at

            assert await emu.drop_connections() == 1
            await wait_until(lambda: isinstance(changes[-1], SessionResumed))
            lost, scheduled, again, back, resumed = changes[2:]
            assert isinstance(lost, Disconnected)
            assert lost.will_reconnect
            assert isinstance(scheduled, Reconnecting)
            assert scheduled.attempt == 1
            assert scheduled.delay > 0
            assert isinstance(again, Connecting)
            assert again.attempt == 1
            assert isinstance(back, Connected)
            assert back.session_restored
            assert isinstance(resumed, SessionResumed)
            # From the moment the core declared the socket dead (at or before `lost`).
            assert resumed.downtime >= resumed.at - lost.at
            assert resumed.downtime >= scheduled.delay
            health = client.health()
            assert health.ready
            assert health.reconnects == 1
            assert health.since == back.at
        closed = changes[-1]
        assert isinstance(closed, Disconnected)
        assert not closed.will_reconnect
        health = client.health()
        assert health.state == "disconnected"
        assert not health.ready
        assert json.loads(json.dumps(health.as_dict()))["state"] == "disconnected"


async def test_authentication_failures_are_reported(kit: Kit) -> None:
    async with kit.emulator() as emu:
        client = kit.client(emu, token="wrong-token")
        refused: list[ConnectionChange] = []

        @client.on_connection_state
        def record(change: ConnectionChange) -> None:
            if isinstance(change, (AuthenticationRefused, AuthenticationAbandoned)):
                refused.append(change)

        with anyio.fail_after(15), pytest.raises(kit.module.AuthenticationFailed):
            await client.connect()
    *rejected, abandoned = refused
    assert [r.attempt for r in rejected if isinstance(r, AuthenticationRefused)] == [1, 2, 3]
    assert isinstance(abandoned, AuthenticationAbandoned)
    assert "wrong-token" not in repr(refused)
    assert client.health().state == "failed"


async def test_async_listeners_run_and_a_failing_one_is_logged(
    kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="relaykit.client")
    async with kit.emulator() as emu:
        client = kit.client(emu)
        seen = anyio.Event()

        @client.on_connection_state
        def broken(change: ConnectionChange) -> None:
            raise RuntimeError("listener bug")

        @client.on_connection_state
        async def watcher(change: ConnectionChange) -> None:
            await anyio.lowlevel.checkpoint()
            if isinstance(change, Connected):
                seen.set()

        async with client:
            await wait_for(seen)
            assert client.connected
    assert "connection-state listener" in caplog.text
    assert "listener bug" in caplog.text
    with pytest.raises(TypeError, match="callable"):
        client.on_connection_state("not a function")


async def test_health_counts_calls_and_handlers_and_drain_makes_it_unready(kit: Kit) -> None:
    async with kit.emulator() as emu:
        client = kit.client(emu)
        answered = anyio.Event()
        release = anyio.Event()

        @client.on_call
        async def handle(call: Any) -> None:
            await call.answer()
            answered.set()
            await release.wait()
            await call.hangup()

        async with client:
            ecall = await emu.place_call(context="office")
            await wait_for(answered)
            health = client.health()
            assert (health.active_calls, health.handlers_running) == (1, 1)
            assert health.ready
            async with anyio.create_task_group() as group:
                group.start_soon(client.drain, 10.0)
                await wait_until(lambda: client.health().draining)
                health = client.health()
                assert not health.ready
                assert health.state == "connected"
                release.set()
            await ecall.wait_ended(timeout=10)
            assert client.health().handlers_running == 0


def test_relaykit_never_imports_opentelemetry_by_itself() -> None:
    """Importing the client and observability, and making a client, loads no OpenTelemetry."""
    program = (
        "import sys\n"
        "import relay_anyio, relay_trio, relaykit.observability\n"
        "client = relay_anyio.RelayClient(project='p', token='t')\n"
        "assert client._dispatcher.telemetry is None\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('opentelemetry'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True, timeout=30)
