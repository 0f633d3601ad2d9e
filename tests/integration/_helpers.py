"""Shared helpers for the integration tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from relaykit.emulator import Caller, EmulatedCall, Emulator

from .conftest import caller, make_client


async def run_inbound(
    adapter: Any,
    emu: Emulator,
    handler: Callable[[Any], Awaitable[Any]],
    *,
    script: Caller | None = None,
    context: str = "office",
    limit: float = 10.0,
    **client_kw: Any,
) -> tuple[EmulatedCall, Any]:
    """Place one inbound call, run *handler(call)* on it, re-raise what it raised.

    Returns:
        The emulator's call handle and whatever the handler returned.
    """
    client = make_client(adapter, emu, [context], **client_kw)
    done = anyio.Event()
    outcome: dict[str, Any] = {}

    @client.on_call
    async def on_call(call: Any) -> None:
        try:
            outcome["value"] = await handler(call)
        except BaseException as exc:
            outcome["error"] = exc
            raise
        finally:
            done.set()

    async with client:
        ecall = await emu.place_call(context=context, script=script or caller())
        with anyio.fail_after(limit):
            await done.wait()
    if "error" in outcome:
        raise outcome["error"]
    return ecall, outcome.get("value")


def last_request(emu: Emulator, method: str) -> dict[str, Any]:
    """The params of the most recent client request *method* in the journal."""
    entries = [e for e in emu.journal(method, "in") if e.kind == "request"]
    assert entries, f"no {method} request in the journal"
    return entries[-1].data


def requests(emu: Emulator, method: str) -> list[dict[str, Any]]:
    """The params of every client request *method*, oldest first."""
    return [e.data for e in emu.journal(method, "in") if e.kind == "request"]
