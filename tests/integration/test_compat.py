"""A ``signalwire.relay`` program runs with only its import lines changed.

The official SDK spreads its names over submodules (``signalwire.relay.call``,
``.message``, ``.event``, ``.constants``, ``.client``); seed programs import from
them (``from signalwire.relay.call import Call``).  Every public name of each of
those modules must exist under the same submodule of both adapters.
"""

from __future__ import annotations

import importlib
import types

import pytest

official = pytest.importorskip("signalwire.relay")

SUBMODULES = ["call", "message", "event", "constants", "client"]


# Implementation details of the official modules, not API.
_NOT_API = {"get_logger", "TYPE_CHECKING", "annotations"}


def _public(module: object) -> set[str]:
    """Constants and the SDK's own classes/functions a program could import from *module*."""
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or name in _NOT_API or isinstance(value, types.ModuleType):
            continue
        if name.isupper() or str(getattr(value, "__module__", "")).startswith("signalwire"):
            names.add(name)
    return names


@pytest.mark.parametrize("adapter", ["relay_anyio", "relay_trio"])
@pytest.mark.parametrize("submodule", SUBMODULES)
def test_submodule_names_match_the_official_sdk(adapter: str, submodule: str) -> None:
    theirs = importlib.import_module(f"signalwire.relay.{submodule}")
    ours = importlib.import_module(f"{adapter}.{submodule}")
    missing = sorted(n for n in _public(theirs) if not hasattr(ours, n))
    assert not missing, f"{adapter}.{submodule} lacks {missing}"


@pytest.mark.parametrize("adapter", ["relay_anyio", "relay_trio"])
def test_package_names_match_the_official_sdk(adapter: str) -> None:
    ours = importlib.import_module(adapter)
    missing = sorted(n for n in official.__all__ if not hasattr(ours, n))
    assert not missing, f"{adapter} lacks {missing}"


@pytest.mark.parametrize("adapter", ["relay_anyio", "relay_trio"])
def test_submodule_client_is_the_bound_client(adapter: str) -> None:
    package = importlib.import_module(adapter)
    client = importlib.import_module(f"{adapter}.client")
    call = importlib.import_module(f"{adapter}.call")
    assert client.RelayClient is package.RelayClient
    assert call.Call is package.Call
    assert importlib.import_module(f"{adapter}.event").PlayEvent is package.PlayStateChanged
