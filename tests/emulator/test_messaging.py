"""Messaging: messaging.send validation and state progression, inbound injection."""

from __future__ import annotations

import pytest

from relay_proto import rpc as _rpc
from relaykit.emulator import Emulator

from ._client import MiniClient

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(10)]


def _send(client: MiniClient, to: str = "+15552222222", **extra: object) -> dict[str, object]:
    assert client.protocol is not None
    return {
        "context": client.protocol,
        "to_number": to,
        "from_number": "+15551111111",
        "body": "hello",
        **extra,
    }


async def test_send_progresses_to_delivered(emu: Emulator, client: MiniClient) -> None:
    res = await client.result("messaging.send", _send(client, tags=["t1"]))
    assert res["code"] == "200"
    assert res["message"] == "Message accepted"
    mid = res["message_id"]
    await client.wait_event("messaging.state", message_id=mid, message_state="delivered")
    evs = client.events_of("messaging.state", message_id=mid)
    assert [e["message_state"] for e in evs] == ["queued", "initiated", "sent", "delivered"]
    assert evs[-1]["tags"] == ["t1"]
    assert evs[-1]["segments"] == 1
    assert evs[-1]["direction"] == "outbound"
    assert (await emu.wait_message_state(mid)).state == "delivered"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("undelivered", ["queued", "initiated", "sent", "undelivered"]),
        ("failed", ["queued", "initiated", "failed"]),
    ],
)
async def test_send_to_failing_number(
    emu: Emulator, client: MiniClient, state: str, expected: list[str]
) -> None:
    emu.fail_messages_to("+15559999999", state)
    mid = (await client.result("messaging.send", _send(client, to="+15559999999")))["message_id"]
    await client.wait_event("messaging.state", message_id=mid, message_state=state)
    evs = client.events_of("messaging.state", message_id=mid)
    assert [e["message_state"] for e in evs] == expected
    assert evs[-1]["reason"]


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"to_number": "555"}, "E.164"),
        ({"body": "", "media": []}, "body or media"),
    ],
)
async def test_send_validation_400(
    client: MiniClient, params: dict[str, object], text: str
) -> None:
    res = await client.result("messaging.send", _send(client, **params))
    assert res["code"] == "400"
    assert text in str(res["message"])


async def test_send_wrong_type_is_rpc_error(client: MiniClient) -> None:
    resp = await client.request("messaging.send", _send(client, media="http://x"))
    assert isinstance(resp, _rpc.ResponseError)
    assert resp.code == -32602


async def test_inbound_message_injection(emu: Emulator, client: MiniClient) -> None:
    mid = await emu.send_inbound_message(
        context="ivr",
        from_number="+15553334444",
        to_number="+15556667777",
        body="hi there",
        media=["https://img.test/a.png"],
    )
    ev = await client.wait_event("messaging.receive", message_id=mid)
    assert ev["message_state"] == "received"
    assert ev["direction"] == "inbound"
    assert ev["body"] == "hi there"
    assert ev["media"] == ["https://img.test/a.png"]
    with pytest.raises(ValueError, match="body or media"):
        await emu.send_inbound_message(context="ivr", from_number="+1", to_number="+2")
