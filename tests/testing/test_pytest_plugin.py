"""relaykit's pytest plugin, as a user meets it: small test files run by a fresh pytest.

Each test writes a test file into pytester's temporary directory and runs
pytest on it in this process (``runpytest``; the entry point loads the plugin
there as it does for a user), or in a child process where the interpreter
itself must differ (no anyio).  The inner runs use the fixtures on asyncio and
on trio (under ``MockClock``), over memory and loopback, and check that every
misuse ends in one line that says what to do.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(60)

BOTH_BACKENDS = """
import pytest
from relaykit.testing import anyio_backend_for

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return anyio_backend_for(request.param)
"""


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_inner=source)
    return pytester.runpytest("-p", "no:cacheprovider", "-q", *args)


def test_the_plugin_is_loaded_by_its_entry_point(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("-p", "no:cacheprovider", "--fixtures")
    result.stdout.fnmatch_lines(["*relay_emulator*", "*relay_client_factory*"])
    result = pytester.runpytest("-p", "no:cacheprovider", "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.relay_emulator(loopback=False, **options)*"])


def test_a_call_on_asyncio_and_trio(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        BOTH_BACKENDS
        + """
from relaykit.emulator import Caller
from relaykit.testing import REAL_CLOCK_TIME_SCALE, TEST_PROJECT


async def test_inbound_call(relay_emulator, relay_client_factory, anyio_backend_name):
    assert not relay_emulator.listening  # in memory by default
    client = relay_client_factory(contexts=["office"])
    assert not client.connected  # the test connects it
    assert client.project == TEST_PROJECT

    @client.on_call
    async def on_call(call):
        await call.answer()
        await (await call.play([{"type": "tts", "text": "Hi"}])).wait()
        await call.hangup()

    async with client:
        ecall = await relay_emulator.place_call(context="office", script=Caller())
        record = await ecall.wait_ended(timeout=60)
    assert record.prompts == ["Hi"]
    assert record.methods == ["calling.answer", "calling.play", "calling.end"]
    virtual = anyio_backend_name == "trio"
    assert relay_client_factory.virtual_time is virtual
    assert relay_emulator.server.time_scale == (1.0 if virtual else REAL_CLOCK_TIME_SCALE)


async def test_a_minute_of_ringing(relay_emulator, relay_client_factory):
    client = relay_client_factory(contexts=["office"])

    @client.on_call
    async def on_call(call):
        await call.wait_for_ended()  # never answers

    async with client:
        ecall = await relay_emulator.place_call(context="office", script=Caller(ring_timeout=60))
        record = await ecall.wait_ended(timeout=120)
    assert (record.answered, record.end_reason) == (False, "cancel")
""",
    )
    result.assert_outcomes(passed=4)


def test_clients_left_connected_are_disconnected(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        BOTH_BACKENDS
        + """
LEFT = []


async def test_leaves_two_clients_connected(relay_emulator, relay_client_factory, monkeypatch):
    monkeypatch.setenv("RELAY_MAX_CONNECTIONS", "2")
    for name in ("a", "b"):
        client = relay_client_factory(contexts=[name])
        await client.connect()
        LEFT.append((client, relay_emulator))
    assert relay_emulator.subscribed_contexts() == ["a", "b"]


async def test_they_were_disconnected(relay_client_factory):
    client, emulator = LEFT.pop(0)
    assert not client.connected
    assert emulator.subscribed_contexts() == []  # said goodbye before the emulator stopped
    client, emulator = LEFT.pop(0)
    assert not client.connected
    assert len(relay_client_factory.clients) == 0
""",
        "-p",
        "no:randomly",
    )
    result.assert_outcomes(passed=4)


def test_relay_trio_clients_on_trio(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        BOTH_BACKENDS
        + """
import relay_trio


async def test_adapter(relay_emulator, relay_client_factory, anyio_backend_name):
    if anyio_backend_name == "asyncio":
        with pytest.raises(ValueError, match="runs on trio, and this test runs on asyncio"):
            relay_client_factory(adapter="relay_trio")
        return
    for adapter in ("relay_trio", relay_trio):
        client = relay_client_factory(contexts=["office"], adapter=adapter)
        assert isinstance(client, relay_trio.RelayClient)
        async with client:
            assert client.connected


