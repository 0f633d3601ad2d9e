"""Runtime conformance: relay_anyio's two runtimes (asyncio-native, portable anyio) and
relay_trio's behave alike, on the same tests (see the ``runtime`` fixture in conftest).

The object model relies on exactly these behaviours (see relaykit/client/_runtime.py).
"""

from __future__ import annotations

import contextvars
import math
import os
import signal
import ssl
import sys
from typing import Any

import anyio
import anyio.abc
import pytest
from anyio import wait_all_tasks_blocked

from relay_anyio import AnyioRuntime
from relay_trio import TrioRuntime
from relaykit.client import TransportClosed

from ._servers import echo_server
from .conftest import FakeCore, TLSFiles, receive, send

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(10)]


async def _receive_exactly(stream: Any, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = await receive(stream)
        assert chunk, "unexpected EOF"
        data += chunk
    return data


async def _note_when_set(event: Any, woken: list[str], name: str) -> None:
    await event.wait()  # an awaitable, not necessarily a coroutine
    woken.append(name)


async def test_event(runtime: Any) -> None:
    event = runtime.create_event()
    assert not event.is_set()
    woken: list[str] = []
    async with runtime.open_task_group() as tg:
        tg.start_soon(_note_when_set, event, woken, "waiter")
        await wait_all_tasks_blocked()
        assert woken == []
        event.set()
    assert woken == ["waiter"]
    assert event.is_set()
    await event.wait()  # already set: returns at once


async def test_event_cancelling_one_waiter_leaves_the_others(runtime: Any) -> None:
    event = runtime.create_event()
    woken: list[str] = []
    async with runtime.open_task_group() as outer:
        outer.start_soon(_note_when_set, event, woken, "a")
        async with runtime.open_task_group() as inner:
            inner.start_soon(_note_when_set, event, woken, "cancelled")
            outer.start_soon(_note_when_set, event, woken, "b")
            await wait_all_tasks_blocked()
            inner.cancel_scope.cancel()
        assert inner.cancel_scope.cancelled_caught or inner.cancel_scope.cancel_called
        await wait_all_tasks_blocked()
        assert woken == []
        event.set()
        event.set()  # idempotent
    assert sorted(woken) == ["a", "b"]
    # A wait timed out by a deadline scope doesn't spoil the event either.
    late = runtime.create_event()
    with runtime.move_on_at(runtime.current_time() + 0.01) as scope:
        await late.wait()
    assert scope.cancelled_caught
    late.set()
    await late.wait()


async def test_event_after_many_timed_out_waits(runtime: Any) -> None:
    # A call's ended event sees wait_for_ended(timeout=...) in a loop: every
    # timed-out wait must leave the event working, with live waiters kept.
    event = runtime.create_event()
    woken: list[str] = []
    async with runtime.open_task_group() as tg:
        tg.start_soon(_note_when_set, event, woken, "early")
        for _ in range(20):
            with runtime.move_on_at(runtime.current_time() + 0.001) as scope:
                await event.wait()
            assert scope.cancelled_caught
        tg.start_soon(_note_when_set, event, woken, "late")
        await wait_all_tasks_blocked()
        assert woken == []
        event.set()
    assert sorted(woken) == ["early", "late"]


async def test_lock_is_fifo(runtime: Any) -> None:
    lock = runtime.create_lock()
    order: list[int] = []

    async def take(i: int) -> None:
        async with lock:
            order.append(i)
            await runtime.checkpoint()

    async with runtime.open_task_group() as tg, lock:
        for i in range(6):
            tg.start_soon(take, i, name=f"taker-{i}")
            # Queue the waiters one at a time so the arrival order is known.
            await wait_all_tasks_blocked()
    assert order == list(range(6))


async def test_lock_excludes(runtime: Any) -> None:
    lock = runtime.create_lock()
    inside = 0
    peak = 0

    async def critical() -> None:
        nonlocal inside, peak
        async with lock:
            inside += 1
            peak = max(peak, inside)
            await runtime.checkpoint()
            inside -= 1

    async with runtime.open_task_group() as tg:
        for _ in range(5):
            tg.start_soon(critical)
    assert peak == 1


async def test_move_on_at_deadline(runtime: Any) -> None:
    deadline = runtime.current_time() + 0.05
    with runtime.move_on_at(deadline) as scope:
        await anyio.sleep_forever()
    assert scope.cancelled_caught
    assert runtime.current_time() >= deadline


async def test_move_on_at_past_deadline_cancels_at_first_checkpoint(runtime: Any) -> None:
    reached = False
    with runtime.move_on_at(runtime.current_time() - 1) as scope:
        await runtime.checkpoint()
        reached = True
    assert scope.cancelled_caught
    assert not reached


async def test_move_on_at_infinite_deadline_and_reschedule(runtime: Any) -> None:
    with runtime.move_on_at(math.inf) as scope:
        assert scope.deadline == math.inf
        await runtime.checkpoint()
    assert not scope.cancelled_caught
    assert not scope.cancel_called

    # The driver moves a running scope's deadline when the core's timer changes.
    with runtime.move_on_at(math.inf) as scope:
        scope.deadline = runtime.current_time() + 0.01
        await anyio.sleep_forever()
    assert scope.cancelled_caught


async def test_shielded_move_on_at(runtime: Any) -> None:
    ran_shielded = False
    with runtime.move_on_at(math.inf) as outer:
        outer.cancel()
        with runtime.move_on_at(runtime.current_time() + 5, shield=True) as shielded:
            await runtime.checkpoint()  # the outer cancellation does not reach here
            ran_shielded = True
        # ...but the shielded scope's own deadline still applies.
        with runtime.move_on_at(runtime.current_time() + 0.01, shield=True) as bounded:
            await anyio.sleep_forever()
        await runtime.checkpoint()  # back outside: cancelled now
        pytest.fail("the outer scope should have cancelled this checkpoint")
    assert ran_shielded
    assert not shielded.cancelled_caught
    assert bounded.cancelled_caught
    assert outer.cancelled_caught


async def test_cancel_and_cancelled_exc_class(runtime: Any) -> None:
    seen: list[type[BaseException]] = []
    with runtime.move_on_at(math.inf) as scope:
        scope.cancel()
        assert scope.cancel_called
        try:
            await runtime.checkpoint()
        except runtime.cancelled_exc_class() as exc:
            seen.append(type(exc))
            raise
    assert scope.cancelled_caught
    assert len(seen) == 1
    assert issubclass(seen[0], runtime.cancelled_exc_class())


async def test_task_group_runs_children_with_args(runtime: Any) -> None:
    results: list[tuple[str, int]] = []

    async def child(label: str, value: int) -> None:
        await runtime.checkpoint()
        results.append((label, value))

    async with runtime.open_task_group() as tg:
        tg.start_soon(child, "a", 1)
        tg.start_soon(child, "b", 2, name="child-b")
    assert sorted(results) == [("a", 1), ("b", 2)]


async def test_task_group_cancel_scope_stops_children(runtime: Any) -> None:
    started = runtime.create_event()
    finished = False

    async def sleeper() -> None:
        nonlocal finished
        started.set()
        await anyio.sleep_forever()
        finished = True

    async with runtime.open_task_group() as tg:
        tg.start_soon(sleeper)
        await started.wait()
        tg.cancel_scope.cancel()
    assert not finished
    assert tg.cancel_scope.cancel_called


async def test_task_group_propagates_child_error(runtime: Any) -> None:
    async def boom() -> None:
        raise ValueError("boom")

    with pytest.raises(BaseException) as info:  # noqa: PT011 - a group on both libraries
        async with runtime.open_task_group() as tg:
            tg.start_soon(boom)
    error = info.value
    while hasattr(error, "exceptions"):  # unwrap (Base)ExceptionGroup, also on 3.10
        error = error.exceptions[0]
    assert isinstance(error, ValueError)


def _innermost(error: BaseException) -> BaseException:
    while hasattr(error, "exceptions"):  # unwrap (Base)ExceptionGroup, also on 3.10
        error = error.exceptions[0]
    return error


_caller_var: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="unset")


