"""relaykit's pytest plugin: an emulator and clients pointed at it, as fixtures.

Installed with relaykit (a ``pytest11`` entry point), so pytest loads it in
every run; nothing happens until a test asks for a fixture by name (none is
autouse).  The fixtures are async and run under anyio's pytest plugin, on
asyncio or trio: a test that uses them is ``async def`` and marked
``@pytest.mark.anyio``::

    import pytest
    from relaykit.emulator import Caller

    pytestmark = pytest.mark.anyio

    async def test_menu(relay_emulator, relay_client_factory):
        client = relay_client_factory(contexts=["ivr"])
        client.on_call(handle_call)
        async with client:
            call = await relay_emulator.place_call(context="ivr", script=Caller().press("1"))
            record = await call.wait_ended(timeout=60)

* ``relay_emulator``: a running :class:`~relaykit.emulator.Emulator`, in memory
  (no socket) unless ``@pytest.mark.relay_emulator(loopback=True)``.  Under
  trio's ``MockClock`` (see :func:`relaykit.testing.anyio_backend_for`) it runs
  at ``time_scale=1.0`` in virtual time; on a real clock at
  :data:`~relaykit.testing.REAL_CLOCK_TIME_SCALE`.
* ``relay_client_factory``: :class:`RelayClientFactory`; each call returns a
  new, not yet connected ``RelayClient`` pointed at the emulator with the test
  credentials; clients still connected at teardown are disconnected.

``@pytest.mark.relay_emulator(**options)`` (on a test, a class or a module; the
closest wins per option) takes ``loopback`` and the keyword arguments of
:class:`~relaykit.emulator.Emulator` (``project``, ``token``, ``time_scale``,
``tls_cert``, ``tls_key``, ``ping_interval``...).

The module imports only pytest and the standard library: pytest keeps working
where anyio is not installed, and a test that asks for a fixture then fails
with one line saying what to install.  See ``docs/testing.md``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from relaykit.client import RelayClient
    from relaykit.emulator import Emulator

__all__ = [
    "REAL_CLOCK_CLIENT_OPTIONS",
    "RelayClientFactory",
    "relay_client_factory",
    "relay_emulator",
]

FIXTURES = "relay_emulator / relay_client_factory"

#: ``RelayClient`` timings the factory sets on a real clock (asyncio; trio without
#: ``MockClock``), so that a fault costs a test milliseconds, not the client's
#: production defaults (30 s pings, 1 s first reconnect delay).  Under a virtual
#: clock the factory keeps the client's own defaults: they cost no wall time there.
#: Keyword arguments of the factory override both.
REAL_CLOCK_CLIENT_OPTIONS: dict[str, float] = {
    "request_timeout": 2.0,
    "connect_timeout": 2.0,
    "ping_interval": 0.2,
    "shutdown_grace": 2.0,
    "reconnect_min_delay": 0.02,
    "reconnect_max_delay": 0.2,
}

# What a developer's shell may hold: the factory's clients never read them.
_HIDDEN_ENV = (
    "SIGNALWIRE_PROJECT_ID",
    "SIGNALWIRE_API_TOKEN",
    "SIGNALWIRE_JWT_TOKEN",
    "SIGNALWIRE_SPACE",
    "SIGNALWIRE_RELAY_URL",
    "SIGNALWIRE_RELAY_CA_FILE",
)

_BACKENDS = ("asyncio", "trio")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "relay_timeout",
        "seconds of the test's clock that a test using relay_emulator may run (virtual "
        "seconds under MockClock): default 3600 on a virtual clock; on a real clock 90% of "
        "pytest-timeout's timeout when one is set, else no limit",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "relay_emulator(loopback=False, **options): options of the relay_emulator fixture "
        "(loopback sockets instead of memory; Emulator keyword arguments such as project, "
        "token, time_scale, tls_cert, tls_key)",
    )


def _fail(message: str) -> NoReturn:
    """Fail the test with *message* alone (no traceback into the plugin)."""
    pytest.fail(message, pytrace=False)


#: The default ``relay_timeout`` under a virtual clock: a hang jumps straight to it.
VIRTUAL_TIMEOUT = 3600.0


def _pytest_timeout(item: pytest.Item) -> float | None:
    """pytest-timeout's limit for *item* (its marker, option or ini), if it is installed."""
    marker = item.get_closest_marker("timeout")
    value: Any = None
    if marker is not None:
        value = marker.args[0] if marker.args else marker.kwargs.get("timeout")
    if value is None:
        value = item.config.getoption("timeout", None)
    if value is None:
        try:
            value = item.config.getini("timeout")
        except ValueError:  # pytest-timeout is not installed
            return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def _time_limit(item: pytest.Item, virtual: bool) -> tuple[float | None, str]:
    """The time limit of *item*'s body on its clock (``None``: none), and where it comes from."""
    raw = str(item.config.getini("relay_timeout")).strip()
    if raw:
        try:
            seconds = float(raw)
        except ValueError:
            raise pytest.UsageError(
                f"relay_timeout must be a number of seconds, got {raw!r}"
            ) from None
        return (seconds if seconds > 0 else None), "relay_timeout"
    if virtual:
        return VIRTUAL_TIMEOUT, "the default"
    outer = _pytest_timeout(item)
    if outer is None:
        return None, ""
    # pytest-timeout counts from the start of setup: leave teardown a fifth of the rest.
    started = item.stash.get(_SETUP_STARTED, None)
    left = outer - (time.monotonic() - started) if started is not None else outer
    return max(0.0, 0.8 * left), f"most of what pytest-timeout's {outer:g} s left"


