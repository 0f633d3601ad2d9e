"""What importing the bindings loads, and what it leaves for later (issue 13: import time).

Each check runs in a fresh interpreter: ``sys.modules`` of this test process
has long been filled by other tests.  The modules named here were made lazy
on purpose (they were most of ``import relay_anyio``); a change that imports
one of them eagerly again fails here, not only in ``make bench``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(60)

# Loaded by the first WebSocket connection (relay_proto._ws), never by an import.
WEBSOCKET = ("wsproto", "h11")
# Loaded by the first use of relay_anyio.HttpxWsTransport.
HTTPX = ("relay_anyio._httpx", "httpx", "httpx_ws")


def _loaded_after(code: str, watched: tuple[str, ...]) -> list[str]:
    """The modules of *watched* (or their submodules) loaded after running *code*."""
    probe = (
        f"{code}\n"
        "import json, sys\n"
        f"watched = {watched!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if any(m == w or m.startswith(w + '.') for w in watched))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=50, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    "code",
    [
        "import relay_proto",
        "import relaykit.client",
        "import relay_anyio",
        "from relay_anyio import *",
        "from relay_anyio import RelayClient, Call, Message, PlayEvent, parse_event",
        "import relay_anyio.call, relay_anyio.client, relay_anyio.event, relay_anyio.message",
        "import relay_trio",
        "from relay_trio import *",
    ],
)
def test_importing_loads_no_websocket_library(code: str) -> None:
    assert _loaded_after(code, WEBSOCKET) == []


@pytest.mark.parametrize("code", ["import relay_anyio", "import relay_anyio.client"])
def test_importing_relay_anyio_loads_no_httpx_transport(code: str) -> None:
    assert _loaded_after(code, HTTPX) == []


def test_the_first_websocket_loads_wsproto() -> None:
    # The other side of the deferral: the names are there when a connection opens.
    code = (
        "import sys\n"
        "from relay_proto._ws import WebSocketClient\n"
        "assert 'wsproto' not in sys.modules\n"
        "ws = WebSocketClient('example.com', '/', 1024)\n"
        "ws.start()\n"
        "assert bytes(ws.out).startswith(b'GET / HTTP/1.1'), bytes(ws.out)\n"
    )
    assert "wsproto" in _loaded_after(code, ("wsproto",))


def test_a_star_import_loads_httpx_transport_on_demand() -> None:
    # __all__ names HttpxWsTransport: a star import must resolve it (PEP 562 __getattr__).
    code = (
        "from relay_anyio import *\n"
        "import relay_anyio\n"
        "assert HttpxWsTransport is relay_anyio.HttpxWsTransport\n"
        "assert HttpxWsTransport.__module__ == 'relay_anyio._httpx'\n"
    )
    assert "relay_anyio._httpx" in _loaded_after(code, HTTPX)


def test_every_public_name_is_listed_and_importable() -> None:
    import relay_anyio
    import relay_trio

    for module in (relay_anyio, relay_trio):
        listed = set(dir(module))
        for name in module.__all__:
            assert name in listed, (module.__name__, name)
            assert getattr(module, name) is not None, (module.__name__, name)
    with pytest.raises(AttributeError, match="NoSuchName"):
        relay_anyio.NoSuchName  # noqa: B018
