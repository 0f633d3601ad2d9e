#!/usr/bin/env python3
"""Minimal RELAY example: answer and play a greeting."""

from relay_anyio import RelayClient

client = RelayClient(
    project="your-project-id",
    token="your-api-token",
    host="your-space.signalwire.com",
    contexts=["default"],
)


@client.on_call
async def handle_call(call):
    await call.answer()
    action = await call.play([{"type": "tts", "text": "Hello from RELAY!"}])
    await action.wait()
    await call.hangup()


client.run()