_SETUP_STARTED = pytest.StashKey[float]()


def _seconds(value: float | None) -> str:
    """``3600``, ``0.3``, ``1.36``: a duration for a message."""
    return f"{value or 0.0:.2f}".rstrip("0").rstrip(".")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_SETUP_STARTED] = time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Iterator[None]:
    """Bound a test that uses the fixtures by ``relay_timeout``, inside its event loop.

    A test stopped from outside (pytest-timeout's signal) leaves anyio's runner
    task inside the test, and the async fixtures' teardown then waits for it
    forever.  Cancelled from inside, at the limit, the test fails and its
    fixtures (the emulator, the clients) are torn down as usual.
    """
    original = pyfuncitem.obj
    uses = {"relay_emulator", "relay_client_factory"} & set(pyfuncitem.fixturenames)
    if not uses or not inspect.iscoroutinefunction(original) or hasattr(original, "hypothesis"):
        yield
        return
    backend = str(pyfuncitem.funcargs.get("_relaykit_backend", ""))

    @functools.wraps(original)
    async def bounded(*args: Any, **kwargs: Any) -> Any:
        import anyio

        factory = pyfuncitem.funcargs.get("relay_client_factory")
        if not isinstance(factory, RelayClientFactory):
            factory = None
        opened_before = factory.open_clients() if factory is not None else []
        virtual = _on_virtual_clock(backend)
        limit, source = _time_limit(pyfuncitem, virtual)
        with anyio.CancelScope() as scope:
            if limit is not None:
                scope.deadline = anyio.current_time() + limit
            try:
                return await original(*args, **kwargs)
            finally:
                # Clients the test body left connected: closed here, in the task
                # and the cancel scope that connected them (trio insists on both),
                # so without a scope of our own (disconnect() shields its goodbye).
                # Those connected by fixtures are their fixtures' to close.
                if factory is not None:
                    for client in reversed(factory.open_clients()):
                        if not any(client is other for other in opened_before):
                            await client.disconnect()
        if scope.cancelled_caught:
            clock = "virtual" if virtual else "real"
            _fail(
                f"{pyfuncitem.name} ran past {_seconds(limit)} s ({clock} seconds; {source}): "
                "it waits for something that never happens (give every wait a timeout=); "
                "the relay_timeout ini option sets the limit"
            )
        return None

    pyfuncitem.obj = bounded
    try:
        yield
    finally:
        pyfuncitem.obj = original


@pytest.fixture
def _relaykit_backend(request: pytest.FixtureRequest) -> str:
    """The test's event loop (``asyncio`` or ``trio``), after checking the fixtures can run.

    A synchronous fixture on purpose: it runs before anyio's plugin would be
    needed, so every misuse ends in one clear line instead of an error from
    deep inside pytest or an un-awaited coroutine.
    """
    try:
        import anyio  # noqa: F401
    except ImportError:
        have_anyio = False
    else:
        have_anyio = True
    if not have_anyio:  # outside the except: one line, not a chained traceback
        _fail(
            f"{FIXTURES} run on anyio's pytest plugin, and anyio is not installed: "
            "pip install 'relaykit[anyio]'"
        )
    if not request.config.pluginmanager.has_plugin("anyio"):
        _fail(
            f"{FIXTURES} run on anyio's pytest plugin, which is not active "
            "(disabled with -p no:anyio, or PYTEST_DISABLE_PLUGIN_AUTOLOAD without -p anyio)"
        )
    if "anyio_backend" not in request.fixturenames:
        _fail(
            f"{request.node.name} uses {FIXTURES}, async fixtures of anyio's pytest plugin: "
            "make the test 'async def' and mark it with @pytest.mark.anyio "
            "(or pytestmark = pytest.mark.anyio in the module)"
        )
    backend = request.getfixturevalue("anyio_backend")
    name = backend if isinstance(backend, str) else backend[0]
    if name not in _BACKENDS:
        _fail(f"{FIXTURES} run on asyncio or trio, not on anyio_backend {backend!r}")
    return str(name)


