"""relay_proto must stay sans-IO: no event loop, socket, clock, thread or randomness imports.

Every ``.py`` file under ``relay_proto/`` (including ``api/`` and ``emulator/``)
is parsed and every ``import``/``from ... import`` checked, so an import hidden
inside a function or a ``TYPE_CHECKING`` block is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import relay_proto

FORBIDDEN = frozenset(
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
PACKAGE = Path(relay_proto.__file__).resolve().parent


def forbidden_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [n for n in names if n.split(".")[0] in FORBIDDEN]
    return found


def test_checker_catches_imports() -> None:
    assert forbidden_imports("import time") == ["time"]
    assert forbidden_imports("def f():\n    from asyncio import sleep") == ["asyncio"]
    assert forbidden_imports("import os.path, random as r") == ["random"]
    assert forbidden_imports("from .time import x\nimport timeit") == []


FILES = sorted(PACKAGE.rglob("*.py"))


def test_package_has_files() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in FILES}
    assert {
        "_connection.py",
        "_session.py",
        "_ws.py",
        "api/_runtime.py",
        "emulator/_core.py",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_io_imports(path: Path) -> None:
    assert forbidden_imports(path.read_text(encoding="utf-8")) == []
