"""The emulator without sockets: the client core and the server core joined in memory.

``relaykit.emulator.EmulatorServer`` is the whole emulator without I/O, and
``relay_proto.RelayConnection`` is the whole client without I/O.  Here they
exchange bytes directly, on a fake clock that jumps to the next deadline, so a
complete call (connect, answer, menu, digit, hangup) takes microseconds and gives
the same frames on every run: a good base for deterministic tests and fuzzing.

    python examples/emulator_sansio.py
"""

from relay_proto import (
    ActionCompleted,
    CallReceived,
    CollectResultReceived,
    RelayConnection,
    SessionAuthenticated,
)
from relaykit.emulator import Caller, EmulatorServer

server = EmulatorServer(project="p", token="t")  # real durations, on the fake clock
client = RelayConnection("emulator.test")
client.open_session(project="p", token="t", contexts=["ivr"])
now = 0.0  # the fake clock, in seconds
conn_id = server.connection_made(now)
client.connection_made(now)


def pump():
    """Move bytes both ways until both sides are quiet; return the client's events."""
    events = []
    while True:
        up = client.data_to_send()  # handshake, requests, ACKs
        if up:
            server.receive_data(conn_id, up, now)
        down = server.data_to_send(conn_id)  # responses, events, pings
        if down:
            client.receive_data(down, now)
        while (event := client.next_event()) is not None:
            events.append(event)
        if not up and not down:
            return events


def handle(event):
    """The application: answer, play a menu, collect a digit, hang up."""
    if isinstance(event, SessionAuthenticated):
        print(f"authenticated as {event.identity}")
    elif isinstance(event, CallReceived):
        print(f"call {event.call_id} on context {event.context}")
        ids = {"node_id": event.node_id, "call_id": event.call_id}
        client.send_request("calling.answer", ids, now)
        menu = {
            "control_id": "menu",
            "play": [{"type": "tts", "params": {"text": "Press 1 for sales."}}],
            "collect": {"digits": {"max": 1, "digit_timeout": 5.0}, "initial_timeout": 5.0},
        }
        client.send_request("calling.play_and_collect", {**ids, **menu}, now)
    elif isinstance(event, ActionCompleted) and event.control_id == "menu":
        if isinstance(event.event, CollectResultReceived):
            print(f"collect: {event.event.type} {event.event.digits!r}")
        info = client.calls[event.call_id]
        client.send_request("calling.end", {"node_id": info.node_id, "call_id": info.call_id}, now)


call = None
for _ in range(10_000):
    events = pump()
    for event in events:
        handle(event)  # may queue requests: pump again before time moves on
    if events:
        continue
    if call is None and client.is_ready:
        call = server.place_call("ivr", Caller().press("1"), now)
        continue
    if call is not None and call.record.ended:
        break
    # Both sides are quiet: jump the clock to the earliest deadline of either side.
    now = min(t for t in (server.get_timer(), client.get_timer()) if t is not None)
    server.handle_timer(now)
    client.handle_timer(now)
else:
    raise SystemExit("the call did not end")

record = call.record
print(f"prompts: {record.prompts}")
print(f"inputs: {record.inputs}")
print(f"ended: {record.end_reason} (hung up by {record.hung_up_by}) at t={now:.1f} s")
