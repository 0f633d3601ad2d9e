"""SMS/MMS: send -> delivered / undelivered / failed, inbound messages, client-side checks."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from ._helpers import requests
from .conftest import emulator, make_client

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


@pytest.mark.loopback
async def test_send_delivered(adapter: Any) -> None:
    async with emulator() as emu:
        completed: list[Any] = []
        async with make_client(adapter, emu) as client:
            message = await client.send_message(
                to_number="+15559876543",
                from_number="+15551234567",
                body="Hello from RELAY!",
                media=["https://example.com/photo.jpg"],
                tags=["t1"],
                region="us",
                on_completed=completed.append,
            )
            assert isinstance(message, adapter.Message)
            assert message.message_id
            assert message.direction == "outbound"
            result = await message.wait(timeout=5)
            assert message.state == "delivered"
            assert message.is_done
            assert message.result is result
            assert isinstance(result, adapter.MessageStateEvent)
            sent = requests(emu, "messaging.send")[-1]
            assert sent["context"] == client.relay_protocol  # state events come back to us
            assert sent["body"] == "Hello from RELAY!"
            assert sent["media"] == ["https://example.com/photo.jpg"]
            assert sent["tags"] == ["t1"]
            assert sent["region"] == "us"
        assert completed == [result]


@pytest.mark.parametrize("state", ["undelivered", "failed"])
async def test_send_not_delivered(adapter: Any, state: str) -> None:
    async with emulator() as emu:
        emu.fail_messages_to("+15550000404", state)
        async with make_client(adapter, emu) as client:
            message = await client.send_message(
                to_number="+15550000404", from_number="+15551234567", body="hi"
            )
            result = await message.wait(timeout=5)
            assert message.state == state
            assert result.message_state == state


async def test_send_needs_body_or_media(adapter: Any) -> None:
    async with emulator() as emu, make_client(adapter, emu) as client:
        with pytest.raises(ValueError, match="body or media"):
            await client.send_message(to_number="+15550000001", from_number="+15550000002")
        assert not requests(emu, "messaging.send")


async def test_server_rejection_raises(adapter: Any) -> None:
    async with emulator() as emu:
        emu.fail_next("messaging.send", "400", "Invalid number")
        async with make_client(adapter, emu) as client:
            with pytest.raises(adapter.RelayError) as info:
                await client.send_message(
                    to_number="+15550000001", from_number="+15550000002", body="x"
                )
            assert info.value.code == 400


@pytest.mark.loopback
async def test_inbound_message(adapter: Any) -> None:
    async with emulator() as emu:
        client = make_client(adapter, emu, ["office"])
        got: list[Any] = []
        done = anyio.Event()

        @client.on_message
        async def first(message: Any) -> None:
            raise AssertionError("replaced handler must not run")

        @client.on_message
        async def handle(message: Any) -> None:
            got.append(message)
            done.set()

        async with client:
            message_id = await emu.send_inbound_message(
                context="office",
                from_number="+15551110000",
                to_number="+15552220000",
                body="hi there",
                media=["https://example.com/a.png"],
            )
            with anyio.fail_after(5):
                await done.wait()
        (message,) = got
        assert message.message_id == message_id
        assert (message.from_number, message.to_number) == ("+15551110000", "+15552220000")
        assert message.body == "hi there"
        assert message.media == ["https://example.com/a.png"]
        assert message.direction == "inbound"
        assert message.state == "received"
        assert message.context == "office"


async def test_states_released_with_the_send_result_reach_the_message(adapter: Any) -> None:
    """The core releases early states right after the result, in one dispatch run.

    The awaiting ``send_message`` task has not resumed by then, so dispatch
    itself must bind the message_id (no api-side buffer).
    """
    from relay_proto import MessageCompleted, MessageStateChanged, ResponseReceived

    async with emulator() as emu:
        client = make_client(adapter, emu)
        message = adapter.Message(client=client, direction="outbound", state="queued")
        client._dispatcher.message_sends["r-1"] = message
        params = {"message_id": "m-1", "message_state": "delivered", "segments": 2}
        state = MessageStateChanged(event_type="messaging.state", params=params)
        seen: list[Any] = []
        message.on(seen.append)
        result = {"code": "200", "message_id": "m-1"}
        dispatch = client._dispatcher.dispatch
        dispatch(ResponseReceived(request_id="r-1", method="messaging.send", result=result))
        dispatch(state)
        assert (message.message_id, message.state, message.segments) == ("m-1", "delivered", 2)
        assert seen == [state]
        assert not message.is_done  # completion is the core's call
        dispatch(MessageCompleted(message_id="m-1", event=state, reason="delivered"))
        assert message.result is state
        assert await message.wait(timeout=0.1) is state
        # States of messages sent by someone else are ignored.
        other = MessageStateChanged(event_type="messaging.state", params={"message_id": "x"})
        dispatch(other)
        assert client._dispatcher.messages == {}
        assert client._dispatcher.message_sends == {}