async def test_task_pool_is_cancelled_with_its_group_which_waits_for_it(runtime: Any) -> None:
    cleaned: list[int] = []

    async def child(label: int) -> None:
        try:
            await anyio.sleep_forever()
        finally:
            # A cleanup that itself takes a moment: the group must wait for it.
            with runtime.move_on_at(runtime.current_time() + 5, shield=True):
                await anyio.sleep(0.01)
            cleaned.append(label)

    async with runtime.open_task_group() as tg:
        pool = runtime.start_task_pool(tg)
        for label in range(3):
            pool.start_soon(child, label, name=f"child {label}")
        await wait_all_tasks_blocked()
        tg.cancel_scope.cancel()
    assert sorted(cleaned) == [0, 1, 2]
    with pytest.raises(RuntimeError):
        pool.start_soon(child, 3)


async def test_task_pool_failure_is_raised_in_its_group(runtime: Any) -> None:
    async def boom() -> None:
        raise ValueError("boom")

    async def run_group() -> None:
        async with runtime.open_task_group() as tg:
            runtime.start_task_pool(tg).start_soon(boom)
            await anyio.sleep_forever()

    with pytest.raises(BaseException) as info:  # noqa: PT011 - a group on both libraries
        await run_group()
    assert isinstance(_innermost(info.value), ValueError)


