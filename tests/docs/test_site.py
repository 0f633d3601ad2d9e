"""The docs site builds with ``mkdocs build --strict``, and its API reference is complete.

The build runs once per session into a temporary directory (about 5-15 s).  Strict mode
turns every warning into a failure: a link or anchor that does not resolve, a page
missing from the nav, a ``:::`` reference to an object that does not exist, a docstring
argument that is not in the signature.  The tests below then read the built HTML:
every page is there, and the generated reference documents every public class users
import (the client, calls, actions, messages, events, errors, the sans-IO connection)
and every argument of ``RelayClient``.

Needs the ``docs`` extra (``pip install -e '.[docs]'``); skipped, saying so, without it.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

import relay_anyio
import relay_proto
from relaykit.client import Action

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

pytestmark = pytest.mark.timeout(300)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package of a dotted name is missing
        return False


# mkdocs, mkdocs-material, mkdocstrings and its Python handler (mkdocstrings[python]).
_MISSING = [
    name
    for name in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
    if not _installed(name)
]
if sys.version_info < (3, 11):
    pytest.skip(
        "the docs site builds on Python 3.11+ (the docs extra installs nothing on 3.10: "
        "see pyproject.toml); the other interpreters' runs build it",
        allow_module_level=True,
    )
if _MISSING:
    pytest.skip(
        f"the docs tools are not installed ({', '.join(_MISSING)} missing): "
        "pip install -e '.[docs]'",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``mkdocs build --strict`` of the checkout into a temporary directory."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # material's banner, not a warning
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr[-4000:]}"
    assert "WARNING" not in proc.stderr, proc.stderr[-4000:]
    return out


def _page(site: Path, markdown: str) -> Path:
    """The HTML file mkdocs writes for docs/*markdown* (directory URLs)."""
    stem = markdown.removesuffix(".md")
    if stem == "index":
        return site / "index.html"
    if stem.endswith("/index"):
        return site / stem.removesuffix("index") / "index.html"
    return site / stem / "index.html"


def _ids(html: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html.read_text()))


def test_every_docs_page_is_built(site: Path) -> None:
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert "index.md" in pages
    for page in pages:
        assert _page(site, page).is_file(), f"docs/{page} was not built"
    for image in DOCS.rglob("*.png"):
        assert (site / image.relative_to(DOCS)).is_file(), f"docs image {image} not copied"


REFERENCE = ["client", "call", "actions", "message", "events", "errors", "connection"]


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_page_is_generated(site: Path, name: str) -> None:
    html = _page(site, f"reference/{name}.md").read_text()
    # mkdocstrings output (not hand-written markdown): a rendered signature.
    assert 'class="doc doc-object doc-class"' in html
    assert "doc-signature" in html


def _public(module: object, names: list[str], base: type) -> list[str]:
    return sorted(
        name
        for name in names
        if inspect.isclass(cls := getattr(module, name))
        and issubclass(cls, base)
        and cls.__name__ == name  # not an alias such as CallStateEvent
    )


def test_reference_documents_every_action_and_error(site: Path) -> None:
    actions = _ids(_page(site, "reference/actions.md"))
    errors = _ids(_page(site, "reference/errors.md"))
    names = list(relay_anyio.__all__)
    for name in _public(relay_anyio, names, Action):
        assert f"relay_anyio.{name}" in actions, f"{name} is not in reference/actions.md"
    for name in _public(relay_anyio, names, relay_anyio.RelayError):
        assert f"relay_anyio.{name}" in errors, f"{name} is not in reference/errors.md"
    assert "relay_anyio.Call" in _ids(_page(site, "reference/call.md"))
    assert "relay_anyio.Message" in _ids(_page(site, "reference/message.md"))


def test_reference_documents_every_event(site: Path) -> None:
    ids = _ids(_page(site, "reference/events.md")) | _ids(_page(site, "reference/connection.md"))
    events = _public(relay_proto, list(relay_proto.__all__), relay_proto.Event)
    assert "CallStateChanged" in events  # the lookup itself works
    missing = [name for name in events if f"relay_proto.{name}" not in ids]
    assert missing == [], "events missing from reference/events.md or connection.md"


def test_reference_documents_relay_connection(site: Path) -> None:
    ids = _ids(_page(site, "reference/connection.md"))
    methods = [
        name
        for name, _ in inspect.getmembers(relay_proto.RelayConnection)
        if not name.startswith("_")
    ]
    assert "receive_data" in methods
    for name in methods:
        assert f"relay_proto.RelayConnection.{name}" in ids, name


def test_every_relay_client_argument_is_described(site: Path) -> None:
    """The Parameters table (from the docstring's Args) has every argument of the
    signature, each with a description: what the hand-written list used to miss."""
    html = _page(site, "reference/client.md").read_text()
    described = dict(
        re.findall(
            r'<tr class="doc-section-item">\s*<td>\s*<code>(\w+)</code>.*?'
            r'<div class="doc-md-description">\s*(.*?)\s*</div>',
            html,
            flags=re.S,
        )
    )
    arguments = list(inspect.signature(relay_anyio.RelayClient).parameters)
    assert "reconnect_min_delay" in arguments
    for name in arguments:
        assert described.get(name, "").strip(), f"RelayClient({name}=...) is not described"


def test_index_shows_install_and_example_with_copy_buttons(site: Path) -> None:
    html = (site / "index.html").read_text()
    text = unescape(re.sub(r"<[^>]+>", "", html))  # what the reader sees
    assert "pip install '.[anyio]'" in text
    assert "pip install 'relaykit[anyio]'" in text
    assert "from relay_anyio import RelayClient" in text  # the example
    assert "content.code.copy" in html  # material's copy button on code blocks
