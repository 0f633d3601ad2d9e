"""The distribution: one version everywhere, the licence, the metadata, the changelog,
and the demo's IVR shipped in the package identical to examples/relay_ivr.py."""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

import pytest

import relay_anyio
import relay_proto
import relay_trio
import relaykit
from relaykit import _cli

pytestmark = pytest.mark.timeout(10)

ROOT = Path(__file__).resolve().parents[2]


def test_one_version_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    version = importlib.metadata.version("relaykit")
    assert relay_proto.__version__ == version
    assert relaykit.__version__ == version
    assert relay_anyio.__version__ == version
    assert relay_trio.__version__ == version
    with pytest.raises(SystemExit) as exc:
        _cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"relaykit {version}\n"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert '\nversion = "' not in pyproject  # no second source


def test_license_and_metadata() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text
    meta = importlib.metadata.metadata("relaykit")
    assert meta["License-Expression"] == "MIT"
    assert "LICENSE" in (meta.get_all("License-File") or [])
    classifiers = meta.get_all("Classifier") or []
    for wanted in (
        "Development Status :: 3 - Alpha",
        "Operating System :: OS Independent",
        "Topic :: Communications :: Telephony",
        *(f"Programming Language :: Python :: 3.{minor}" for minor in range(10, 14)),
    ):
        assert wanted in classifiers
    # PEP 639: an SPDX expression replaces the License :: classifiers.
    assert not [c for c in classifiers if c.startswith("License ::")]
    assert meta["Requires-Python"] == ">=3.10"


def test_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog\n")
    assert "https://keepachangelog.com/en/1.1.0/" in text
    assert "\n## [Unreleased]\n" in text
    assert "\n### Added\n" in text


def test_shipped_demo_ivr_is_the_example() -> None:
    example = (ROOT / "examples" / "relay_ivr.py").read_text()
    shipped_path = Path(relaykit.__file__).parent / "_demo_ivr.py"
    shipped = shipped_path.read_text()
    assert shipped.endswith(example), (
        "relaykit/_demo_ivr.py differs from examples/relay_ivr.py: copy the example "
        "below the header comment"
    )
    header = shipped[: len(shipped) - len(example)].splitlines()
    assert header
    assert all(line.startswith("# ") for line in header)
    assert ast.dump(ast.parse(shipped)) == ast.dump(ast.parse(example))
