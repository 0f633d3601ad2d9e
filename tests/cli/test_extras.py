"""Without an extra: ``import relay_anyio``/``relay_trio`` and the ``relaykit`` command
say which one to install.  Each case runs in a subprocess where the module is blocked
(``sys.modules[name] = None``: ``import`` and ``find_spec`` then see it as missing)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(30)


def run_without(module: str, code: str) -> subprocess.CompletedProcess[str]:
    prelude = f"import sys; sys.modules[{module!r}] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        capture_output=True,
        text=True,
        timeout=25,
        check=False,
    )


@pytest.mark.parametrize(("package", "module"), [("relay_anyio", "anyio"), ("relay_trio", "trio")])
def test_import_names_the_extra(package: str, module: str) -> None:
    result = run_without(
        module,
        f"try:\n    import {package}\n"
        "except ImportError as exc:\n    print(type(exc).__name__, exc.name, '|', exc)\n"
        "else:\n    print('imported')\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"ModuleNotFoundError {module} | {package} needs {module}: "
        f"pip install 'relaykit[{module}]'\n"
    )


def test_the_other_extra_is_not_needed() -> None:
    result = run_without("trio", "import relay_anyio; print(relay_anyio.__version__)")
    assert result.returncode == 0, result.stderr


def test_relaykit_command_without_anyio() -> None:
    result = run_without(
        "anyio",
        "from relaykit._cli import main\n"
        "for argv in (['emulator'], ['demo']):\n"
        "    print(main(argv))\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "relaykit emulator: needs anyio, which is not installed: pip install 'relaykit[anyio]'\n"
        "relaykit demo: needs anyio, which is not installed: pip install 'relaykit[anyio]'\n"
    )
    assert result.stdout.startswith("2\n2\nusage: relaykit")
    assert "`relaykit emulator` needs anyio, which is not installed" in result.stdout


def test_call_needs_no_extra() -> None:
    result = run_without(
        "anyio",
        "from relaykit._cli import main\n"
        "print(main(['call', '--url', 'http://127.0.0.1:9', '--context', 'x']))\n",
    )
    assert result.stdout == "2\n", result.stderr
    assert "cannot reach the emulator" in result.stderr


def test_demo_module_without_trio() -> None:
    result = run_without(
        "trio", "from relaykit.demo import main\nprint(main(['--backend', 'trio']))\n"
    )
    assert result.stdout == "2\n", result.stderr
    assert "pip install 'relaykit[trio]'" in result.stderr
