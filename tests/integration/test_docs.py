"""The documentation is true: its programs run, its commands parse, its links resolve.

* Every ```python block in README.md and docs/**/*.md is an example file: the line
  ``# examples/<path>.py`` followed by that file's exact content (below the file's
  ``#!`` line when it has one, so the shebang stays first), and the file is run
  against the emulator by the test that ``TESTED_EXAMPLES`` (test_examples.py)
  names for it.  API listings and signatures are ```text blocks instead.
* Every file under examples/ is registered there (so none goes untested).
* Every ``relaykit ...`` command shown in a shell block is accepted by the real
  argument parser, every ``make <target>`` exists in the Makefile, and every
  ``python <file>`` / ``python -m <module>`` names a file or module that exists.
* Every docs page is in the mkdocs nav, and every relative link points to a file.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from relaykit._cli import _parser

from .test_examples import EXAMPLES, TESTED_EXAMPLES

pytestmark = pytest.mark.timeout(10)

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
# An optional shebang line (the file's own first line), then the file's name.
HEADER = re.compile(r"(#![^\n]*\n)?# examples/([\w./-]+\.py)\n")
FENCE = re.compile(r"^( *)```([\w+-]*)[^\n]*\n(.*?)^\1```[ \t]*$", flags=re.S | re.M)


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _example_block(name: str) -> str:
    """The body of the ```python block that shows examples/*name*: its shebang line
    (if any), then ``# examples/<name>``, then the rest of the file."""
    source = (EXAMPLES / name).read_text()
    shebang = ""
    if source.startswith("#!"):
        shebang, _, source = source.partition("\n")
        shebang += "\n"
    return f"{shebang}# examples/{name}\n{source}"


def _blocks(path: Path) -> list[tuple[str, str]]:
    """(language, dedented body) of every fenced block of *path*."""
    found = []
    for match in FENCE.finditer(path.read_text()):
        indent = len(match.group(1))
        body = "".join(line[indent:] for line in match.group(3).splitlines(keepends=True))
        found.append((match.group(2), body))
    return found


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_python_blocks_are_tested_example_files(page: Path) -> None:
    for language, block in _blocks(page):
        assert language not in ("py", "python3", "py3"), (
            f"{_page_id(page)}: use ```python (a tested example) or ```text (a listing)"
        )
        if language != "python":
            continue
        match = HEADER.match(block)
        assert match, (
            f"{_page_id(page)}: a ```python block does not start with '# examples/<path>.py':\n"
            f"{block[:200]}"
        )
        name = match.group(2)
        path = EXAMPLES / name
        assert path.is_file(), f"{_page_id(page)}: examples/{name} does not exist"
        assert block == _example_block(name), (
            f"{_page_id(page)}: the block differs from examples/{name} "
            "(after editing the file: python -m tests.integration.test_docs)"
        )
        assert name in TESTED_EXAMPLES, f"{_page_id(page)}: examples/{name} is not run by a test"