async def test_task_pool_tasks_have_cancel_scopes_and_the_callers_context(runtime: Any) -> None:
    seen: list[tuple[bool, str]] = []
    done = runtime.create_event()

    async def child() -> None:
        with runtime.move_on_at(runtime.current_time() + 0.01) as scope:
            await anyio.sleep_forever()
        seen.append((scope.cancelled_caught, _caller_var.get()))
        done.set()

    async with runtime.open_task_group() as tg:
        pool = runtime.start_task_pool(tg)
        token = _caller_var.set("caller")
        pool.start_soon(child)
        _caller_var.reset(token)
        await done.wait()
        tg.cancel_scope.cancel()
    assert seen == [(True, "caller")]


async def test_sleep_until(runtime: Any) -> None:
    start = runtime.current_time()
    await runtime.sleep_until(start + 0.02)
    assert runtime.current_time() >= start + 0.02
    # A deadline in the past returns at once (still a checkpoint).
    await runtime.sleep_until(start - 10)


async def test_make_id_and_jitter(runtime: Any) -> None:
    ids = {runtime.make_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 36 for i in ids)
    assert all(0.0 <= runtime.jitter() < 1.0 for _ in range(100))


async def test_tcp_stream_echo_and_eof(runtime: Any) -> None:
    async with echo_server() as port:
        stream = await runtime.default_transport.open(
            url=f"ws://127.0.0.1:{port}/", host="127.0.0.1", port=port, tls=False, ca_file=None
        )
        assert runtime.default_transport.frames_websocket is False
        await send(stream, b"hello relay")
        assert await _receive_exactly(stream, 11) == b"hello relay"
        assert stream.send_from(FakeCore()) is None  # nothing queued: nothing to await
        await send(stream, b"quit")
        core = FakeCore()
        assert await stream.receive_into(core, lambda: 7.0, 65536) is False
        assert core.eof  # EOF is fed to the core as b"", not raised
        assert core.times == [7.0]
        await stream.aclose()
        await stream.aclose()  # idempotent, never raises
        with pytest.raises(TransportClosed):
            await send(stream, b"late")


