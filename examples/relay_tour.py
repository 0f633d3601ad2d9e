#!/usr/bin/env python3
"""A tour of the Call API: listeners, typed results, detection, recording, errors."""

from relay_anyio import EVENT_CALL_CONNECT, EVENT_CALL_STATE, RelayClient, RelayError

client = RelayClient(contexts=["tour"])


@client.on_call
async def handle_call(call):
    # Synchronous listeners run inline: keep them short.
    call.on(EVENT_CALL_STATE, lambda event: print(f"state: {event.call_state}", flush=True))
    await call.answer()

    # Typed conveniences build the wire objects; results have typed accessors.
    detect = await call.detect_answering_machine(timeout=10.0)
    detected = await detect.wait(timeout=15.0)
    print(f"detected: {detected.result}", flush=True)

    menu = await call.prompt_tts(
        "Enter your account number, then press pound.",
        {"digits": {"max": 8, "terminators": "#", "digit_timeout": 3.0}},
    )
    collected = await menu.wait()
    if collected.type == "digit":
        print(f"account: {collected.digits}", flush=True)

    prompt = await call.play_tts("Tell us how we did after the tone.")
    await prompt.wait()
    feedback = await call.record(audio={"format": "wav", "end_silence_timeout": 2.0})
    recorded = await feedback.wait(timeout=60.0)
    print(f"feedback: {recorded.url} ({recorded.duration:.1f} s)", flush=True)

    # Non-2xx answers raise RelayError (except 404/410: the call is gone).
    try:
        await call.connect(
            [
                [
                    {
                        "type": "phone",
                        "params": {"to_number": "+15551001000", "from_number": "+15550000000"},
                    }
                ]
            ]
        )
        event = await call.wait_for(
            EVENT_CALL_CONNECT,
            lambda e: e.connect_state in ("connected", "failed"),
            timeout=30.0,
        )
        print(f"connect: {event.connect_state}", flush=True)
    except RelayError as e:
        print(f"could not connect: {e.code} {e.message}", flush=True)
    except TimeoutError:
        print("connect: no answer", flush=True)
    await call.hangup()


client.run()
