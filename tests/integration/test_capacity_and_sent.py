"""over_capacity= and the sent/not-sent flag of a lost request (issue 11 §5)."""

from __future__ import annotations

from typing import Any

import pytest

from relay_proto import ConnectionLostError, RelayTimeoutError

from .conftest import make_client

pytestmark = pytest.mark.timeout(30)


def test_over_capacity_is_checked(adapter: Any) -> None:
    with pytest.raises(ValueError, match="over_capacity"):
        adapter.RelayClient(project="p", token="t", url="ws://127.0.0.1:9", over_capacity="drop")
    client = adapter.RelayClient(
        project="p", token="t", url="ws://127.0.0.1:9", over_capacity="pass"
    )
    assert client._over_capacity == "pass"


def test_lost_requests_say_whether_they_were_sent() -> None:
    sent = ConnectionLostError(-1, "calling.play: connection lost", sent=True)
    queued = ConnectionLostError(-1, "calling.play: connection lost", sent=False)
    assert sent.sent is True
    assert "may have run" in str(sent)
    assert queued.sent is False
    assert "safe to retry" in str(queued)
    assert ConnectionLostError(-1, "closing").sent is None
    assert RelayTimeoutError(-1, "x", sent=True).sent is True
    assert isinstance(sent, ConnectionError)


@pytest.mark.anyio
async def test_calls_beyond_capacity_are_passed_back(adapter: Any) -> None:
    from .conftest import caller, emulator

    async with emulator() as emu:
        client = make_client(adapter, emu, max_active_calls=1, over_capacity="pass")
        held: list[Any] = []

        @client.on_call
        async def on_call(call: Any) -> None:
            held.append(call)
            await call.answer()
            await call.wait_for_ended()

        async with client:
            first = await emu.place_call(context="office", script=caller().hangup_after(30))
            await first.wait_state("answered", timeout=10)
            second = await emu.place_call(context="office", script=caller())
            await emu.wait_for_journal("calling.pass", timeout=10)
            record = await second.wait_ended(timeout=60)
            assert not record.answered
            await first.wait_ended(timeout=60)
        assert len(held) == 1


# ---------------------------------------------------------------------------
# Two workers on one context: the first takes one call at a time
# ---------------------------------------------------------------------------


class _Worker:
    """A client on ``office`` whose handler answers and holds each call, noting its id."""

    def __init__(self, adapter: Any, emu: Any, **kw: Any) -> None:
        self.client = make_client(adapter, emu, **kw)
        self.handled: list[str] = []
        self.client.on_call(self._on_call)

    async def _on_call(self, call: Any) -> None:
        self.handled.append(call.call_id)
        await call.answer()
        await call.wait_for_ended()


async def _wait_until(predicate: Any, limit: float = 10.0) -> None:
    import anyio

    with anyio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110
            await anyio.sleep(0.005)


@pytest.mark.anyio
async def test_pass_hands_calls_beyond_the_limit_to_the_other_worker(
    adapter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """over_capacity="pass": every call beyond the first worker's limit is passed back
    (calling.pass) and answered by the second worker; none lost, none handled twice."""
    monkeypatch.setenv("RELAY_MAX_CONNECTIONS", "2")  # two workers in one process
    from ._helpers import requests
    from .conftest import caller, emulator

    async with emulator() as emu:
        first = _Worker(adapter, emu, max_active_calls=1, over_capacity="pass")
        second = _Worker(adapter, emu)
        # Connected in this order: the emulator offers round robin, the first worker first.
        async with first.client, second.client:
            placed = []
            for _ in range(4):
                call = await emu.place_call(context="office", script=caller())
                await call.wait_state("answered", timeout=10)  # one at a time: a fixed order
                placed.append(call.call_id)
            handled = first.handled + second.handled
            assert sorted(handled) == sorted(placed)  # each call handled exactly once
            assert len(first.handled) == 1  # its limit
            assert first.handled == [placed[0]]
            passed = [p["call_id"] for p in requests(emu, "calling.pass")]
            assert passed  # round robin offered the first worker more than its one call
            assert len(passed) == len(set(passed))
            assert set(passed) <= set(second.handled)  # each passed call was taken by the other
            for call_id in placed:
                record = emu.call(call_id).record
                assert record.answered  # nothing dropped
                assert record.state == "answered"
            assert first.client.health().active_calls == 1


@pytest.mark.anyio
async def test_ignore_keeps_acknowledging_and_logs(
    adapter: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default ("ignore"): a call offered beyond the limit is ACKed and not taken
    (logged), never passed: the other worker does not get it."""
    import logging

    from ._helpers import requests
    from .conftest import caller, emulator

    monkeypatch.setenv("RELAY_MAX_CONNECTIONS", "2")  # two workers in one process
    caplog.set_level(logging.WARNING, logger="relay_proto")
    caplog.set_level(logging.WARNING, logger="relaykit")
    async with emulator() as emu:
        first = _Worker(adapter, emu, max_active_calls=1)
        second = _Worker(adapter, emu)
        async with first.client, second.client:
            held = await emu.place_call(context="office", script=caller())
            await held.wait_state("answered", timeout=10)
            to_second = await emu.place_call(context="office", script=caller())
            await to_second.wait_state("answered", timeout=10)
            ignored = await emu.place_call(context="office", script=caller())  # offered to first

            def logged() -> bool:
                return any(
                    f"ignoring inbound call {ignored.call_id}" in r.getMessage()
                    for r in caplog.records
                )

            await _wait_until(logged)
            # The offer was acknowledged (no redelivery), never passed, never answered.
            await _wait_until(lambda: _acked(emu, ignored.call_id))
            assert not requests(emu, "calling.pass")
            assert ignored.call_id not in first.handled + second.handled
            assert not ignored.record.answered
            assert first.handled == [held.call_id]
            assert second.handled == [to_second.call_id]


def _acked(emu: Any, call_id: str) -> bool:
    """The client answered the signalwire.event that offered *call_id*."""
    offers = {
        e.id
        for e in emu.journal("calling.call.receive", "out")
        if e.event_params.get("call_id") == call_id
    }
    acks = {e.id for e in emu.journal("signalwire.event", "in") if e.kind == "response"}
    return bool(offers) and offers <= acks
