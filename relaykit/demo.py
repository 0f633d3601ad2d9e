"""``make demo`` (``relaykit demo``): the seed IVR against the embedded emulator, traced.

Runs ``examples/relay_ivr.py`` (the complete IVR from the RELAY guide, with
only its import line changed) unmodified, from the copy shipped in the package
(``relaykit._demo_ivr``, so an installed wheel runs the demo too): the demo
starts a local emulator on ``ws://127.0.0.1:<random port>``, points the IVR at
it through ``SIGNALWIRE_RELAY_URL`` / ``SIGNALWIRE_PROJECT_ID`` /
``SIGNALWIRE_API_TOKEN``, imports it, and serves its client while three
scripted callers ring in:

1. presses 1 (sales: the IVR bridges the call with ``connect``),
2. presses 3 and leaves a message (the IVR records a voicemail),
3. presses nothing (the IVR says goodbye).

The IVR also records every whole call (``direction: both``, stopped before
hanging up).  Each call's trace, recordings included, is printed from the
emulator's record of it.  Exit status 0
when every call went as scripted, 1 otherwise.

    relaykit demo [--time-scale 0.02] [--wire] [--backend asyncio|trio]
    python -m relaykit.demo ...

It needs anyio (``pip install 'relaykit[anyio]'``), and trio for ``--backend trio``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import sys
from types import ModuleType
from typing import Any

from relaykit._cli import add_demo_arguments
from relaykit.emulator import Caller, CallRecord, Emulator

PROJECT = "demo-project"
TOKEN = "demo-token"
CONTEXT = "main-ivr"
#: The shipped copy of examples/relay_ivr.py.
IVR_MODULE = "relaykit._demo_ivr"

#: (title, far-end script); the checks are in _problems().
SCENARIOS: list[tuple[str, Caller]] = [
    ("caller presses 1 (sales)", Caller(ring_timeout=600).press("1")),
    (
        "caller presses 3 and leaves a message",
        Caller(ring_timeout=600).press("3").say("Hi, this is Ann, please call me back."),
    ),
    ("caller presses nothing", Caller(ring_timeout=600).silence()),
]


def _load_example(url: str) -> ModuleType:
    """Import the IVR (examples/relay_ivr.py as shipped), pointed at the emulator by
    environment: it builds its client when imported."""
    os.environ["SIGNALWIRE_RELAY_URL"] = url
    os.environ["SIGNALWIRE_PROJECT_ID"] = PROJECT
    os.environ["SIGNALWIRE_API_TOKEN"] = TOKEN
    sys.modules.pop(IVR_MODULE, None)  # a fresh client for each run
    return importlib.import_module(IVR_MODULE)


def _connect_targets(emu: Emulator, call_id: str) -> list[str]:
    targets = []
    for entry in emu.journal("calling.connect", "in"):
        if entry.kind == "request" and entry.data.get("call_id") == call_id:
            for serial in entry.data.get("devices", []):
                for device in serial:
                    targets.append(str(device.get("params", {}).get("to_number", "?")))
    return targets


def _record_directions(emu: Emulator, call_id: str) -> dict[str, str]:
    """control_id -> audio direction of each ``calling.record`` on the call."""
    directions = {}
    for entry in emu.journal("calling.record", "in"):
        data = entry.data
        if entry.kind == "request" and data.get("call_id") == call_id:
            audio = (data.get("record") or {}).get("audio") or {}
            directions[str(data.get("control_id"))] = str(audio.get("direction", "speak"))
    return directions


def _recording_kinds(emu: Emulator, record: CallRecord) -> list[str]:
    """What each of the call's recordings was: "call (both)", "voicemail (listen)"..."""
    directions = _record_directions(emu, record.call_id)
    kinds = []
    for rec in record.recordings:
        # The emulator names a recording <call_id>/<control_id>.<format>.
        control_id = str(rec.get("url", "")).rsplit("/", 1)[-1].split(".", 1)[0]
        direction = directions.get(control_id, "?")
        kinds.append(f"{'call' if direction == 'both' else 'voicemail'} ({direction})")
    return kinds


