"""The core throughput benchmark runs (tiny N) and verifies its own work."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "core_throughput.py"


@pytest.mark.timeout(60)
def test_core_throughput_smoke(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        sys, "argv", [str(SCRIPT), "--events", "300", "--repeat", "1", "--chunk", "1000"]
    )
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "300 event frames" in out
    assert "300 ACKs verified" in out
