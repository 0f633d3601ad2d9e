"""docs/architecture.md's directory matches the tree, both ways.

The "Directory" section lists every Python file of the four packages; "The rest
of the tree" names the other top-level folders and the test suites.  A file added
or removed without updating the page fails here, so the map cannot drift.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "architecture.md"
PACKAGES = ("relay_proto", "relaykit", "relay_anyio", "relay_trio")
# Lines indented this far continue the description column of the line above.
_DESCRIPTION_COLUMN = 16

pytestmark = pytest.mark.timeout(30)


def _section_block(title: str) -> str:
    """The first ```text block after the heading *title*."""
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    match = re.search(r"```text\n(.*?)```", text[start:], re.S)
    assert match is not None, f"no text block under {title!r}"
    return match.group(1)


def listed_paths(block: str) -> set[str]:
    """Paths of an indented tree listing: ``dir/`` opens a folder, deeper lines are in it."""
    paths: set[str] = set()
    stack: list[tuple[int, str]] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        name = line.split()[0]
        if indent >= _DESCRIPTION_COLUMN or not re.fullmatch(r"[\w./-]+", name):
            continue  # a continuation of the previous line's description
        while stack and indent <= stack[-1][0]:
            stack.pop()
        parent = stack[-1][1] if stack else ""
        if name.endswith("/"):
            stack.append((indent, parent + name))
            paths.add(parent + name)
        else:
            paths.add(parent + name)
    return paths


def test_the_parser_reads_nesting() -> None:
    block = "a/\n  b.py   x\n  c/\n    d.py  y\n  e/f.py  z\ng.py\n"
    assert listed_paths(block) == {"a/", "a/b.py", "a/c/", "a/c/d.py", "a/e/f.py", "g.py"}


def _tracked_sources() -> set[str]:
    result = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *PACKAGES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:  # not a git checkout (an sdist): walk the folders
        return {
            p.relative_to(ROOT).as_posix() for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
        }
    return {line for line in result.stdout.splitlines() if line.endswith(".py")}


def test_every_package_file_is_on_the_page_and_every_listed_file_exists() -> None:
    listed = {p for p in listed_paths(_section_block("Directory")) if p.endswith(".py")}
    actual = _tracked_sources()
    assert sorted(actual - listed) == [], "files missing from docs/architecture.md"
    assert sorted(listed - actual) == [], "docs/architecture.md lists files that do not exist"


def test_the_rest_of_the_tree_exists() -> None:
    for path in listed_paths(_section_block("The rest of the tree")):
        assert (ROOT / path).exists(), path