async def test_not_an_adapter(relay_client_factory):
    with pytest.raises(TypeError, match="a module with a RelayClient"):
        relay_client_factory(adapter=pytest)
""",
    )
    result.assert_outcomes(passed=4)


def test_the_environment_does_not_reach_the_clients(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNALWIRE_PROJECT_ID", "real-project")
    monkeypatch.setenv("SIGNALWIRE_API_TOKEN", "real-token")
    monkeypatch.setenv("SIGNALWIRE_JWT_TOKEN", "real-jwt")
    monkeypatch.setenv("SIGNALWIRE_RELAY_URL", "wss://real.example.com")
    monkeypatch.setenv("SIGNALWIRE_RELAY_CA_FILE", "/nonexistent/ca.pem")
    result = run(
        pytester,
        BOTH_BACKENDS
        + """
import os

from relaykit.testing import TEST_PROJECT, TEST_TOKEN


async def test_explicit_settings_only(relay_emulator, relay_client_factory):
    client = relay_client_factory()
    assert (client.project, client.token, client.jwt_token) == (TEST_PROJECT, TEST_TOKEN, "")
    assert client.url == relay_emulator.url
    assert client._config.ca_file is None
    async with client:
        assert client.connected
    assert os.environ["SIGNALWIRE_JWT_TOKEN"] == "real-jwt"  # restored for the program


@pytest.mark.relay_emulator(project="p", token="t")
async def test_the_markers_credentials(relay_client_factory):
    client = relay_client_factory()
    assert (client.project, client.token) == ("p", "t")
    async with client:
        assert client.connected
""",
    )
    result.assert_outcomes(passed=4)


def test_loopback_on_request(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import pytest

pytestmark = [pytest.mark.anyio, pytest.mark.relay_emulator(loopback=True)]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])  # real clocks
async def test_over_a_socket(relay_emulator, relay_client_factory):
    assert relay_emulator.listening
    assert relay_emulator.url == f"ws://127.0.0.1:{relay_emulator.port}"
    client = relay_client_factory(contexts=["office"])
    assert client._transport is None  # the adapter's own TCP transport
    async with client:
        await relay_emulator.wait_for_subscriber("office", timeout=5)


@pytest.mark.relay_emulator(loopback=False, time_scale=0.5)
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_closest_marker_wins(relay_emulator):
    assert not relay_emulator.listening
    assert relay_emulator.server.time_scale == 0.5
""",
    )
    result.assert_outcomes(passed=3)


def test_tls_on_loopback(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(pytester.path / "ca.pem"))
    server = ca.issue_cert("127.0.0.1")
    server.private_key_pem.write_to_path(str(pytester.path / "key.pem"))
    server.cert_chain_pems[0].write_to_path(str(pytester.path / "cert.pem"))
    monkeypatch.setenv("SIGNALWIRE_RELAY_CA_FILE", "/nonexistent/developer-ca.pem")
    result = run(
        pytester,
        """
import os

import pytest

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.relay_emulator(loopback=True, tls_cert="cert.pem", tls_key="key.pem"),
]


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_wss(relay_emulator, relay_client_factory):
    assert relay_emulator.url.startswith("wss://127.0.0.1:")
    client = relay_client_factory(contexts=["office"], ca_file="ca.pem")
    assert os.environ["SIGNALWIRE_RELAY_CA_FILE"] == "/nonexistent/developer-ca.pem"
    async with client:
        assert client.connected
""",
    )
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "def test_sync(relay_emulator):\n    pass\n",
            "*test_sync uses relay_emulator / relay_client_factory, async fixtures of anyio's"
            " pytest plugin: make the test 'async def' and mark it with @pytest.mark.anyio*",
        ),
        (
            "async def test_unmarked(relay_client_factory):\n    pass\n",
            "*test_unmarked uses relay_emulator / relay_client_factory*@pytest.mark.anyio*",
        ),
        (
            BOTH_BACKENDS
            + "@pytest.mark.relay_emulator(bogus=1)\n"
            + "async def test_bogus(relay_emulator):\n    pass\n",
            "*@pytest.mark.relay_emulator: *unexpected keyword argument 'bogus'*",
        ),
        (
            BOTH_BACKENDS
            + "@pytest.mark.relay_emulator(True)\n"
            + "async def test_positional(relay_emulator):\n    pass\n",
            "*@pytest.mark.relay_emulator takes keyword arguments only*",
        ),
        (
            BOTH_BACKENDS
            + "@pytest.mark.relay_emulator(tls_cert='c.pem', tls_key='k.pem')\n"
            + "async def test_tls_in_memory(relay_emulator):\n    pass\n",
            "*@pytest.mark.relay_emulator: an in-memory emulator (listen=False) serves no TLS*",
        ),
    ],
    ids=["sync-test", "unmarked-async-test", "unknown-option", "positional", "tls-in-memory"],
)
def test_misuse_says_what_to_do(pytester: pytest.Pytester, source: str, message: str) -> None:
    result = run(pytester, source)
    result.stdout.fnmatch_lines([message])
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) == 0
    assert outcomes.get("errors", 0) + outcomes.get("failed", 0) >= 1
    result.stdout.no_fnmatch_line("*relaykit/testing/pytest_plugin.py:*")  # no traceback