def _on_virtual_clock(backend: str) -> bool:
    """Whether the running loop is trio under ``trio.testing.MockClock``."""
    if backend != "trio":
        return False
    import trio.lowlevel
    import trio.testing

    return isinstance(trio.lowlevel.current_clock(), trio.testing.MockClock)


def _marker_options(node: pytest.Item) -> dict[str, Any]:
    """The ``relay_emulator`` markers' options, the closest marker winning per option."""
    options: dict[str, Any] = {}
    for marker in node.iter_markers("relay_emulator"):
        if marker.args:
            _fail(
                "@pytest.mark.relay_emulator takes keyword arguments only "
                f"(loopback=..., project=..., ...), got {marker.args!r}"
            )
        for key, value in marker.kwargs.items():
            options.setdefault(key, value)
    return options


@pytest.fixture
async def relay_emulator(
    request: pytest.FixtureRequest, _relaykit_backend: str
) -> AsyncIterator[Emulator]:
    """A running emulator: in memory by default, on loopback with ``loopback=True``.

    It accepts :data:`~relaykit.testing.TEST_PROJECT` / ``TEST_TOKEN`` unless the
    ``relay_emulator`` marker says otherwise.  ``time_scale`` is 1.0 under trio's
    ``MockClock`` (virtual time) and :data:`~relaykit.testing.REAL_CLOCK_TIME_SCALE`
    on a real clock.  Loopback sockets need a real clock: under ``MockClock`` the
    time would jump while bytes are in flight in the kernel.
    """
    from relaykit.emulator import Emulator
    from relaykit.testing import REAL_CLOCK_TIME_SCALE, TEST_PROJECT, TEST_TOKEN

    options = _marker_options(request.node)
    loopback = options.pop("loopback", False)
    if not isinstance(loopback, bool):
        _fail(f"@pytest.mark.relay_emulator(loopback=...) takes True or False, got {loopback!r}")
    if "listen" in options:
        _fail("@pytest.mark.relay_emulator: say loopback=True or False, not listen=")
    virtual = _on_virtual_clock(_relaykit_backend)
    if loopback and virtual:
        _fail(
            "@pytest.mark.relay_emulator(loopback=True) needs a real clock, and this test "
            "runs under trio's MockClock: run it on anyio_backend 'trio' (without a clock) "
            "or 'asyncio', e.g. @pytest.mark.parametrize('anyio_backend', ['asyncio'])"
        )
    options.setdefault("project", TEST_PROJECT)
    options.setdefault("token", TEST_TOKEN)
    options.setdefault("time_scale", 1.0 if virtual else REAL_CLOCK_TIME_SCALE)
    try:
        emulator = Emulator(listen=loopback, **options)
    except (TypeError, ValueError) as exc:
        _fail(f"@pytest.mark.relay_emulator: {exc}")
    async with emulator:
        yield emulator


