"""Parent-side plumbing: start a client process and follow its control channel."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from ._common import CONTEXT, PROJECT, TOKEN, TlsMaterial
from ._server import BenchServer, ServerFactory

__all__ = [
    "REPO_ROOT",
    "ClientError",
    "ClientProcess",
    "Probe",
    "probing",
    "start_client",
    "start_session",
]

#: Wraps a benchmark's measured part, given the client's pid (the profiler uses it).
Probe = Callable[[int], AbstractAsyncContextManager[Any]]

REPO_ROOT = Path(__file__).resolve().parent.parent


class ClientError(RuntimeError):
    """A client process failed, exited early or did not answer in time."""


class ClientProcess:
    """A running client (see :mod:`benchmarks._child`) and its JSON-line channel.

    Attributes:
        name: The client's name (``relaykit-asyncio``, ``official``, ...).
        pid: Its process id, for ``/proc`` readings.
    """

    def __init__(self, name: str, process: Process, stderr_path: str) -> None:
        self.name = name
        self.process = process
        self.pid = process.pid
        assert process.stdout is not None
        self._stdout = BufferedByteReceiveStream(process.stdout)
        self._stderr_path = stderr_path

    def stderr_tail(self, limit: int = 4000) -> str:
        """The last *limit* characters the client wrote to stderr."""
        try:
            return Path(self._stderr_path).read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    async def expect(self, key: str, within: float) -> Any:
        """Wait for a control line carrying *key* and return its value.

        Raises:
            ClientError: the client reported an error, exited, or timed out.
        """
        with anyio.move_on_after(within) as scope:
            while True:
                try:
                    line = await self._stdout.receive_until(b"\n", 64 * 1024 * 1024)
                except (anyio.EndOfStream, anyio.IncompleteRead):
                    raise ClientError(
                        f"{self.name} exited before {key!r}:\n{self.stderr_tail()}"
                    ) from None
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue  # stray output from a library; the channel is JSON only
                if "error" in msg:
                    raise ClientError(f"{self.name} failed: {msg['error']}\n{msg.get('trace', '')}")
                if key in msg:
                    return msg[key]
        assert scope.cancelled_caught
        raise ClientError(f"{self.name}: no {key!r} within {within}s\n{self.stderr_tail()}")

    async def stop(self) -> None:
        """Terminate the client (SIGTERM, then SIGKILL after 5 s) and reap it."""
        if self.process.returncode is None:
            with suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            with anyio.move_on_after(5):
                await self.process.wait()
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
        await self.process.aclose()


@asynccontextmanager
async def start_client(
    name: str,
    scenario: str,
    *,
    host: str,
    ca_file: str,
    count: int,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[ClientProcess]:
    """Start client *name* on *scenario* against ``wss://host`` and wait until it is ready.

    Args:
        name: One of :data:`benchmarks._common.CLIENTS` (or ``bare-wsproto``).
        scenario: ``calls`` or ``roundtrip``.
        host: ``127.0.0.1:<port>`` of the emulator.
        ca_file: The CA the emulator's certificate is signed by.
        count: Calls to hold (``calls``) or plays to time (``roundtrip``).
        extra_env: Added to the client's environment (diagnostic switches).
    """
    env = dict(os.environ)
    env["SIGNALWIRE_RELAY_CA_FILE"] = ca_file
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["RELAY_MAX_ACTIVE_CALLS"] = str(max(1000, count))
    env.update(extra_env or {})
    cmd = [
        sys.executable,
        "-m",
        "benchmarks._child",
        "--client",
        name,
        "--scenario",
        scenario,
        "--host",
        host,
        "--project",
        PROJECT,
        "--token",
        TOKEN,
        "--context",
        CONTEXT,
        "--count",
        str(count),
    ]
    fd, stderr_path = tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")
    try:
        process = await anyio.open_process(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=fd,
            cwd=str(REPO_ROOT),
            env=env,
        )
    finally:
        os.close(fd)
    client = ClientProcess(name, process, stderr_path)
    try:
        await client.expect("ready", within=30)
        yield client
    finally:
        with anyio.CancelScope(shield=True):
            await client.stop()
        with suppress(OSError):
            os.unlink(stderr_path)


@asynccontextmanager
async def start_session(
    client: str,
    scenario: str,
    tls: TlsMaterial,
    server: ServerFactory,
    *,
    count: int,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[tuple[BenchServer, ClientProcess]]:
    """An emulator and one client process against it, ready: what every ``measure`` runs.

    Each benchmark's ``measure(client, tls, *, ..., server=open_emulator)`` passes
    its arguments on:

    Args:
        client: Which client to start (see :data:`benchmarks._common.CLIENTS`).
        scenario: The client's scenario (:func:`start_client`).
        tls: The CA and server certificate to serve and trust.
        server: Opens the emulator (tests and tools may substitute it).
        count: As :func:`start_client`.
        extra_env: As :func:`start_client`.
    """
    async with (
        server(tls) as emu,
        start_client(
            client, scenario, host=emu.host, ca_file=tls.ca_file, count=count, extra_env=extra_env
        ) as proc,
    ):
        yield emu, proc


def probing(probe: Probe | None, pid: int) -> AbstractAsyncContextManager[Any]:
    """*probe* around the measured part of client *pid*, or nothing without one."""
    return probe(pid) if probe else nullcontext()