def _trace(
    index: int,
    title: str,
    record: CallRecord,
    targets: list[str],
    kinds: list[str],
    wire: bool,
) -> None:
    print(f"\nCall {index}: {title}  [{record.call_id}]")
    print(f"  answered: {'yes' if record.answered else 'no'}")
    for text in record.prompts:
        print(f'  played:   "{text}"')
    for item in record.inputs:
        kind = item.get("type", "?")
        if kind == "digit":
            print(f"  pressed:  {item.get('digits', '')}")
        elif kind == "speech":
            print(f'  said:     "{item.get("text", "")}"')
        else:
            print(f"  input:    {kind}")
    for target in targets:
        print(f"  connect:  -> {target}")
    for rec, kind in zip(record.recordings, kinds, strict=True):
        print(f"  recorded: {kind} {rec.get('url')} ({rec.get('duration', 0):.1f} s)")
    print(f"  ended:    {record.end_reason} (hung up by {record.hung_up_by})")
    if wire:
        for line in record.transcript:
            print(f"      {line}")


def _problems(index: int, record: CallRecord, targets: list[str], kinds: list[str]) -> list[str]:
    problems = []
    urls = [rec.get("url") for rec in record.recordings]
    if "call (both)" not in kinds or not all(urls):
        problems.append(f"expected a whole-call recording with a URL, got {kinds}")
    if not record.answered:
        problems.append("the call was not answered")
    if record.end_reason != "hangup" or record.hung_up_by != "app":
        problems.append(f"expected the IVR to hang up, got {record.end_reason}/{record.hung_up_by}")
    if index == 1 and targets != ["+15551001000"]:
        problems.append(f"expected a connect to +15551001000, got {targets}")
    if index == 2:
        if "Please leave your message after the beep." not in record.prompts:
            problems.append("the voicemail prompt was not played")
        if "voicemail (listen)" not in kinds:
            problems.append(f"expected a voicemail recording, got {kinds}")
    if index == 3 and "Invalid option. Goodbye." not in record.prompts:
        problems.append("the goodbye prompt was not played")
    if index != 1 and targets:
        problems.append(f"unexpected connect to {targets}")
    return problems


async def run_demo(time_scale: float, wire: bool, journal: str | None = None) -> int:
    """Run the demo; returns the process exit status.

    With *journal*, the session's frames are saved there as JSONL for
    ``relaykit trace`` (credentials scrubbed).
    """
    async with Emulator(project=PROJECT, token=TOKEN, time_scale=time_scale) as emu:
        print(f"relaykit demo: emulator on {emu.url} (time scale {time_scale})")
        example = _load_example(emu.url)
        client: Any = example.client
        print(f"relaykit demo: running examples/relay_ivr.py (contexts {client.contexts})")
        failures = 0
        async with client:
            for index, (title, script) in enumerate(SCENARIOS, start=1):
                handle = await emu.place_call(context=CONTEXT, script=script)
                record = await handle.wait_ended(timeout=60)
                targets = _connect_targets(emu, record.call_id)
                kinds = _recording_kinds(emu, record)
                _trace(index, title, record, targets, kinds, wire)
                problems = _problems(index, record, targets, kinds)
                for problem in problems:
                    print(f"  PROBLEM:  {problem}")
                failures += bool(problems)
            # Let the IVR's handlers finish their last requests before closing.
            await client.drain(10)
        if journal is not None:
            count = emu.save_journal(journal)
            print(f"relaykit demo: {count} frames saved to {journal} (relaykit trace {journal})")
        print()
        if failures:
            print(f"relaykit demo: {failures} call(s) did not go as scripted")
            return 1
        print("relaykit demo: all 3 calls went as scripted")
        return 0


def run(args: argparse.Namespace) -> int:
    """Run the demo with parsed *args* (``add_demo_arguments``); returns the exit status."""
    for module, needed in (("anyio", True), ("trio", args.backend == "trio")):
        if needed and importlib.util.find_spec(module) is None:
            print(
                f"relaykit demo: needs {module}, which is not installed: "
                f"pip install 'relaykit[{module}]'",
                file=sys.stderr,
            )
            return 2
    import anyio

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    result: int = anyio.run(
        run_demo, args.time_scale, args.wire, args.journal, backend=args.backend
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m relaykit.demo``."""
    parser = argparse.ArgumentParser(
        prog="python -m relaykit.demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_demo_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