class RelayClientFactory:
    """Makes clients pointed at the test's emulator: the ``relay_client_factory`` fixture.

    Call it to get a new, **not yet connected** client; connect it with
    ``async with client:`` (or ``await client.connect()``) in the test.  Clients
    the test function leaves connected are disconnected when it returns (in its
    task: trio requires it), newest first; any other still connected at the
    fixture's teardown, then.

    Attributes:
        emulator: The test's emulator (the ``relay_emulator`` fixture).
        backend: The test's event loop, ``"asyncio"`` or ``"trio"``.
        virtual_time: Whether the test runs under trio's ``MockClock``.
        clients: Every client made so far, oldest first.
    """

    def __init__(self, emulator: Emulator, backend: str, virtual_time: bool) -> None:
        self.emulator = emulator
        self.backend = backend
        self.virtual_time = virtual_time
        self.clients: list[RelayClient] = []

    def __call__(
        self,
        contexts: list[str] | None = None,
        *,
        adapter: str | ModuleType | Any = "relay_anyio",
        ca_file: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> RelayClient:
        """A new ``RelayClient`` of *adapter* for the emulator, not connected yet.

        Args:
            contexts: The contexts it receives calls and messages on (none by default).
            adapter: ``"relay_anyio"`` (asyncio, or trio through anyio),
                ``"relay_trio"`` (trio only), or a module (or any object) with a
                ``RelayClient`` attribute.
            ca_file: A PEM file of CAs to trust for ``wss://`` (a loopback emulator
                with ``tls_cert``/``tls_key``): what ``SIGNALWIRE_RELAY_CA_FILE``
                says for a program.
            **options: ``RelayClient`` keyword arguments; they win over the
                factory's: ``project``/``token`` (the emulator's test credentials),
                ``url`` and ``transport`` (the emulator's), and on a real clock
                :data:`REAL_CLOCK_CLIENT_OPTIONS`.

        The ``SIGNALWIRE_*`` environment variables are hidden while the client is
        made, so a developer's real credentials or endpoint never reach it.

        Raises:
            ValueError: ``relay_trio`` on asyncio, or an invalid client option.
            TypeError: *adapter* has no ``RelayClient``.
            ModuleNotFoundError: the adapter's extra is not installed.
        """
        from relaykit.testing import TEST_PROJECT, TEST_TOKEN, client_options

        client_class = self._client_class(adapter)
        sessions = self.emulator.server.sessions
        settings: dict[str, Any] = {
            "project": sessions.project or TEST_PROJECT,
            "token": sessions.token or TEST_TOKEN,
            "contexts": list(contexts) if contexts is not None else [],
            **client_options(self.emulator),
        }
        if not self.virtual_time:
            settings.update(REAL_CLOCK_CLIENT_OPTIONS)
        settings.update(options)
        with _hidden_environment(ca_file):
            client = client_class(**settings)
        self.clients.append(client)
        return client  # type: ignore[no-any-return]

    def _client_class(self, adapter: str | ModuleType | Any) -> Any:
        if isinstance(adapter, str):
            module: Any = importlib.import_module(adapter)
        else:
            module = adapter
        client_class = getattr(module, "RelayClient", None)
        if client_class is None:
            raise TypeError(
                f"adapter must be 'relay_anyio', 'relay_trio' or a module with a RelayClient, "
                f"got {adapter!r}"
            )
        name = str(getattr(module, "__name__", ""))
        if name.partition(".")[0] == "relay_trio" and self.backend != "trio":
            raise ValueError(
                f"adapter {name!r} runs on trio, and this test runs on {self.backend}: use "
                "adapter='relay_anyio' here, or run the test on trio (anyio_backend)"
            )
        return client_class

    def open_clients(self) -> list[RelayClient]:
        """The clients made here that are connected or reconnecting, oldest first."""
        # _driver: set from connect() to disconnect(), reconnects included (connected
        # is only true while the session is ready).
        return [client for client in self.clients if client._driver is not None]

    async def aclose(self) -> None:
        """Disconnect every client still connected (newest first); safe to call twice."""
        for client in reversed(self.clients):
            await client.disconnect()

    def __repr__(self) -> str:
        return f"<RelayClientFactory for {self.emulator.url}, {len(self.clients)} client(s)>"


@contextmanager
def _hidden_environment(ca_file: str | os.PathLike[str] | None) -> Iterator[None]:
    """Remove the ``SIGNALWIRE_*`` variables for a synchronous block, then restore them.

    The client reads its CA file only from ``SIGNALWIRE_RELAY_CA_FILE``: *ca_file*,
    when given, is that variable for the block.
    """
    saved = {name: os.environ.pop(name) for name in _HIDDEN_ENV if name in os.environ}
    try:
        if ca_file is not None:
            os.environ["SIGNALWIRE_RELAY_CA_FILE"] = os.fspath(ca_file)
        yield
    finally:
        os.environ.pop("SIGNALWIRE_RELAY_CA_FILE", None)
        os.environ.update(saved)


@pytest.fixture
async def relay_client_factory(
    relay_emulator: Emulator, _relaykit_backend: str
) -> AsyncIterator[RelayClientFactory]:
    """:class:`RelayClientFactory` for the test's emulator; disconnects its clients at teardown."""
    factory = RelayClientFactory(
        relay_emulator, _relaykit_backend, _on_virtual_clock(_relaykit_backend)
    )
    try:
        yield factory
    finally:
        await factory.aclose()
