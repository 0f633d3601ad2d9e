import logging

from relay_anyio import RelayClient

# Shows "connected to ...; waiting for calls on contexts [...]" and each reconnect.
logging.basicConfig(level=logging.INFO)

# Subscribe to specific contexts
client = RelayClient(
    project="your-project-id",
    token="your-api-token",
    host="your-space.signalwire.com",
    contexts=["support", "sales"],
)


@client.on_call
async def handle_call(call):
    await call.answer()

    # Or subscribe/unsubscribe dynamically
    # await client.receive(["billing"]) # Add a context
    # await client.unreceive(["sales"]) # Remove a context


client.run()
