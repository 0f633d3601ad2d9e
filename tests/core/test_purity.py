"""Import rules per layer, checked on every ``import`` in every file (AST walk).

* ``relay_proto`` (the core) stays sans-IO: no event loop, socket, clock,
  thread or randomness.
* ``relaykit.client`` (the object model) imports no event-loop library and no
  socket or TLS module: everything loop-shaped goes through its ``Runtime``.
* ``relaykit.emulator``'s sans-IO server follows the core's rule; only its
  runner modules (``_runner``, ``_serving``, ``_control``, ``_tls``) touch anyio and sockets.
* Nothing outside ``relay_proto`` imports one of its private (``_``) modules.

An import hidden inside a function or a ``TYPE_CHECKING`` block is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import relay_proto
import relaykit

CORE_FORBIDDEN = frozenset(
    {
        "asyncio",
        "anyio",
        "trio",
        "socket",
        "ssl",
        "time",
        "threading",
        "selectors",
        "random",
        "uuid",
    }
)
MODEL_FORBIDDEN = frozenset({"asyncio", "anyio", "trio", "sniffio", "socket", "ssl", "selectors"})
CORE = Path(relay_proto.__file__).resolve().parent
RELAYKIT = Path(relaykit.__file__).resolve().parent
ROOT = CORE.parent
EMULATOR_RUNNER = {"_runner.py", "_serving.py", "_control.py", "_tls.py"}


def imported_modules(source: str, *, package: str = "") -> list[str]:
    """Absolute names of the modules *source* imports (relative ones resolved in *package*)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.append(node.module)
            elif node.level and package:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.append(".".join([*base, node.module] if node.module else base))
    return found


def forbidden_imports(source: str, forbidden: frozenset[str] = CORE_FORBIDDEN) -> list[str]:
    return [n for n in imported_modules(source) if n.split(".")[0] in forbidden]


def test_checker_catches_imports() -> None:
    assert forbidden_imports("import time") == ["time"]
    assert forbidden_imports("def f():\n    from asyncio import sleep") == ["asyncio"]
    assert forbidden_imports("import os.path, random as r") == ["random"]
    assert forbidden_imports("from .time import x\nimport timeit") == []
    assert imported_modules("from .._ws import x", package="relay_proto.api") == ["relay_proto._ws"]


def _ids(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


CORE_FILES = sorted(CORE.rglob("*.py"))
MODEL_FILES = sorted((RELAYKIT / "client").rglob("*.py"))
EMULATOR_FILES = sorted(
    p for p in (RELAYKIT / "emulator").rglob("*.py") if p.name not in EMULATOR_RUNNER
)


def test_packages_have_files() -> None:
    assert {p.name for p in CORE_FILES} >= {"_connection.py", "_session.py", "_ws.py", "rpc.py"}
    assert {p.name for p in MODEL_FILES} >= {"_runtime.py", "_driver.py", "_call.py"}
    assert {p.name for p in EMULATOR_FILES} >= {"_core.py", "_world.py"}


@pytest.mark.parametrize("path", CORE_FILES + EMULATOR_FILES, ids=_ids)
def test_sans_io_layers_import_no_io(path: Path) -> None:
    assert forbidden_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", MODEL_FILES, ids=_ids)
def test_object_model_imports_no_event_loop(path: Path) -> None:
    assert forbidden_imports(path.read_text(encoding="utf-8"), MODEL_FORBIDDEN) == []


OUTSIDE_CORE = sorted(
    p
    for top in ("relaykit", "relay_anyio", "relay_trio", "benchmarks", "examples", "fuzz")
    for p in (ROOT / top).rglob("*.py")
)


@pytest.mark.parametrize("path", OUTSIDE_CORE, ids=_ids)
def test_only_the_core_face_is_imported(path: Path) -> None:
    parts = path.relative_to(ROOT).with_suffix("").parts
    package = ".".join(parts[:-1])  # the module's package, for relative imports
    private = [
        name
        for name in imported_modules(path.read_text(encoding="utf-8"), package=package)
        if name.startswith("relay_proto.") and name.split(".")[1].startswith("_")
    ]
    assert private == []