async def test_tcp_stream_flow_control_both_ways(runtime: Any) -> None:
    # 16 MiB echoed while nobody reads at first: more than the kernel's socket
    # buffers on both sides hold (typically), so the stream's own receive buffer
    # fills up, reading pauses and sends block until the reader catches up.
    # Nothing may be lost, duplicated or reordered.
    payload = bytes(range(256)) * (16 * 4096)
    async with echo_server() as port:
        stream = await runtime.default_transport.open(
            url="", host="127.0.0.1", port=port, tls=False, ca_file=None
        )

        async def send_payload() -> None:
            for i in range(0, len(payload), 65536):
                await send(stream, payload[i : i + 65536])

        async with runtime.open_task_group() as tg:
            tg.start_soon(send_payload)
            await wait_all_tasks_blocked()  # the sender is done or blocked
            core = FakeCore()
            while len(core.received) < len(payload):
                assert await receive(stream, core), "unexpected EOF"
            assert core.received == payload
        await stream.aclose()


async def test_cancelled_receive_loses_no_data(runtime: Any) -> None:
    async with echo_server() as port:
        stream = await runtime.default_transport.open(
            url="", host="127.0.0.1", port=port, tls=False, ca_file=None
        )
        core = FakeCore()
        with runtime.move_on_at(runtime.current_time() + 0.02) as scope:
            await stream.receive_into(core, runtime.current_time, 65536)
        assert scope.cancelled_caught
        assert core.times == []  # nothing was fed
        await send(stream, b"after the cancel")
        assert await _receive_exactly(stream, 16) == b"after the cancel"
        await stream.aclose()


async def test_tcp_nodelay_is_set(runtime: Any) -> None:
    import socket

    async with echo_server() as port:
        stream = await runtime.default_transport.open(
            url="", host="127.0.0.1", port=port, tls=False, ca_file=None
        )
        if isinstance(runtime, TrioRuntime):
            value = stream._stream.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        elif hasattr(stream, "_transport"):  # relay_anyio on asyncio: the loop's transport
            raw = stream._transport.get_extra_info("socket")
            value = raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        else:
            raw = stream._stream.extra(anyio.abc.SocketAttribute.raw_socket)
            value = raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert value != 0
        await stream.aclose()


async def test_connection_refused_is_oserror(runtime: Any) -> None:
    # Bind a port, then close it: nothing listens there any more.
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    with pytest.raises(OSError):  # noqa: PT011 - ConnectionRefusedError or a multi-error OSError
        await runtime.default_transport.open(
            url="", host="127.0.0.1", port=port, tls=False, ca_file=None
        )


async def test_tls_stream_with_custom_ca(runtime: Any, tls_files: TLSFiles) -> None:
    async with echo_server(tls_files.server_context()) as port:
        stream = await runtime.default_transport.open(
            url=f"wss://127.0.0.1:{port}/",
            host="127.0.0.1",
            port=port,
            tls=True,
            ca_file=tls_files.ca_file,
        )
        payload = b"x" * 200_000  # several TLS records
        async with runtime.open_task_group() as tg:
            tg.start_soon(send, stream, payload)
            assert await _receive_exactly(stream, len(payload)) == payload
        await send(stream, b"quit")
        assert await receive(stream) == b""
        await stream.aclose()


async def test_tls_verification_is_on(runtime: Any, tls_files: TLSFiles) -> None:
    async with echo_server(tls_files.server_context()) as port:
        # No ca_file: the system store does not know our private CA.
        with pytest.raises(ssl.SSLCertVerificationError):
            await runtime.default_transport.open(
                url="", host="127.0.0.1", port=port, tls=True, ca_file=None
            )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_signal_receiver(runtime: Any) -> None:
    with runtime.open_signal_receiver(signal.SIGUSR1) as signals:
        os.kill(os.getpid(), signal.SIGUSR1)
        with anyio.fail_after(5):
            async for signum in signals:
                assert signum == signal.SIGUSR1
                break


def test_runtimes_names() -> None:
    assert AnyioRuntime().name == "anyio"
    assert TrioRuntime().name == "trio"