def test_loopback_under_a_mock_clock_is_refused(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        BOTH_BACKENDS
        + """
@pytest.mark.relay_emulator(loopback=True)
async def test_socket(relay_emulator):
    assert relay_emulator.listening
""",
    )
    result.assert_outcomes(passed=1, errors=1)  # asyncio passes; trio+MockClock is refused
    result.stdout.fnmatch_lines(
        ["*relay_emulator(loopback=True) needs a real clock, and this test runs under trio's*"]
    )


def test_a_hung_test_fails_at_relay_timeout_and_tears_down(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nrelay_timeout = 0.3\n")
    result = run(
        pytester,
        """
import anyio
import pytest

pytestmark = pytest.mark.anyio
DONE = []


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def ivr(relay_client_factory):
    client = relay_client_factory(contexts=["office"])
    async with client:
        yield client
    DONE.append("teardown")


async def test_hangs(relay_emulator, ivr):
    await anyio.Event().wait()  # nothing ever sets it


def test_teardown_ran():
    assert DONE == ["teardown"]
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_hangs ran past 0.3 s (real seconds; relay_timeout)*"])


def test_virtual_time_makes_a_hang_fail_at_once(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import anyio
import pytest
from relaykit.testing import anyio_backend_for

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return anyio_backend_for("trio")


async def test_hangs(relay_emulator):
    await anyio.Event().wait()
""",
        "--timeout",
        "20",  # wall time: never reached, the virtual limit comes first
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ran past 3600 s (virtual seconds; the default)*"])


def test_below_pytest_timeout_on_a_real_clock(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import anyio
import pytest

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.timeout(2)
async def test_hangs(relay_emulator):
    await anyio.Event().wait()
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*test_hangs ran past * s (real seconds; most of what pytest-timeout's 2 s left)*"]
    )


def test_anyio_plugin_disabled(pytester: pytest.Pytester) -> None:
    result = run(pytester, "def test_x(relay_emulator):\n    pass\n", "-p", "no:anyio")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*run on anyio's pytest plugin, which is not active*"])


def test_without_anyio_pytest_works_and_the_fixture_says_what_to_install(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_inner="""
def test_plain():
    assert 1 + 1 == 2


def test_wants_emulator(relay_emulator):
    pass
"""
    )
    # A child pytest where anyio cannot be imported (nor, then, anyio's own plugin).
    pytester.makeconftest(
        """
import importlib.abc
import sys


class HideAnyio(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "anyio":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


assert "anyio" not in sys.modules  # the relaykit plugin did not import it
sys.meta_path.insert(0, HideAnyio())
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:anyio", "-p", "no:cacheprovider", "-q")
    result.stdout.fnmatch_lines(
        [
            "*relay_emulator / relay_client_factory run on anyio's pytest plugin, and anyio is"
            " not installed: pip install 'relaykit[[]anyio]'*",
            "*1 passed, 1 error*",
        ]
    )
    result.stdout.no_fnmatch_line("*During handling of the above exception*")
