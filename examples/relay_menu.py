import logging

from relay_anyio import RelayClient

# Shows "connected to ...; waiting for calls on contexts [...]" and each reconnect.
logging.basicConfig(level=logging.INFO)

client = RelayClient(
    project="your-project-id",
    token="your-api-token",
    host="your-space.signalwire.com",
    contexts=["default"],
)


@client.on_call
async def handle_call(call):
    await call.answer()

    # Play a menu and collect one digit
    action = await call.play_and_collect(
        media=[{"type": "tts", "text": "Press 1 for sales, 2 for support."}],
        collect={"digits": {"max": 1, "digit_timeout": 5.0}},
    )
    event = await action.wait()

    digit = event.params.get("result", {}).get("digits", "")

    if digit == "1":
        await call.play([{"type": "tts", "text": "Transferring to sales."}])
        await call.transfer(dest="+15551234567")
    elif digit == "2":
        await call.play([{"type": "tts", "text": "Transferring to support."}])
        await call.transfer(dest="+15559876543")
    else:
        await call.play([{"type": "tts", "text": "Goodbye."}])
        await call.hangup()


client.run()
