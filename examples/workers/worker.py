#!/usr/bin/env python3
"""One worker of a fleet: run several (see supervisor.py), all on the same contexts.

Configured by the environment: SIGNALWIRE_PROJECT_ID, SIGNALWIRE_API_TOKEN and
SIGNALWIRE_SPACE (or SIGNALWIRE_RELAY_URL for the local emulator), plus
WORKER_CONTEXTS (comma-separated, default "support"), WORKER_SHUTDOWN_GRACE
(seconds SIGTERM lets running calls finish, default 30), RELAY_MAX_ACTIVE_CALLS
(calls at once, default 1000), WORKER_OVER_CAPACITY ("pass": a call beyond that
goes back to the platform for another worker; "ignore") and WORKER_LOG_LEVEL.
With WORKER_HEALTH_PORT, it also answers GET /ready (200 when client.health()
is ready, else 503) and GET /live (200 while the event loop answers) on
WORKER_HEALTH_HOST (default 127.0.0.1; 0.0.0.0 in a container).
Logs go to stdout, one line each, with the worker's pid.
"""

import asyncio
import json
import logging
import os
import sys

from relay_anyio import RelayClient

logging.basicConfig(
    stream=sys.stdout,
    level=os.environ.get("WORKER_LOG_LEVEL", "INFO"),
    format="%(asctime)s pid=%(process)d %(name)s %(levelname)s %(message)s",
)
log = logging.getLogger("worker")
PID = os.getpid()

MENU = "Press 1 for our opening hours, 2 to hold for an agent."
HOURS = "We are open from nine to five. Goodbye."
HOLD = "All our agents are busy. Please hold."
HOLD_LIMIT = 600.0  # seconds a caller may hold before we hang up
REASONS = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}

client = RelayClient(
    contexts=os.environ.get("WORKER_CONTEXTS", "support").split(","),
    shutdown_grace=float(os.environ.get("WORKER_SHUTDOWN_GRACE", "30")),
    over_capacity=os.environ.get("WORKER_OVER_CAPACITY", "pass"),
)


@client.on_call
async def handle_call(call):
    log.info("handled %s pid=%d context=%s", call.call_id, PID, call.context)
    await call.answer()
    menu = await call.prompt_tts(MENU, {"digits": {"max": 1, "digit_timeout": 5.0}})
    choice = await menu.wait()
    if choice.type == "digit" and choice.digits == "2":
        hold = await call.play_tts(HOLD)
        await hold.wait()
        try:
            await call.wait_for_ended(timeout=HOLD_LIMIT)  # until the caller hangs up
            outcome = "caller hung up"
        except TimeoutError:
            await call.hangup()
            outcome = "hold limit"
    else:
        hours = await call.play_tts(HOURS)
        await hours.wait()
        await call.hangup()
        outcome = "hours"
    log.info("finished %s pid=%d (%s)", call.call_id, PID, outcome)


async def answer_probe(reader, writer):
    try:
        request = await reader.readline()
        while (await reader.readline()).strip():
            pass  # the headers
        parts = request.split()
        path = parts[1] if len(parts) > 1 else b""
        health = client.health()
        if path == b"/ready":
            status, body = (200 if health.ready else 503), health.as_dict()
        elif path == b"/live":
            status, body = 200, {"state": health.state}  # the loop answered
        else:
            status, body = 404, {"error": "not found"}
        data = json.dumps(body).encode()
        writer.write(
            f"HTTP/1.1 {status} {REASONS[status]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"Connection: close\r\n\r\n".encode()
            + data
        )
        await writer.drain()
    finally:
        writer.close()


probe = []  # the probe's server, once started


@client.on_connection_state
async def start_probe(change):
    """At the first change (the first connection attempt), on the client's own loop."""
    port = os.environ.get("WORKER_HEALTH_PORT")
    if port is None or probe:
        return
    probe.append(None)  # taken: a second change must not start another server
    host = os.environ.get("WORKER_HEALTH_HOST", "127.0.0.1")
    probe[0] = server = await asyncio.start_server(answer_probe, host, int(port))
    address = server.sockets[0].getsockname()
    log.info("health probe on http://%s:%d/ready pid=%d", address[0], address[1], PID)


client.run()
