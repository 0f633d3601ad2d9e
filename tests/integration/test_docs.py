"""Every Python example in the docs is a complete program in examples/ that a test runs.

A Python code block in docs/quickstart.md or docs/api.md must start with the line
``# examples/<file>.py`` followed by that file's exact content, and the file must be one
of the examples run against the emulator in test_examples.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .test_examples import EXAMPLES, TESTED_EXAMPLES

pytestmark = pytest.mark.timeout(10)

DOCS = Path(__file__).resolve().parents[2] / "docs"
HEADER = re.compile(r"# examples/([\w.]+\.py)\n")


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.S | re.M)


@pytest.mark.parametrize("doc", ["quickstart.md", "api.md"])
def test_doc_examples_are_tested_files(doc: str) -> None:
    blocks = _python_blocks((DOCS / doc).read_text())
    assert blocks, f"{doc} has no Python examples"
    for block in blocks:
        match = HEADER.match(block)
        assert match, f"{doc}: a Python block does not start with '# examples/<file>.py'"
        name = match.group(1)
        assert block[match.end() :] == (EXAMPLES / name).read_text(), f"{doc}: {name} differs"
        assert name in TESTED_EXAMPLES, f"{doc}: {name} is not run by test_examples.py"


def test_every_example_is_tested() -> None:
    files = {path.name for path in EXAMPLES.glob("*.py") if path.name != "core_blocking.py"}
    assert files <= set(TESTED_EXAMPLES), files - set(TESTED_EXAMPLES)
