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
