#!/usr/bin/env python3
"""Send an SMS with RELAY and wait for delivery."""

import asyncio

from relay_anyio import RelayClient

client = RelayClient(contexts=["default"])


async def main():
    async with client:
        message = await client.send_message(
            to_number="+15559876543",
            from_number="+15551234567",
            body="Hello from SignalWire RELAY!",
        )
        print(f"Message ID: {message.message_id}")

        # Wait for delivery confirmation
        await message.wait(timeout=30.0)
        print(f"Final state: {message.state}")  # delivered, failed, etc.


asyncio.run(main())
