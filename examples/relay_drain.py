#!/usr/bin/env python3
"""Serve calls inside your own event loop and drain cleanly on SIGTERM (deploys)."""

import signal

import anyio

from relay_anyio import RelayClient

client = RelayClient(contexts=["office"])


@client.on_call
async def handle_call(call):
    await call.answer()
    play = await call.play_tts("Thanks for calling. Goodbye.")
    await play.wait()
    await call.hangup()


async def main():
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with client:
            print("serving; send SIGTERM to drain", flush=True)
            async for _ in signals:
                break
            finished = await client.drain(timeout=30.0)
            print(f"drained: {finished}", flush=True)


anyio.run(main)
