"""A CI-sized run of every fuzz target (long runs: ``python -m fuzz --minutes N``)."""

from __future__ import annotations

import pytest

from fuzz import TARGETS, run_target


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_target_smoke(name: str) -> None:
    run_target(name, 40, derandomize=True)


@pytest.mark.timeout(30)
def test_fuzz_cli_short_run(capsys: pytest.CaptureFixture[str]) -> None:
    from fuzz.__main__ import main

    assert main(["--minutes", "0.001", "--round", "3", "--target", "text_frames"]) == 0
    assert "no findings" in capsys.readouterr().out
