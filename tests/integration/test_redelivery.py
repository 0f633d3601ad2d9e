"""Issue 11 §5: the same inbound event delivered twice runs the handler once, on every loop.

The core's windows (``relay_proto._recent``) are unit-tested in tests/core; here
the whole path runs: a real delivery from the emulator, then the very same
frame (same event id) and a copy under a new event id (same message or call
id) injected raw, as a server redelivering after a lost ACK would send them.
Every copy is ACKed; the application sees one.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from relaykit.emulator import Emulator

from .conftest import caller, emulator, make_client

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


def _delivered(emu: Emulator, event_type: str) -> dict[str, Any]:
    (entry,) = [e for e in emu.journal("signalwire.event", "out") if e.event_type == event_type]
    return {"jsonrpc": "2.0", "id": entry.id, "method": "signalwire.event", "params": entry.data}


def _acks(emu: Emulator, ids: set[Any]) -> int:
    # ACKs of raw-injected frames answer no request the emulator knows: no method.
    return sum(1 for e in emu.journal(direction="in") if e.kind == "response" and e.id in ids)


async def _settle(emu: Emulator, ids: set[Any], copies: int) -> None:
    """Until the client has ACKed *copies* frames among *ids*: it has read them all."""
    with anyio.fail_after(10):
        while _acks(emu, ids) < copies:  # noqa: ASYNC110
            await anyio.sleep(0.005)


async def test_a_redelivered_message_reaches_the_handler_once(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu, ["office"])
        got: list[Any] = []

        @client.on_message
        async def handle(message: Any) -> None:
            got.append(message.message_id)

        async with client:
            message_id = await emu.send_inbound_message(
                context="office", from_number="+15551110000", to_number="+15552220000", body="hi"
            )
            frame = _delivered(emu, "messaging.receive")
            await emu.inject_raw(json.dumps(frame))  # the same event id again
            renamed = dict(frame, id="redelivered-1")  # a new event id, the same message
            await emu.inject_raw(json.dumps(renamed))
            await _settle(emu, {frame["id"], "redelivered-1"}, 3)
            # A later message, handled: any (wrong) second dispatch came before it.
            sentinel = await emu.send_inbound_message(
                context="office", from_number="+15551110000", to_number="+15552220000", body="2"
            )
            with anyio.fail_after(5):
                while sentinel not in got:  # noqa: ASYNC110
                    await anyio.sleep(0.005)
        assert got == [message_id, sentinel]


async def test_a_redelivered_call_offer_runs_on_call_once(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu, ["office"])
        offers: list[str] = []
        done = anyio.Event()

        @client.on_call
        async def on_call(call: Any) -> None:
            offers.append(call.call_id)
            await call.answer()
            await done.wait()
            await call.hangup()

        async with client:
            placed = await emu.place_call("office", caller().hangup_after(60))
            await placed.wait_state("answered", timeout=10)
            frame = _delivered(emu, "calling.call.receive")
            await emu.inject_raw(json.dumps(frame))
            await emu.inject_raw(json.dumps(dict(frame, id="redelivered-offer")))
            await _settle(emu, {frame["id"], "redelivered-offer"}, 3)
            # A later call, offered and handled: any (wrong) second run came before it.
            later = await emu.place_call("office", caller().hangup_after(60))
            await later.wait_state("answered", timeout=10)
            done.set()
            await placed.wait_ended(timeout=10)
            await later.wait_ended(timeout=10)
        assert offers == [placed.call_id, later.call_id]
        assert len(emu.journal("calling.answer", "in")) == 2
