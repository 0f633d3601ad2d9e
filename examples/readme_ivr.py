from relay_anyio import RelayClient  # was: from signalwire.relay import RelayClient

client = RelayClient(contexts=["main-ivr"])  # credentials from SIGNALWIRE_* env vars


@client.on_call
async def handle_call(call):
    await call.answer()
    collect = await call.play_and_collect(
        media=[{"type": "tts", "text": "Press 1 for sales, 2 for support."}],
        collect={"digits": {"max": 1, "digit_timeout": 5.0}},
    )
    result = await collect.wait()
    if result.digits == "1":
        await call.connect([[{"type": "phone", "params": {"to_number": "+15551001000"}}]])
    else:
        await (await call.play([{"type": "tts", "text": "Goodbye."}])).wait()
        await call.hangup()


client.run()