def test_every_example_is_registered_and_exists() -> None:
    files = {p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.py")}
    files = {f for f in files if "__pycache__" not in f}
    assert files - set(TESTED_EXAMPLES) == set(), "examples without a test"
    assert set(TESTED_EXAMPLES) - files == set(), "registered examples that do not exist"
    for name, test in TESTED_EXAMPLES.items():
        assert callable(test), name
        assert test.__name__.startswith("test_"), name


def test_readme_example_is_readme_ivr() -> None:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Example\n", 1)[1].split("\n## ", 1)[0]
    assert "```python\n# examples/readme_ivr.py\n" in section


# --------------------------------------------------------------------------
# Shell commands shown in the docs
# --------------------------------------------------------------------------


def _commands(page: Path) -> list[list[str]]:
    """The commands of the bash/console blocks of *page*, split like a shell would."""
    commands = []
    for language, block in _blocks(page):
        if language not in ("bash", "console", "sh", "shell"):
            continue
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            if language == "console":
                if not line.startswith("$ "):
                    continue  # program output
                line = line[2:]
            words = shlex.split(line, comments=True)
            while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
                words.pop(0)  # VAR=value prefixes
            if words and words[-1] == "&":
                words.pop()
            if words:
                commands.append(words)
    return commands


ALL_COMMANDS = [(page, words) for page in PAGES for words in _commands(page)]


def _makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([\w-]+):", text, flags=re.M))


@pytest.mark.parametrize(
    ("page", "words"),
    [
        (p, w)
        for p, w in ALL_COMMANDS
        if Path(w[0]).name in ("relaykit", "make") or Path(w[0]).name.startswith("python")
    ],
    ids=lambda value: _page_id(value) if isinstance(value, Path) else " ".join(value)[:60],
)
def test_shown_commands_exist(page: Path, words: list[str], capsys: Any) -> None:
    if words[0] == "make":
        assert set(words[1:]) <= _makefile_targets(), f"{_page_id(page)}: {words}"
        return
    if Path(words[0]).name.startswith("python"):
        if words[1] == "-m":
            assert importlib.util.find_spec(words[2]), f"{_page_id(page)}: no module {words[2]}"
        elif not words[1].startswith("my_"):  # my_app.py: the reader's own program
            assert (ROOT / words[1]).is_file(), f"{_page_id(page)}: no file {words[1]}"
        return
    try:
        _parser().parse_args(words[1:])
    except SystemExit as exc:  # argparse reports unknown options this way
        pytest.fail(f"{_page_id(page)}: {' '.join(words)}: {capsys.readouterr().err}")
        raise AssertionError from exc


def test_the_two_commands_of_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "## Two commands" in readme
    assert ["make", "demo"] in _commands(ROOT / "README.md")
    assert ["make", "test"] in _commands(ROOT / "README.md")


# --------------------------------------------------------------------------
# mkdocs nav and links
# --------------------------------------------------------------------------


def _nav_files() -> list[str]:
    """The pages of mkdocs.yml's nav (``- Title: page.md`` items; read without a YAML
    library, which is not a test dependency)."""
    text = (ROOT / "mkdocs.yml").read_text()
    nav = re.split(r"^nav:\s*$", text, flags=re.M)[1]
    nav = re.split(r"^\S", nav, flags=re.M)[0]  # up to the next top-level key
    return re.findall(r"^\s*-\s*(?:[^:\n]+:\s*)?([\w./-]+\.md)\s*$", nav, flags=re.M)


def test_mkdocs_nav_lists_every_page() -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    assert re.search(r"^theme:\n\s+name: material$", config, flags=re.M)
    nav = _nav_files()
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert sorted(nav) == pages
    assert len(nav) == len(set(nav)), "a page is listed twice"


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_relative_links_point_to_files(page: Path) -> None:
    text = FENCE.sub("", page.read_text())  # links inside code blocks are not links
    text = re.sub(r"`[^`\n]*`", "", text)
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # http(s)://, mailto:, in-page anchors
        path = (page.parent / target.split("#", 1)[0]).resolve()
        assert path.exists(), f"{_page_id(page)}: broken link {target}"


# --------------------------------------------------------------------------
# python -m tests.integration.test_docs: copy the example files into the docs
# --------------------------------------------------------------------------


def sync_docs() -> list[str]:
    """Rewrite every ``# examples/<path>.py`` block from its file; returns the pages changed."""
    changed = []
    for page in PAGES:
        text = page.read_text()

        def refresh(match: re.Match[str]) -> str:
            header = HEADER.match(match.group(3))
            if match.group(2) != "python" or match.group(1) or header is None:
                return match.group(0)
            return f"```python\n{_example_block(header.group(2))}```"

        new = FENCE.sub(refresh, text)
        if new != text:
            page.write_text(new)
            changed.append(_page_id(page))
    return changed


if __name__ == "__main__":
    for name in sync_docs():
        print(f"updated {name}")
