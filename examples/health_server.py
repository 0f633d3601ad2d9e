#!/usr/bin/env python3
"""A worker with a readiness probe: GET /ready answers 200 when ready, 503 otherwise.

The probe is served on the client's own event loop with asyncio streams (the
standard library only): every request reads a fresh client.health(), and a
handler that blocks the loop makes the probe slow too, which a probe should see.
"""

import asyncio
import json
import os
import signal

from relay_anyio import RelayClient

client = RelayClient(contexts=["office"])
REASONS = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}


@client.on_call
async def handle_call(call):
    await call.answer()
    play = await call.play_tts("Thanks for calling. Goodbye.")
    await play.wait()
    await call.hangup()


@client.on_connection_state
def show_change(change):
    print(f"connection: {type(change).__name__}", flush=True)


async def probe(reader, writer):
    try:
        request_line = await reader.readline()
        while (await reader.readline()).strip():
            pass  # the headers: not needed
        parts = request_line.split()
        if len(parts) >= 2 and parts[1] == b"/ready":
            health = client.health()
            status = 200 if health.ready else 503
            body = json.dumps(health.as_dict()).encode()
        else:
            status, body = 404, b'{"error": "not found"}'
        head = (
            f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
    finally:
        writer.close()


async def main():
    port = int(os.environ.get("HEALTH_PORT", "8080"))
    server = await asyncio.start_server(probe, "127.0.0.1", port)
    print(f"health on http://127.0.0.1:{server.sockets[0].getsockname()[1]}/ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server, client:
        await stop.wait()
        # Not ready while draining: the probe answers 503 until the process exits.
        finished = await client.drain(timeout=30.0)
        print(f"drained: {finished}", flush=True)


asyncio.run(main())
