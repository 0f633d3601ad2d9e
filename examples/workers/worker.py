#!/usr/bin/env python3
"""One worker of a fleet: run several (see supervisor.py), all on the same contexts.

Configured by the environment: SIGNALWIRE_PROJECT_ID, SIGNALWIRE_API_TOKEN and
SIGNALWIRE_SPACE (or SIGNALWIRE_RELAY_URL for the local emulator), plus
WORKER_CONTEXTS (comma-separated, default "support"), WORKER_SHUTDOWN_GRACE
(seconds SIGTERM lets running calls finish, default 30) and WORKER_LOG_LEVEL.
Logs go to stdout, one line each, with the worker's pid.
"""

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

client = RelayClient(
    contexts=os.environ.get("WORKER_CONTEXTS", "support").split(","),
    shutdown_grace=float(os.environ.get("WORKER_SHUTDOWN_GRACE", "30")),
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


client.run()
