"""The emulator's modules stay small enough to read in one sitting.

STYLE.md: "Split a module before it reaches ~700 lines" (h11 and wsproto never
go past that).  This keeps the limit kept: a module that grows past it fails
here, and the fix is a split along a real seam, not a raised number.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import relaykit.emulator

#: The limit from STYLE.md; a module must stay strictly below it.
MAX_LINES = 700

EMULATOR = Path(relaykit.emulator.__file__).parent
MODULES = sorted(EMULATOR.glob("*.py"))


def test_the_package_has_its_modules() -> None:
    # Guards the glob: an empty list would make the size test vacuous.
    names = {p.name for p in MODULES}
    assert {"__init__.py", "_core.py", "_actions.py", "_runner.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_is_under_the_line_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines < MAX_LINES, (
        f"relaykit/emulator/{path.name} has {lines} lines (limit {MAX_LINES}): "
        "split it along a real seam (STYLE.md)"
    )
