"""Runtime tests that are not simple per-runtime conformance: MockClock, run(), imports."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from typing import Any

import anyio
import anyio.lowlevel
import pytest
import trio.testing

from relay_anyio import AnyioRuntime
from relay_trio import TrioRuntime

TRIO_RUNTIMES = [
    pytest.param(AnyioRuntime(backend="trio"), id="anyio-trio"),
    pytest.param(TrioRuntime(), id="trio"),
]


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    # autojump_threshold=0: whenever every task is blocked, jump to the next deadline.
    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


@pytest.mark.anyio
@pytest.mark.timeout(5)
@pytest.mark.parametrize("runtime", TRIO_RUNTIMES)
async def test_mock_clock_drives_deadlines(runtime: Any) -> None:
    real_start = time.monotonic()
    start = runtime.current_time()
    await runtime.sleep_until(start + 86_400)  # a day
    assert runtime.current_time() >= start + 86_400

    deadline = runtime.current_time() + 3_600
    with runtime.move_on_at(deadline) as scope:
        await runtime.create_event().wait()
    assert scope.cancelled_caught
    assert runtime.current_time() == pytest.approx(deadline)

    # A timer task and a waiter, as the driver has them: the earlier deadline wins.
    fired: list[str] = []

    async def timer(label: str, at: float) -> None:
        await runtime.sleep_until(at)
        fired.append(label)

    now = runtime.current_time()
    async with runtime.open_task_group() as tg:
        tg.start_soon(timer, "late", now + 30)
        tg.start_soon(timer, "early", now + 10)
    assert fired == ["early", "late"]
    assert time.monotonic() - real_start < 2  # no real waiting happened


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "runtime",
    [
        pytest.param(AnyioRuntime(), id="anyio-asyncio"),
        pytest.param(AnyioRuntime(backend="trio"), id="anyio-trio"),
        pytest.param(TrioRuntime(), id="trio"),
    ],
)
def test_run_returns_the_result(runtime: Any) -> None:
    async def main() -> str:
        await runtime.sleep_until(runtime.current_time() + 0.001)
        import sniffio

        return sniffio.current_async_library()

    expected = "asyncio" if getattr(runtime, "backend", "trio") == "asyncio" else "trio"
    assert runtime.run(main) == expected


@pytest.mark.timeout(10)
def test_run_propagates_errors() -> None:
    async def main() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        TrioRuntime().run(main)
    with pytest.raises(KeyError):
        AnyioRuntime().run(main)


@pytest.mark.timeout(10)
def test_uvloop_preference_without_uvloop(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("RELAYKIT_UVLOOP", "1")
    monkeypatch.setitem(sys.modules, "uvloop", None)  # "not installed"

    async def main() -> int:
        await anyio.lowlevel.checkpoint()
        return 7

    with caplog.at_level(logging.WARNING, logger="relaykit.anyio"):
        assert AnyioRuntime().run(main) == 7
    assert "uvloop is not installed" in caplog.text


@pytest.mark.timeout(30)
def test_relay_trio_never_imports_anyio() -> None:
    code = (
        "import sys\n"
        "import relaykit.client\n"
        "assert 'anyio' not in sys.modules, 'relaykit.client imported anyio'\n"
        "import relay_trio\n"
        "from relay_trio import RelayClient, open_client, Call, EVENT_CALL_STATE\n"
        "bad = sorted(m for m in sys.modules if m == 'anyio' or m.startswith('anyio.'))\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=25, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_relay_trio_client_is_bound_to_trio() -> None:
    import relay_anyio
    import relay_trio

    assert isinstance(relay_trio.RelayClient._runtime, TrioRuntime)
    assert isinstance(relay_anyio.RelayClient._runtime, AnyioRuntime)
    # The object model is shared, not subclassed per adapter.
    assert relay_trio.Call is relay_anyio.Call
    assert relay_trio.PlayAction is relay_anyio.PlayAction
    assert set(relay_trio.__all__) - {
        "TrioRuntime",
        "TrioStream",
        "TrioTransport",
        "open_client",
    } == (
        set(relay_anyio.__all__)
        - {"AnyioRuntime", "AnyioStream", "AnyioTransport", "HttpxWsTransport"}
    )
